/** Percentiles, medians and a plain-text table printer for the benchmarks. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Rounds for printing and for the JSON results (3 significant decimals at most). */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function fmt(value: number | string | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return '-';
  return value.toFixed(digits);
}

/** Prints rows as an aligned text table. */
export function printTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  console.log(line(headers));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
}

export interface TargetCheck {
  what: string;
  target: string;
  value: number | null;
  unit: string;
  met: boolean | null;
}

/** A target line: `met` is null when the figure could not be measured. */
export function check(what: string, value: number | null, op: '<=' | '>=' | '<', limit: number, unit: string): TargetCheck {
  const met = value === null || !Number.isFinite(value) ? null : op === '<=' ? value <= limit : op === '>=' ? value >= limit : value < limit;
  return { what, target: `${op} ${limit}${unit ? ' ' + unit : ''}`, value: value === null || !Number.isFinite(value) ? null : round(value), unit, met };
}

export function printTargets(targets: readonly TargetCheck[]): void {
  if (targets.length === 0) return;
  console.log('\nTargets:');
  printTable(
    ['what', 'target', 'measured', 'status'],
    targets.map((target) => [target.what, target.target, target.value === null ? 'n/a' : `${fmt(target.value, 3)} ${target.unit}`.trim(), target.target === 'reported' ? 'reported' : target.met === null ? 'NOT MEASURED' : target.met ? 'met' : 'MISSED']),
  );
}

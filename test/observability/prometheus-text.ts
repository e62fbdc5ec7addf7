/** A strict reader of the Prometheus text exposition format 0.0.4, for tests: any malformed line throws. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of one series; undefined when it is absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
// Prometheus reads values with Go's ParseFloat, which ignores case in NaN: prom-client writes `Nan`.
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]Inf|[Nn][Aa][Nn])';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(\\{(?:${LABEL_NAME}=${LABEL_VALUE}(?:,${LABEL_NAME}=${LABEL_VALUE})*,?)?\\})? (${VALUE})(?: -?\\d+)?$`);
const LABEL_PAIR = new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, 'g');

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text.toLowerCase() === 'nan') return NaN;
  return Number(text);
}

function unescape(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(["\\n])/g, (_match, character: string) => (character === 'n' ? '\n' : character));
}

/** The family a sample belongs to: histogram and summary samples carry suffixes. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const type = types.get(base);
      if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
    }
  }
  return undefined;
}

export function parsePrometheusText(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = TYPE_LINE.exec(line);
      if (type) {
        if (types.has(type[1]!)) throw new Error(`line ${index + 1}: a second TYPE for ${type[1]}`);
        types.set(type[1]!, type[2]!);
        continue;
      }
      if (HELP_LINE.test(line)) continue;
      throw new Error(`line ${index + 1}: malformed comment: ${line}`);
    }
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`line ${index + 1}: malformed sample: ${line}`);
    const name = match[1]!;
    if (familyOf(name, types) === undefined) throw new Error(`line ${index + 1}: ${name} has no TYPE before it`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(LABEL_PAIR)) labels[pair[1]!] = unescape(pair[2]!);
    samples.push({ name, labels, value: parseValue(match[3]!) });
  }
  checkHistograms(types, samples);
  return {
    types,
    samples,
    value(name, labels = {}) {
      const found = samples.find((sample) => sample.name === name && Object.keys(labels).length === Object.keys(sample.labels).length && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
      return found?.value;
    },
  };
}

/** Buckets are cumulative, end with +Inf, and +Inf equals _count, series by series. */
function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { buckets: Array<{ le: number; value: number }>; count?: number }>();
    for (const sample of samples) {
      const isBucket = sample.name === `${family}_bucket`;
      if (!isBucket && sample.name !== `${family}_count`) continue;
      const { le, ...rest } = sample.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      const entry = series.get(key) ?? { buckets: [] };
      if (isBucket) {
        if (le === undefined) throw new Error(`${family}_bucket without le`);
        entry.buckets.push({ le: parseValue(le), value: sample.value });
      } else {
        entry.count = sample.value;
      }
      series.set(key, entry);
    }
    for (const [key, entry] of series) {
      const sorted = [...entry.buckets].sort((a, b) => a.le - b.le);
      for (let index = 1; index < sorted.length; index++) {
        if (sorted[index]!.value < sorted[index - 1]!.value) throw new Error(`${family} ${key}: buckets are not cumulative`);
      }
      const last = sorted.at(-1);
      if (!last || last.le !== Infinity) throw new Error(`${family} ${key}: no +Inf bucket`);
      if (last.value !== entry.count) throw new Error(`${family} ${key}: +Inf bucket ${last.value} differs from _count ${entry.count}`);
    }
  }
}

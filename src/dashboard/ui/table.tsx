import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface Column<Row> {
  key: string;
  label: string;
  /** What the column sorts by. */
  value(row: Row): number | string | null;
  render?(row: Row): ComponentChildren;
  numeric?: boolean;
}

export interface SortTableProps<Row> {
  columns: Array<Column<Row>>;
  rows: Row[];
  rowKey(row: Row): string;
  initialSort?: { key: string; descending: boolean };
  empty?: string;
  testId?: string;
}

function compare(a: number | string | null, b: number | string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

/** A table whose column headers sort it (click again to reverse); it scrolls sideways on a narrow screen. */
export function SortTable<Row>({ columns, rows, rowKey, initialSort, empty = 'Nothing yet', testId }: SortTableProps<Row>) {
  const [sort, setSort] = useState(initialSort ?? null);
  const column = sort ? columns.find((candidate) => candidate.key === sort.key) : undefined;
  const sorted = column && sort ? [...rows].sort((a, b) => compare(column.value(a), column.value(b)) * (sort.descending ? -1 : 1)) : rows;
  return (
    <div class="table-scroll">
      <table data-testid={testId}>
        <thead>
          <tr>
            {columns.map((candidate) => {
              const active = sort?.key === candidate.key;
              return (
                <th key={candidate.key} class={candidate.numeric ? 'num' : ''} aria-sort={active ? (sort?.descending ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" class="sort" onClick={() => setSort({ key: candidate.key, descending: active ? !sort?.descending : Boolean(candidate.numeric) })}>
                    {candidate.label}
                    <span aria-hidden="true">{active ? (sort?.descending ? ' ▼' : ' ▲') : ''}</span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {sorted.length === 0 ? (
            <tr>
              <td colSpan={columns.length} class="empty">
                {empty}
              </td>
            </tr>
          ) : (
            sorted.map((row) => (
              <tr key={rowKey(row)}>
                {columns.map((candidate) => (
                  <td key={candidate.key} class={candidate.numeric ? 'num' : ''} data-label={candidate.label}>
                    {candidate.render ? candidate.render(row) : String(candidate.value(row) ?? '—')}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

/** The queries in sql/analytics/, by file name. */
export const QUERIES = [
  'volume-by-day',
  'top-topics',
  'top-places',
  'hotspots',
  'unit-rates',
  'daily-cells',
  'compare',
  'requests',
  'repeat-callers',
  'totals',
] as const;
export type QueryName = (typeof QUERIES)[number];

export type SqlValue = string | number | boolean;
export type QueryParams = Record<string, SqlValue>;
export type Row = Record<string, string | number | boolean | null>;

/** Runs the shared SQL on one engine (DuckDB locally, Athena in AWS). */
export interface AnalyticsQueries {
  run(name: QueryName, params: QueryParams): Promise<Row[]>;
}

/**
 * `:name` placeholders to positional `?`, the one parameter style DuckDB and Athena share. A
 * name may appear several times; a missing one is an error, not an empty string.
 */
export function bindNamed(sql: string, params: QueryParams): { sql: string; values: SqlValue[] } {
  const values: SqlValue[] = [];
  const text = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .replace(/:([a-z][a-z_]*)/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`query parameter :${name} is not given`);
      values.push(value);
      return '?';
    });
  return { sql: text, values };
}

/** The first and last day of a month (YYYY-MM). */
export function monthRange(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

/** How long after a month its tickets' changes are still read (late replies, surveys, reopens). */
export const CHANGES_READ_DAYS = 62;

/** The parameters that select a month's tickets in their latest state. */
export function monthParams(month: string): { from: string; to: string; through: string } {
  const { from, to } = monthRange(month);
  return { from, to, through: addDays(to, CHANGES_READ_DAYS) };
}

/** A YYYY-MM-DD day moved by n days. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

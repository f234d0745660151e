import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

/**
 * A bench script's command line: `--help` (or `-h`) prints `usage` and exits 0; an unknown or
 * malformed option prints what is wrong and the usage, and exits 2 (parseArgs alone throws).
 */
export function cli<const T extends ParseArgsOptionsConfig>(usage: string, options: T) {
  const config = {
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  } as const;
  let values: ReturnType<typeof parseArgs<typeof config>>['values'];
  try {
    values = parseArgs(config).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

/** One printed table of a benchmark: what a reader compares. */
export interface Table {
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
  notes?: string[];
}

export interface BenchResult {
  name: string;
  title: string;
  tables: Table[];
  /** Everything measured, for bench/results/<name>.json. */
  data: Record<string, unknown>;
}

export interface Machine {
  date: string;
  node: string;
  cpu: string;
  cpus: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  loadAverage: number[];
}

export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    loadAverage: loadavg().map((l) => round(l, 2)),
  };
}

/** Prints a benchmark's tables and the machine it ran on. */
export function printResult(result: BenchResult, seconds: number): Machine {
  const info = machine();
  console.log(`\n═══ ${result.title} ═══`);
  for (const table of result.tables) console.log(formatTable(table));
  console.log(
    `\n  ${info.date} · ${info.cpu} × ${info.cpus} · ${info.memoryGiB} GiB · load ${info.loadAverage.join(' ')} · node ${info.node} · ${seconds.toFixed(1)} s`,
  );
  return info;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function formatTable(table: Table): string {
  const cells = [
    table.columns,
    ...table.rows.map((r) => r.map((c) => (c === null ? '—' : String(c)))),
  ];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? pad(c, widths[i]!) : padStart(c, widths[i]!))).join('  ');
  const out = [`\n${table.title}`, line(cells[0]!), widths.map((w) => '─'.repeat(w)).join('  ')];
  for (const r of cells.slice(1)) out.push(line(r));
  for (const note of table.notes ?? []) out.push(`  · ${note}`);
  return out.join('\n');
}

/** Display width: CJK characters take two columns. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u3000-\u9fff\uff00-\uffef]/.test(ch) ? 2 : 1;
  return w;
}
const pad = (t: string, w: number) => t + ' '.repeat(Math.max(0, w - width(t)));
const padStart = (t: string, w: number) => ' '.repeat(Math.max(0, w - width(t))) + t;

/** Benchmarks talk to this machine only. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    throw new Error(`a benchmark refuses to talk to ${url}`);
  }
}

export type Api = (
  method: string,
  path: string,
  options?: { token?: string; body?: unknown },
) => Promise<{
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads whatever JSON the API answered
  body: any;
  text: string;
}>;

export function apiClient(base: string, onRequest?: () => void): Api {
  assertLoopback(base);
  return async (method, path, options = {}) => {
    onRequest?.();
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${base}${path}`, { method, headers, ...(body ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text };
  };
}

export function expectStatus(
  response: { status: number; text: string },
  expected: number,
  what: string,
): void {
  if (response.status !== expected) {
    throw new Error(`${what}: expected ${expected}, got ${response.status} ${response.text}`);
  }
}

export function replyIdFrom(text: string | undefined): string {
  const match = /\/replies\/([A-Za-z0-9_-]{32})/.exec(text ?? '');
  if (!match) throw new Error('no reply link in the mail');
  return match[1]!;
}

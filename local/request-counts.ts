import { currentFunction } from '#adapters/function-env';
import { addSendHook, type SendHook } from '#local/sdk-send';

/**
 * Every AWS SDK request made in this process, by origin and operation: the function whose code
 * sent it (what AWS would also see), or the local stack's own work — the stream runner reading
 * DynamoDB Local's stream (Lambda's event source mapping does that in AWS, unbilled), and the
 * stack's plumbing (table set-up, resuming tickets). Opt-in (`npm run simulate -- --count-requests`):
 * where a local run's DynamoDB Local time goes, counted rather than timed.
 */
export interface RequestCounts {
  /** origin → `Service Operation` → requests sent. */
  byOrigin: Record<string, Record<string, number>>;
  /** Attempts beyond the first (the SDK's retries), by `Service Operation`. */
  retries: Record<string, number>;
  /** Requests that failed, by `Service Operation ErrorName` (conditions, cancelled transactions). */
  failures: Record<string, number>;
}

/** The origin of requests sent outside any function by the stream runner's client. */
export const STREAM_RUNNER = 'local: stream runner';
/** The origin of every other request sent outside a function (set-up, resume, tools). */
export const STACK = 'local: stack';

let counts: RequestCounts | undefined;

const empty = (): RequestCounts => ({ byOrigin: {}, retries: {}, failures: {} });
const bump = (map: Record<string, number>, key: string, n = 1) => {
  map[key] = (map[key] ?? 0) + n;
};
const attemptsOf = (value: unknown) =>
  (value as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1;

/** Outermost of local/sdk-send.ts's hooks: a call the local IAM check refuses is a failure. */
const countHook: SendHook = ({ serviceId, command }, next) => {
  const tally = counts;
  if (!tally) return next();
  const op = `${serviceId} ${command.constructor.name.replace(/Command$/, '')}`;
  const origin = currentFunction() ?? (serviceId === 'DynamoDB Streams' ? STREAM_RUNNER : STACK);
  const row = tally.byOrigin[origin] ?? {};
  tally.byOrigin[origin] = row;
  bump(row, op);
  return next().then(
    (output) => {
      const extra = attemptsOf(output) - 1;
      if (extra > 0) bump(tally.retries, op, extra);
      return output;
    },
    (error: unknown) => {
      const extra = attemptsOf(error) - 1;
      if (extra > 0) bump(tally.retries, op, extra);
      bump(tally.failures, `${op} ${(error as Error).name}`);
      throw error;
    },
  );
};

/**
 * Starts counting (again from zero); returns the counts, which keep growing until
 * `stopCountingRequests`.
 */
export function countRequests(): RequestCounts {
  counts = empty();
  addSendHook('count-requests', countHook);
  return counts;
}

export function stopCountingRequests(): void {
  counts = undefined;
}

/** `a − b`, row by row: what was counted between two snapshots. */
export function subtractCounts(a: RequestCounts, b: RequestCounts): RequestCounts {
  const minus = (x: Record<string, number>, y: Record<string, number> = {}) =>
    Object.fromEntries(
      Object.entries(x)
        .map(([k, n]) => [k, n - (y[k] ?? 0)] as const)
        .filter(([, n]) => n !== 0),
    );
  return {
    byOrigin: Object.fromEntries(
      Object.entries(a.byOrigin)
        .map(([origin, row]) => [origin, minus(row, b.byOrigin[origin])] as const)
        .filter(([, row]) => Object.keys(row).length > 0),
    ),
    retries: minus(a.retries, b.retries),
    failures: minus(a.failures, b.failures),
  };
}

export function snapshotCounts(c: RequestCounts): RequestCounts {
  return structuredClone(c);
}

/**
 * Requests per ticket in groups: `groupOf` names an origin's group (`undefined`: the system's own,
 * what AWS would also see), e.g. `local-only` for the stack's origins.
 */
export function summarizeCounts(
  c: RequestCounts,
  tickets: number,
  groupOf: (origin: string) => string | undefined,
): string {
  const groups = new Map<string, { all: number; dynamodb: number }>();
  for (const [origin, row] of Object.entries(c.byOrigin)) {
    const name = groupOf(origin) ?? 'the system (what AWS would see)';
    const g = groups.get(name) ?? { all: 0, dynamodb: 0 };
    for (const [op, n] of Object.entries(row)) {
      g.all += n;
      if (op.startsWith('DynamoDB')) g.dynamodb += n;
    }
    groups.set(name, g);
  }
  const per = (n: number) => (tickets ? (n / tickets).toFixed(2) : '-');
  return [...groups]
    .sort((a, b) => b[1].all - a[1].all)
    .map(([name, g]) => `    ${name}: ${per(g.all)} per ticket (${per(g.dynamodb)} to DynamoDB)`)
    .join('\n');
}

/** A plain-text table: per origin its total and operations, largest first, per ticket beside. */
export function formatCounts(c: RequestCounts, tickets: number): string {
  const total = (row: Record<string, number>) => Object.values(row).reduce((s, n) => s + n, 0);
  const per = (n: number) => (tickets ? (n / tickets).toFixed(2) : '-');
  const lines: string[] = [];
  const origins = Object.entries(c.byOrigin).sort((x, y) => total(y[1]) - total(x[1]));
  const all = origins.reduce((s, [, row]) => s + total(row), 0);
  lines.push(`    all origins: ${all} requests, ${per(all)} per ticket`);
  for (const [origin, row] of origins) {
    lines.push(`    ${origin}: ${total(row)} (${per(total(row))}/ticket)`);
    for (const [op, n] of Object.entries(row).sort((x, y) => y[1] - x[1]))
      lines.push(`      ${op.padEnd(40)} ${String(n).padStart(8)}  ${per(n).padStart(8)}`);
  }
  for (const [name, map] of [
    ['retries', c.retries],
    ['failures', c.failures],
  ] as const)
    if (Object.keys(map).length)
      lines.push(
        `    ${name}: ${Object.entries(map)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
      );
  return lines.join('\n');
}

import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';

/** Operations that accept ReturnConsumedCapacity, by what they consume. */
const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);
const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);
const TRANSACT_WRITE = 'TransactWriteItemsCommand';
const TRANSACT_READ = 'TransactGetItemsCommand';
const INDEX_KEYS = ['GSI1PK', 'GSI2PK', 'GSI3PK'];

export interface CapacityTotals {
  /** Units as DynamoDB Local reports them (ReturnConsumedCapacity: INDEXES). */
  reportedRead: number;
  reportedWrite: number;
  /**
   * Units by AWS's published rules where DynamoDB Local under-reports: a transactional write is
   * 2 WRU per started KB of each item, plus 1 WRU per KB for every index the item carries keys of.
   * Other operations use the reported figure.
   */
  modelledRead: number;
  modelledWrite: number;
  requests: number;
  byOperation: Record<string, number>;
}

export const emptyTotals = (): CapacityTotals => ({
  reportedRead: 0,
  reportedWrite: 0,
  modelledRead: 0,
  modelledWrite: 0,
  requests: 0,
  byOperation: {},
});

export function diffTotals(after: CapacityTotals, before: CapacityTotals): CapacityTotals {
  const byOperation: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.byOperation)) {
    const d = n - (before.byOperation[op] ?? 0);
    if (d) byOperation[op] = d;
  }
  return {
    reportedRead: after.reportedRead - before.reportedRead,
    reportedWrite: after.reportedWrite - before.reportedWrite,
    modelledRead: after.modelledRead - before.modelledRead,
    modelledWrite: after.modelledWrite - before.modelledWrite,
    requests: after.requests - before.requests,
    byOperation,
  };
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
      options: { step: 'initialize' | 'serialize' | 'build'; name: string },
    ): void;
  };
}

/**
 * Counts the capacity every request of `client` consumes, without touching handler code: a
 * middleware asks for ReturnConsumedCapacity and sums what comes back. `enabled` lets a benchmark
 * leave its own observation reads out of the figures.
 */
export function meterCapacity(client: MiddlewareClient) {
  const totals = emptyTotals();
  const meter = { totals, enabled: true, snapshot: () => structuredClone(totals) };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName ?? '';
      const counted =
        meter.enabled &&
        (READS.has(op) || WRITES.has(op) || op === TRANSACT_WRITE || op === TRANSACT_READ);
      if (counted) args.input.ReturnConsumedCapacity = 'INDEXES';
      const result = await next(args);
      if (!counted) return result;
      const output = result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] };
      const consumed = [output.ConsumedCapacity ?? []].flat();
      const units = consumed.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      totals.requests += 1;
      totals.byOperation[op] = (totals.byOperation[op] ?? 0) + 1;
      if (READS.has(op) || op === TRANSACT_READ) {
        totals.reportedRead += units;
        totals.modelledRead +=
          op === TRANSACT_READ ? Math.max(units, transactReadUnits(args.input)) : units;
      } else {
        totals.reportedWrite += units;
        totals.modelledWrite += op === TRANSACT_WRITE ? transactWriteUnits(args.input) : units;
      }
      return result;
    },
    { step: 'initialize', name: 'benchConsumedCapacity' },
  );
  return meter;
}

function transactWriteUnits(input: Record<string, unknown>): number {
  let units = 0;
  for (const item of (input.TransactItems ?? []) as Record<string, { Item?: object }>[]) {
    const put = item.Put?.Item as Record<string, unknown> | undefined;
    if (put) {
      const kb = Math.max(1, Math.ceil(itemSize(put) / 1024));
      units += 2 * kb;
      units += INDEX_KEYS.filter((k) => k in put).length * kb;
    } else {
      // Update, Delete and ConditionCheck of the small items they touch here (≤ 1 KB).
      units += 2;
    }
  }
  return units;
}

function transactReadUnits(input: Record<string, unknown>): number {
  return 2 * ((input.TransactItems as unknown[] | undefined)?.length ?? 0);
}

/** DynamoDB's item size: attribute names plus values, on either marshalled or plain items. */
export function itemSize(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item))
    size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number')
    return Math.ceil(String(value).replace(/^-|\./g, '').length / 2) + 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((s: number, v) => s + 1 + valueSize(v), 0);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    // A marshalled AttributeValue: { S: … }, { N: … }, { M: … } …
    if (entries.length === 1 && /^(S|N|B|BOOL|NULL|M|L|SS|NS|BS)$/.test(entries[0]![0])) {
      const [type, inner] = entries[0]!;
      if (type === 'N') return Math.ceil(String(inner).length / 2) + 1;
      if (type === 'M') return 3 + itemSize(inner as Record<string, unknown>);
      return valueSize(inner);
    }
    return 3 + itemSize(value as Record<string, unknown>);
  }
  return 1;
}

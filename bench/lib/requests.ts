import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { currentFunction } from '#adapters/function-env';

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** One DynamoDB request as a handler sent it (document-client input, before marshalling). */
export interface RecordedRequest {
  command: string;
  input: Record<string, unknown>;
}

/** What a set of requests made by one function invocation amounted to. */
export interface RoundTrips {
  /** Every DynamoDB request. */
  calls: number;
  /**
   * Requests one after the other: a request started while another of the same function was in
   * flight (Promise.all) does not add one. What the caller waits for, in round trips.
   */
  sequential: number;
  transactions: number;
  byOperation: Record<string, number>;
}

/**
 * Watches every request `client` sends from inside function `key` (the local runtime's scope),
 * without touching handler code: counts round trips, and records the requests for a replay.
 * `watching` lets a benchmark choose which stretch of the run is counted.
 */
export function watchRequests(client: MiddlewareClient, key: string) {
  const watch = {
    watching: false,
    recording: false,
    recorded: [] as RecordedRequest[],
    trips: emptyTrips(),
    inFlight: 0,
    /** Starts a fresh count (and recording, when `record`). */
    start(record = false) {
      watch.trips = emptyTrips();
      watch.watching = true;
      watch.recording = record;
    },
    stop(): RoundTrips {
      watch.watching = false;
      watch.recording = false;
      return watch.trips;
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!watch.watching || currentFunction() !== key) return next(args);
      const op = context.commandName ?? '';
      const trips = watch.trips;
      trips.calls++;
      trips.byOperation[op] = (trips.byOperation[op] ?? 0) + 1;
      if (op.startsWith('Transact') && op.includes('Write')) trips.transactions++;
      if (watch.inFlight === 0) trips.sequential++;
      if (watch.recording) watch.recorded.push({ command: op, input: structuredClone(args.input) });
      watch.inFlight++;
      try {
        return await next(args);
      } finally {
        watch.inFlight--;
      }
    },
    { step: 'initialize', name: `benchWatch-${key}` },
  );
  return watch;
}

const emptyTrips = (): RoundTrips => ({
  calls: 0,
  sequential: 0,
  transactions: 0,
  byOperation: {},
});

const COMMANDS: Record<string, new (input: never) => object> = {
  GetItemCommand: GetCommand,
  PutItemCommand: PutCommand,
  UpdateItemCommand: UpdateCommand,
  DeleteItemCommand: DeleteCommand,
  QueryCommand,
  BatchGetItemCommand: BatchGetCommand,
  BatchWriteItemCommand: BatchWriteCommand,
  TransactGetItemsCommand: TransactGetCommand,
  TransactWriteItemsCommand: TransactWriteCommand,
};

/** The request sent to table `table` instead: every TableName, and batch requests' keys. */
export function retarget(input: Record<string, unknown>, table: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  if ('TableName' in out) out.TableName = table;
  if (Array.isArray(out.TransactItems)) {
    out.TransactItems = (out.TransactItems as Record<string, Record<string, unknown>>[]).map(
      (item) =>
        Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { ...v, TableName: table }])),
    );
  }
  if (out.RequestItems && typeof out.RequestItems === 'object') {
    out.RequestItems = Object.fromEntries(
      Object.values(out.RequestItems as Record<string, unknown>).map((v) => [table, v]),
    );
  }
  return out;
}

/**
 * Sends `requests` again, in their order, `concurrency` at a time, to `table`: the DynamoDB work
 * of a run without the code around it. A request that fails (a condition, or a transaction
 * conflicting with another in flight) is counted, not retried: give `client` maxAttempts 1, or the
 * SDK's back-off sleeps are timed as DynamoDB work.
 */
export async function replay(
  client: DynamoDBDocumentClient,
  requests: readonly RecordedRequest[],
  table: string,
  concurrency: number,
): Promise<{
  seconds: number;
  failed: number;
  failures: Record<string, number>;
  /** Milliseconds spent waiting for each operation, summed over the requests. */
  msByOperation: Record<string, number>;
}> {
  let next = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const msByOperation: Record<string, number> = {};
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const request = requests[next++]!;
        const Command = COMMANDS[request.command];
        if (!Command) throw new Error(`no replay for ${request.command}`);
        const input = retarget(request.input, table);
        delete input.ReturnConsumedCapacity;
        const t0 = performance.now();
        // biome-ignore lint/suspicious/noExplicitAny: one send for every recorded command type
        await client.send(new Command(input as never) as any).catch((error: Error) => {
          failed++;
          failures[error.name] = (failures[error.name] ?? 0) + 1;
        });
        const op = request.command.replace(/Command$/, '');
        msByOperation[op] = (msByOperation[op] ?? 0) + performance.now() - t0;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, failed, failures, msByOperation };
}

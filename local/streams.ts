import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamSource } from '#functions/registry';
import { addSendHook } from '#local/sdk-send';

/** One function reading the table's stream: the local twin of a Lambda event source mapping. */
export interface StreamConsumer {
  name: string;
  source: StreamSource;
  invoke(event: DynamoDBStreamEvent): Promise<unknown>;
}

/** What AWS sends to the on-failure destination: which records were given up, and why. */
export interface StreamDeadLetter {
  consumer: string;
  shardId: string;
  reason: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  attempts: number;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize: number;
  /** The records' keys (never their images: those hold personal data). */
  keys: Record<string, unknown>[];
  at: string;
}

export interface LocalStreams {
  /** Reads every shard until it has nothing more and every batch is delivered or set aside. */
  drain(): Promise<void>;
  /** How many records were given to consumers so far (a test's "did anything happen"). */
  delivered(): number;
  deadLetters(): readonly StreamDeadLetter[];
  close(): Promise<void>;
}

export interface LocalStreamsOptions {
  endpoint: string;
  region: string;
  table: string;
  consumers: StreamConsumer[];
  /** How often an idle shard is read again (Lambda reads each shard about four times a second). */
  pollMs?: number;
  /**
   * How old the shard list may get before it is described again even though no shard ended
   * (omitted: 1 s of wall time). A shard that ends always has the list described again at once.
   */
  rediscoverMs?: number;
  /** Pause before the n-th retry of a failing batch (omitted: 100 ms doubling, at most 2 s). */
  retryDelayMs?: (retry: number) => number;
  /** Dead letters are also appended here as JSON lines (the local on-failure destination). */
  deadLetterFile?: string;
  now?: () => number;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** DynamoDB operations that never change the table (nor write its stream). */
const READ_ONLY = /^(Get|BatchGet|Query|Scan|TransactGet|Describe|List)/;
let tableChanges = 0;

/**
 * Counts every DynamoDB request other than a read this process has seen answered. DynamoDB Local
 * writes a change's stream record with the change, so a drain that finds the count where it was
 * when every shard was last read to its end has nothing to read: on a simulated day most drains
 * (two per mapping at each step of the clock) found nothing. Changes made elsewhere (another
 * process, TTL) are read by the polling loop.
 */
function watchTableChanges(): void {
  // Added again by each stack started in this process: it replaces itself, never wraps twice.
  addSendHook('table-writes', ({ serviceId, command }, next) => {
    const sent = next();
    if (serviceId === 'DynamoDB' && !READ_ONLY.test(command.constructor.name)) {
      const counted = () => {
        tableChanges++;
      };
      sent.then(counted, counted);
    }
    return sent;
  });
}

/**
 * Runs the table's stream consumers against DynamoDB Local's stream (the Streams API on the same
 * endpoint), as Lambda's event source mapping does: records in order per shard, filtered by the
 * mapping's patterns, in batches; a batch that throws is bisected and retried, a reported
 * `batchItemFailures` entry is retried from that record on, and after `retryAttempts` (or past
 * `maxRecordAgeSeconds`) the records are set aside as a dead letter and reading goes on.
 */
export async function startLocalStreams(options: LocalStreamsOptions): Promise<LocalStreams> {
  watchTableChanges();
  const dynamodb = new DynamoDBClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials,
  });
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: options.table }));
  dynamodb.destroy();
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`the table ${options.table} has no stream`);
  const client = new DynamoDBStreamsClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials,
  });
  const letters: StreamDeadLetter[] = [];
  const shardList = new ShardList(client, streamArn, options.rediscoverMs ?? 1_000);
  const mappings = options.consumers.map(
    (consumer) =>
      new Mapping(client, streamArn, shardList, options, consumer, (letter) => {
        letters.push(letter);
        if (options.deadLetterFile)
          appendFileSync(options.deadLetterFile, `${JSON.stringify(letter)}\n`);
      }),
  );
  for (const mapping of mappings) await mapping.start();
  return {
    drain: async () => {
      for (const mapping of mappings) await mapping.drain();
    },
    delivered: () => mappings.reduce((sum, m) => sum + m.delivered, 0),
    deadLetters: () => letters,
    close: async () => {
      await Promise.all(mappings.map((m) => m.stop()));
      client.destroy();
    },
  };
}

/**
 * The stream's shards, described once for every mapping. Shards change only when one ends (its
 * children are created as it closes), so DescribeStream is sent again when a reader reached the
 * end of a shard or the list is older than `maxAgeMs`, not at each poll of each mapping: on a
 * simulated day those polls were as many requests as the reads themselves.
 */
export class ShardList {
  private shards: Shard[] = [];
  private describedAt = Number.NEGATIVE_INFINITY;
  private stale = true;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly client: DynamoDBStreamsClient,
    private readonly streamArn: string,
    private readonly maxAgeMs: number,
  ) {}

  /** A reader reached the end of a shard (or lost its place): describe the stream again. */
  markStale(): void {
    this.stale = true;
  }

  async current(): Promise<readonly Shard[]> {
    // A list described while a shard was ending may miss its children: describe until it is not.
    while (this.stale || performance.now() - this.describedAt >= this.maxAgeMs) {
      this.pending ??= this.describe().finally(() => {
        this.pending = undefined;
      });
      await this.pending;
    }
    return this.shards;
  }

  private async describe(): Promise<void> {
    this.stale = false;
    let start: string | undefined;
    const found: Shard[] = [];
    try {
      do {
        const page = await this.client.send(
          new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }),
        );
        found.push(...(page.StreamDescription?.Shards ?? []));
        start = page.StreamDescription?.LastEvaluatedShardId;
      } while (start);
    } catch (error) {
      this.stale = true;
      throw error;
    }
    this.shards = found;
    this.describedAt = performance.now();
  }
}

interface ShardReader {
  id: string;
  parentId: string | undefined;
  iterator: string | null;
}

class Mapping {
  private readonly shards = new Map<string, ShardReader>();
  private readonly stopping = new AbortController();
  private lock: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> = Promise.resolve();
  private readonly matchers: Matcher[];
  /** `tableChanges` when a poll last found every shard read to its end; -1: not yet. */
  private quietAt = -1;
  delivered = 0;

  constructor(
    private readonly client: DynamoDBStreamsClient,
    private readonly streamArn: string,
    private readonly shardList: ShardList,
    private readonly options: LocalStreamsOptions,
    private readonly consumer: StreamConsumer,
    private readonly deadLetter: (letter: StreamDeadLetter) => void,
  ) {
    // An unsupported filter operator is refused here, never silently matched differently.
    this.matchers = consumer.source.filters.map(compilePattern);
  }

  async start(): Promise<void> {
    // Shards open now are read from their end: what came before is the restart resume's job.
    await this.discover('LATEST');
    this.loop = (async () => {
      // A consumer with a batching window (the analytics sink) is read less often, so its
      // batches gather records as Lambda's window does; drain() still reads at once.
      const window = this.consumer.source.maxBatchingWindowSeconds;
      const pollMs = window ? Math.min(window, 2) * 1000 : (this.options.pollMs ?? 250);
      while (!this.stopping.signal.aborted) {
        const seen = await this.exclusive(() => this.pollOnce()).catch((error: unknown) => {
          console.error(`stream ${this.consumer.name}: ${(error as Error).message}`);
          return 0;
        });
        if (seen === 0)
          await sleep(pollMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  async drain(): Promise<void> {
    const unchanged = () => this.quietAt === tableChanges;
    while ((await this.exclusive(async () => (unchanged() ? 0 : this.pollOnce()))) > 0);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async discover(position: 'LATEST' | 'TRIM_HORIZON'): Promise<void> {
    for (const shard of await this.shardList.current()) {
      const id = shard.ShardId as string;
      if (this.shards.has(id)) continue;
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      // At start-up a closed shard is history; later, a new shard is read from its beginning.
      if (position === 'LATEST' && closed) {
        this.shards.set(id, { id, parentId: shard.ParentShardId, iterator: null });
        continue;
      }
      const { ShardIterator } = await this.client.send(
        new GetShardIteratorCommand({
          StreamArn: this.streamArn,
          ShardId: id,
          ShardIteratorType: position,
        }),
      );
      this.shards.set(id, { id, parentId: shard.ParentShardId, iterator: ShardIterator ?? null });
    }
  }

  /** One read of every shard; returns how many records the stream had. */
  private async pollOnce(): Promise<number> {
    const changes = tableChanges;
    let seen = 0;
    for (;;) {
      await this.discover('TRIM_HORIZON');
      let ended = false;
      for (const shard of this.shards.values()) {
        // A child shard waits until its parent is read to the end: order per item is kept.
        const parent = shard.parentId ? this.shards.get(shard.parentId) : undefined;
        if (!shard.iterator || parent?.iterator) continue;
        let output: Awaited<ReturnType<typeof this.getRecords>>;
        try {
          output = await this.getRecords(shard.iterator);
        } catch (error) {
          if (
            error instanceof ExpiredIteratorException ||
            error instanceof TrimmedDataAccessException
          ) {
            shard.iterator = null;
            ended = true;
            continue;
          }
          throw error;
        }
        shard.iterator = output.NextShardIterator ?? null;
        if (!shard.iterator) ended = true;
        const records = output.Records ?? [];
        seen += records.length;
        if (records.length > 0) await this.deliver(shard.id, records);
      }
      // A shard that ended has children to read now, or a drain could stop before them.
      if (!ended) {
        if (seen === 0) this.quietAt = changes;
        return seen;
      }
      this.shardList.markStale();
    }
  }

  private getRecords(iterator: string) {
    return this.client.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: this.consumer.source.batchSize }),
    );
  }

  private async deliver(shardId: string, raw: _Record[]): Promise<void> {
    const now = this.options.now?.() ?? Date.now();
    const maxAgeMs = this.consumer.source.maxRecordAgeSeconds * 1000;
    const records = raw.map((r) => toLambdaRecord(r, this.streamArn, this.options.region));
    const fresh: DynamoDBRecord[] = [];
    for (const record of records) {
      const created = (record.dynamodb?.ApproximateCreationDateTime ?? now / 1000) * 1000;
      if (now - created > maxAgeMs) this.setAside(shardId, [record], 'RecordAgeExceeded', 0);
      else fresh.push(record);
    }
    // Filtering happens before batching, as in Lambda: a record that matches no pattern is gone.
    const matched = fresh.filter((record) => this.matchers.some((m) => m(record)));
    this.delivered += matched.length;
    if (matched.length > 0) await this.process(shardId, matched);
  }

  /** Delivers a batch until it succeeds, bisecting on error, then sets aside what still fails. */
  private async process(shardId: string, batch: DynamoDBRecord[]): Promise<void> {
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      let failedFrom: number;
      try {
        const response = (await this.consumer.invoke({ Records: pending })) as
          | DynamoDBBatchResponse
          | undefined;
        const failures = response?.batchItemFailures ?? [];
        if (failures.length === 0) return;
        // Lambda checkpoints before the lowest failed sequence number and retries from there.
        const failed = new Set(failures.map((f) => f.itemIdentifier));
        failedFrom = pending.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
        if (failedFrom < 0) failedFrom = 0;
      } catch {
        if (pending.length > 1) {
          // Bisect on error: each half is retried on its own, so one bad record stays alone.
          const half = Math.ceil(pending.length / 2);
          await this.process(shardId, pending.slice(0, half));
          await this.process(shardId, pending.slice(half));
          return;
        }
        failedFrom = 0;
      }
      pending = pending.slice(failedFrom);
      if (attempt >= this.consumer.source.retryAttempts) {
        this.setAside(shardId, pending, 'RetryAttemptsExhausted', attempt + 1);
        return;
      }
      const delay = this.options.retryDelayMs?.(attempt + 1) ?? Math.min(100 * 2 ** attempt, 2_000);
      await sleep(delay);
    }
  }

  private setAside(
    shardId: string,
    records: DynamoDBRecord[],
    reason: StreamDeadLetter['reason'],
    attempts: number,
  ): void {
    this.deadLetter({
      consumer: this.consumer.name,
      shardId,
      reason,
      attempts,
      startSequenceNumber: records[0]?.dynamodb?.SequenceNumber ?? '',
      endSequenceNumber: records.at(-1)?.dynamodb?.SequenceNumber ?? '',
      batchSize: records.length,
      keys: records.map((r) => r.dynamodb?.Keys ?? {}),
      at: new Date(this.options.now?.() ?? Date.now()).toISOString(),
    });
  }
}

/** The record as Lambda hands it over: the Streams API's record plus the event source fields. */
/**
 * The Streams client (3.1141) reads an empty map attribute `{"M":{}}` back as `{}`, which
 * `unmarshall` rejects; Lambda delivers `{"M":{}}`. Put the map back, at any depth.
 */
export function repairEmptyMaps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(repairEmptyMaps);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const isEmptyAttribute =
      v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
    out[k] = isEmptyAttribute ? { M: {} } : repairEmptyMaps(v);
  }
  return out;
}

function toLambdaRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
  const { ApproximateCreationDateTime, ...dynamodb } = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? region,
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
    dynamodb: {
      ...(repairEmptyMaps(dynamodb) as DynamoDBRecord['dynamodb']),
      ...(ApproximateCreationDateTime
        ? { ApproximateCreationDateTime: Math.floor(ApproximateCreationDateTime.getTime() / 1000) }
        : {}),
    },
  } as DynamoDBRecord;
}

type Matcher = (value: unknown) => boolean;

/**
 * Lambda event filtering for the forms the registry uses: nested objects, lists of values (any
 * may match), `{prefix}`, `{exists}` and `{anything-but}`. Anything else is refused.
 */
export function compilePattern(pattern: unknown): Matcher {
  if (Array.isArray(pattern)) {
    const options = pattern.map(compileValue);
    return (value) => {
      const values = Array.isArray(value) ? value : [value];
      return values.some((v) => options.some((option) => option(v)));
    };
  }
  if (pattern && typeof pattern === 'object') {
    const fields = Object.entries(pattern).map(([key, inner]) => {
      const exists = existsRule(inner);
      return { key, exists, match: exists === undefined ? compilePattern(inner) : undefined };
    });
    return (value) => {
      if (!value || typeof value !== 'object') return false;
      const object = value as Record<string, unknown>;
      return fields.every(({ key, exists, match }) => {
        if (exists !== undefined) return (object[key] !== undefined) === exists;
        return object[key] !== undefined && match!(object[key]);
      });
    };
  }
  throw new Error(`unsupported stream filter pattern ${JSON.stringify(pattern)}`);
}

function existsRule(inner: unknown): boolean | undefined {
  if (!Array.isArray(inner) || inner.length !== 1) return undefined;
  const rule = inner[0] as Record<string, unknown> | null;
  return rule && typeof rule === 'object' && typeof rule.exists === 'boolean'
    ? rule.exists
    : undefined;
}

function compileValue(option: unknown): Matcher {
  if (option === null || ['string', 'number', 'boolean'].includes(typeof option)) {
    return (value) => value === option;
  }
  const rule = option as Record<string, unknown>;
  const [operator, ...others] = Object.keys(rule);
  if (others.length === 0 && operator === 'prefix' && typeof rule.prefix === 'string') {
    const prefix = rule.prefix;
    return (value) => typeof value === 'string' && value.startsWith(prefix);
  }
  if (others.length === 0 && operator === 'anything-but') {
    const excluded = ([] as unknown[]).concat(rule['anything-but']);
    return (value) => value !== undefined && !excluded.includes(value);
  }
  throw new Error(`unsupported stream filter rule ${JSON.stringify(option)}`);
}

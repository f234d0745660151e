import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '#adapters/dynamodb/schema';
import { runAsFunction } from '#adapters/function-env';
import { FUNCTIONS, type StreamSource } from '#functions/registry';
import { countRequests, STREAM_RUNNER, stopCountingRequests } from '#local/request-counts';
import { compilePattern, type LocalStreams, startLocalStreams } from '#local/streams';
import {
  dynamoEndpoint,
  LOCAL_REGION,
  localClientConfig,
  uniqueTableName,
} from '../support/dynamodb.ts';

/**
 * The local event source mapping on DynamoDB Local's real stream: what Lambda does with a table's
 * stream (filter, order per shard, batches, bisect on error, partial batch failures, retries,
 * then the on-failure destination), checked on records the table itself wrote.
 */
const source: StreamSource = {
  filters: [
    { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { PK: { S: [{ prefix: 'T#' }] } } } },
  ],
  batchSize: 10,
  retryAttempts: 2,
  maxRecordAgeSeconds: 3600,
};
const table = uniqueTableName('streams');
const raw = new DynamoDBClient(localClientConfig());
const documents = DynamoDBDocumentClient.from(raw);
let streams: LocalStreams;
const seen: DynamoDBStreamEvent[] = [];
/** A record whose PK is here makes the consumer throw (a poison record). */
const poison = new Set<string>();
/** A record whose PK is here is reported as a batch item failure once. */
const reportOnce = new Set<string>();

const pkOf = (r: DynamoDBRecord) => r.dynamodb?.Keys?.PK?.S ?? '';
const delivered = () => seen.flatMap((e) => e.Records.map(pkOf));

beforeAll(async () => {
  await ensureTable(raw, table);
  streams = await startLocalStreams({
    endpoint: dynamoEndpoint(),
    region: LOCAL_REGION,
    table,
    pollMs: 50,
    // Described at start only: the count of DescribeStream below is of the second instance's.
    rediscoverMs: 600_000,
    retryDelayMs: () => 5,
    consumers: [
      {
        name: 'probe',
        source,
        invoke: async (event) => {
          seen.push(event);
          if (event.Records.some((r) => poison.has(pkOf(r)))) throw new Error('poison');
          const failing = event.Records.find((r) => reportOnce.delete(pkOf(r)));
          return {
            batchItemFailures: failing
              ? [{ itemIdentifier: failing.dynamodb?.SequenceNumber }]
              : [],
          };
        },
      },
    ],
  });
}, 60_000);

afterAll(async () => {
  await streams?.close();
  raw.destroy();
});

const put = (PK: string, extra: Record<string, unknown> = {}) =>
  documents.send(new PutCommand({ TableName: table, Item: { PK, SK: 'META', ...extra } }));

describe('the local event source mapping on the table stream', () => {
  it('delivers matching records in order as a real DynamoDBStreamEvent, and filters out the rest', async () => {
    seen.length = 0;
    for (const pk of ['T#1', 'X#1', 'T#2', 'T#3']) await put(pk, { status: 'received' });
    await streams.drain();
    expect(delivered()).toEqual(['T#1', 'T#2', 'T#3']);
    const record = seen[0]!.Records[0]!;
    expect(record).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      awsRegion: expect.any(String),
      eventSourceARN: expect.stringContaining(`table/${table}/stream/`),
      dynamodb: {
        Keys: { PK: { S: 'T#1' }, SK: { S: 'META' } },
        NewImage: { PK: { S: 'T#1' }, status: { S: 'received' } },
        SequenceNumber: expect.any(String),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(typeof record.dynamodb?.ApproximateCreationDateTime).toBe('number');
    expect(record.eventID).toBeTruthy();
  });

  it('describes the stream once for every mapping, reads it only after a change, and delivers to each', async () => {
    const got: Record<string, string[]> = { a: [], b: [] };
    const consumer = (name: 'a' | 'b') => ({
      name,
      source,
      invoke: async (event: DynamoDBStreamEvent) => {
        got[name]!.push(...event.Records.map(pkOf));
      },
    });
    const counts = countRequests();
    const two = await startLocalStreams({
      endpoint: dynamoEndpoint(),
      region: LOCAL_REGION,
      table,
      // The polling loop reads once at start, then sleeps: every later read is a drain's.
      pollMs: 600_000,
      rediscoverMs: 600_000,
      consumers: [consumer('a'), consumer('b')],
    });
    // The drains' requests are counted under an origin of their own, apart from the other
    // instance's polling loop.
    const drain = () => runAsFunction({ name: 'drains', env: {} }, () => two.drain());
    const reads = () => counts.byOrigin.drains?.['DynamoDB Streams GetRecords'] ?? 0;
    try {
      await drain();
      const quiet = reads();
      await drain();
      await drain();
      expect(reads()).toBe(quiet);
      for (const pk of ['T#shared-1', 'T#shared-2', 'T#shared-3']) {
        await put(pk);
        const before = reads();
        await drain();
        // Each mapping reads the records, then finds the shard read to its end.
        expect(reads() - before).toBe(2 * 2);
      }
      const after = reads();
      await drain();
      expect(reads()).toBe(after);
    } finally {
      await two.close();
      stopCountingRequests();
    }
    expect(got.a).toEqual(['T#shared-1', 'T#shared-2', 'T#shared-3']);
    expect(got.b).toEqual(got.a);
    // One DescribeStream at start for both mappings, none per poll while no shard ends.
    expect(counts.byOrigin[STREAM_RUNNER]?.['DynamoDB Streams DescribeStream']).toBe(1);
    expect(counts.byOrigin.drains?.['DynamoDB Streams DescribeStream']).toBeUndefined();
  });

  it('bisects a failing batch, retries the poison record, sets it aside and reads on', async () => {
    seen.length = 0;
    poison.add('T#p');
    for (const pk of ['T#a', 'T#p', 'T#b']) await put(pk);
    await streams.drain();
    await put('T#c');
    await streams.drain();
    const letters = streams
      .deadLetters()
      .filter((l) => l.keys.some((k) => JSON.stringify(k).includes('T#p')));
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      consumer: 'probe',
      reason: 'RetryAttemptsExhausted',
      batchSize: 1,
      attempts: 3,
    });
    // Every good record was delivered and the poison one tried 1 + retryAttempts times alone.
    const alone = seen.filter((e) => e.Records.length === 1 && pkOf(e.Records[0]!) === 'T#p');
    expect(alone).toHaveLength(3);
    for (const pk of ['T#a', 'T#b', 'T#c']) expect(delivered()).toContain(pk);
    expect(delivered().lastIndexOf('T#a')).toBeLessThan(delivered().lastIndexOf('T#b'));
    // The dead letter names the record, never its image.
    expect(JSON.stringify(letters[0])).not.toContain('NewImage');
  });

  it('retries from the record a batch reports as failed, keeping the order', async () => {
    seen.length = 0;
    reportOnce.add('T#y');
    for (const pk of ['T#x', 'T#y', 'T#z']) await put(pk);
    await streams.drain();
    // However the poller cut the batches, the failed record and those after it in its batch are
    // delivered again, the ones before it are not, and nothing overtakes the retry.
    const order = delivered();
    const count = (pk: string) => order.filter((p) => p === pk).length;
    expect(count('T#x')).toBe(1);
    expect(count('T#y')).toBe(2);
    expect(order.lastIndexOf('T#z')).toBeGreaterThan(order.lastIndexOf('T#y'));
    expect(streams.deadLetters().some((l) => JSON.stringify(l.keys).includes('T#y'))).toBe(false);
  });
});

describe('Lambda filter patterns (the subset the registry uses)', () => {
  it('match the stream-workflow filter only for a newly stored received ticket', () => {
    const [pattern] = FUNCTIONS['stream-workflow'].stream.filters;
    const matches = compilePattern(pattern);
    const record = (eventName: string, pk: string, sk: string, status: string) => ({
      eventName,
      dynamodb: { Keys: { PK: { S: pk }, SK: { S: sk } }, NewImage: { status: { S: status } } },
    });
    expect(matches(record('INSERT', 'TICKET#1', 'META', 'received'))).toBe(true);
    expect(matches(record('MODIFY', 'TICKET#1', 'META', 'received'))).toBe(false);
    expect(matches(record('INSERT', 'TICKET#1', 'META', 'merged'))).toBe(false);
    expect(matches(record('INSERT', 'TICKET#1', 'HIST#000001', 'received'))).toBe(false);
    expect(matches(record('INSERT', 'CALL#1', 'META', 'received'))).toBe(false);
  });

  it('match the stream-workflow metrics filter only for a ticket version that moved counters', () => {
    const [, pattern] = FUNCTIONS['stream-workflow'].stream.filters;
    const matches = compilePattern(pattern);
    const record = (sk: string, image: Record<string, unknown>) => ({
      eventName: 'MODIFY',
      dynamodb: { Keys: { PK: { S: 'TICKET#1' }, SK: { S: sk } }, NewImage: image },
    });
    const counted = { lastMetrics: { M: { version: { N: '3' }, deltas: { L: [] } } } };
    expect(matches(record('META', counted))).toBe(true);
    expect(matches(record('META', { status: { S: 'handling' } }))).toBe(false);
    expect(matches(record('HIST#000003', counted))).toBe(false);
  });

  it('refuse an operator they do not implement rather than match it differently', () => {
    expect(() => compilePattern({ n: [{ numeric: ['>', 1] }] })).toThrow(/unsupported/);
  });
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoMetricCounter, type StoredMetrics } from '#adapters/dynamodb/metric-counter';
import { ensureTable } from '#adapters/dynamodb/schema';
import { configureFunctions, invokeFunction } from '#local/functions';
import { localAwsEnv, localClientConfig, uniqueTableName } from '../support/dynamodb.ts';

/**
 * The stream consumer's metric counting against DynamoDB Local: a batch DynamoDB refuses as a
 * whole is counted version by version (and the log says why); any other failure fails the
 * invocation, so the event source mapping retries and bisects it.
 */
const table = uniqueTableName('stream-count');
const raw = new DynamoDBClient(localClientConfig());
const documents = DynamoDBDocumentClient.from(raw);
const day = '2026-11-23';

beforeAll(async () => {
  await ensureTable(raw, table);
  Object.assign(process.env, localAwsEnv());
  configureFunctions({
    environment: () => ({ TABLE_NAME: table }),
    actions: () => ['dynamodb:*'],
  });
});

afterAll(() => {
  configureFunctions(undefined);
  raw.destroy();
});

afterEach(() => {
  vi.restoreAllMocks();
});

let sequence = 0;
const metrics = (version: number, unitId: string, received: number): StoredMetrics => ({
  version,
  deltas: [{ unitId, day, counters: { received } }],
});

/** A stored ticket version as the table's stream delivers it (a change, not a new ticket). */
function record(ticketId: string, now: StoredMetrics): DynamoDBRecord {
  const image = (item: Record<string, unknown>) =>
    marshall(item, { removeUndefinedValues: true }) as Record<string, AttributeValue>;
  sequence += 1;
  return {
    eventName: 'MODIFY',
    dynamodb: {
      SequenceNumber: String(sequence).padStart(21, '0'),
      NewImage: image({ id: ticketId, status: 'handling', lastMetrics: now }),
      OldImage: image({ id: ticketId, status: 'handling' }),
    },
  };
}

const batch = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });

async function received(unitId: string): Promise<unknown> {
  const { Item } = await documents.send(
    new GetCommand({
      TableName: table,
      Key: { PK: `METRICS#${day}`, SK: `UNIT#${unitId}` },
      ConsistentRead: true,
    }),
  );
  return Item?.received;
}

/** The JSON log lines Powertools writes (errors to stderr, the rest to stdout) while `work` runs. */
async function logLines(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation((chunk, ...rest) => {
      if (!String(chunk).startsWith('{')) return write(chunk, ...(rest as []));
      lines.push(String(chunk));
      return true;
    });
  }
  try {
    await work();
  } finally {
    vi.restoreAllMocks();
  }
  return lines.flatMap((l) => l.trim().split('\n')).map((l) => JSON.parse(l));
}

describe('stream-workflow counting a batch', () => {
  it('counts a refused batch version by version and logs why, without ticket data', async () => {
    const unitId = 'refused-unit';
    // Version 2 of S-1 was counted before (a redelivery): the batch transaction is cancelled.
    const counter = new DynamoMetricCounter(documents, table);
    expect(await counter.count('S-1', metrics(2, unitId, 1))).toBe(true);
    const event = batch(
      record('S-1', metrics(2, unitId, 1)),
      record('S-2', metrics(2, unitId, 10)),
      record('S-1', metrics(3, unitId, 100)),
    );
    let result: unknown;
    const logged = await logLines(async () => {
      result = await invokeFunction('stream-workflow', event);
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await received(unitId)).toBe(111);
    const refusal = logged.find((l) => String(l.message).includes('refused as a whole'));
    expect(refusal).toMatchObject({
      function_name: 'stream-workflow',
      why: 'cancelled',
      reasons: ['ConditionalCheckFailed'],
      versions: 3,
    });
    expect(JSON.stringify(logged)).not.toMatch(/S-1|S-2/);
  });

  it('fails the invocation on an unexpected error instead of counting one by one', async () => {
    // A counter item that cannot take an ADD (a malformed item, or a bug in the update): DynamoDB
    // rejects the transaction for a reason no version by version count would mend.
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: { PK: `METRICS#${day}`, SK: 'UNIT#broken-unit', received: 'not a number' },
      }),
    );
    const event = batch(
      record('S-3', metrics(2, 'healthy-unit', 1)),
      record('S-4', metrics(2, 'broken-unit', 1)),
    );
    let failure: unknown;
    const logged = await logLines(async () => {
      failure = await invokeFunction('stream-workflow', event).then(
        () => undefined,
        (error: unknown) => error,
      );
    });
    // Thrown, so the mapping bisects the batch: nothing was counted, not even the healthy version.
    expect(failure).toBeInstanceOf(Error);
    expect(await received('healthy-unit')).toBeUndefined();
    expect(logged.find((l) => l.level === 'ERROR')).toMatchObject({
      message: expect.stringContaining('could not be counted'),
      error: (failure as Error).name,
    });
    expect(JSON.stringify(logged)).not.toMatch(/S-3|S-4/);
  });
});

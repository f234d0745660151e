import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbAnalytics } from '#adapters/analytics/duckdb';
import { keys } from '#adapters/dynamodb/keys';
import { createTableInput } from '#adapters/dynamodb/schema';
import { monthParams } from '#core/analytics/sql';
import { shanghaiDate } from '#core/calendar';
import type { Ticket } from '#core/ticket';
import { handler } from '#functions/analytics/sink';
import { lambdaContext } from '#local/functions';
import { type LocalS3, startLocalS3 } from '#local/s3';
import { simulateMonth } from '../../simulator/analytics.ts';
import { readStreamEvent } from '../support/analytics.ts';
import {
  dynamoEndpoint,
  localAwsEnv,
  localClientConfig,
  uniqueTableName,
} from '../support/dynamodb.ts';

const BUCKET = 'analytics-test';
const context = lambdaContext('analytics-sink');
const MONTH = '2026-10';
let s3: LocalS3;
let streamArn: string;
let tickets: Ticket[];
const table = uniqueTableName('analytics');
const raw = new DynamoDBClient(localClientConfig());
const documents = DynamoDBDocumentClient.from(raw);

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
  Object.assign(process.env, localAwsEnv({ s3: s3.endpoint }), {
    ANALYTICS_BUCKET: BUCKET,
    ANALYTICS_SALT: 'integration-test-salt',
  });
  const created = await raw.send(
    new CreateTableCommand({
      ...createTableInput(table),
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  streamArn = created.TableDescription?.LatestStreamArn as string;
  // A small month: each ticket stored as the ticket store stores it, first received, then closed.
  tickets = simulateMonth({
    month: MONTH,
    perDay: 6,
    seed: 3,
    plant: false,
    baselineWeeks: 0,
  }).tickets;
  for (const t of tickets) {
    const received: Ticket = { ...t, status: 'received', version: 1, updatedAt: t.createdAt };
    await documents.send(
      new PutCommand({ TableName: table, Item: { ...keys.ticket(t.id), ...received } }),
    );
    await documents.send(
      new PutCommand({ TableName: table, Item: { ...keys.ticket(t.id), ...t } }),
    );
    // A history item on the same partition: not a ticket version, not a row.
    await documents.send(
      new PutCommand({ TableName: table, Item: { ...keys.history(t.id, 1), event: 'received' } }),
    );
  }
}, 120_000);
afterAll(async () => {
  await s3?.close();
  raw.destroy();
});

async function files(): Promise<string[]> {
  const root = join(s3.directory, BUCKET, 'tickets');
  const found: string[] = [];
  for (const dt of await readdir(root)) {
    for (const f of await readdir(join(root, dt)))
      if (f.endsWith('._S3rver_object')) found.push(`${dt}/${f}`);
  }
  return found.sort();
}

/** Every row stored, with the day partition its file is in, read by DuckDB off the disk. */
async function storedRows(): Promise<{ dt: string; key: string; changedAt: string }[]> {
  const glob = join(s3.directory, BUCKET, 'tickets', 'dt=*', '*.parquet._S3rver_object');
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    const read = await c.runAndReadAll(
      `SELECT dt, ticket_key || '#' || version AS key, changed_at AS "changedAt" FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {'dt': VARCHAR})`,
    );
    return read.getRowObjectsJS() as { dt: string; key: string; changedAt: string }[];
  } finally {
    c.closeSync();
  }
}

describe('analytics-sink on the table stream', () => {
  it('turns every ticket version into a row, partitioned by day, queryable by DuckDB', async () => {
    const event = await readStreamEvent(dynamoEndpoint(), streamArn);
    expect(event.Records.length).toBe(tickets.length * 3);
    const result = await handler(event, context);
    expect(result.files).toBeGreaterThan(10);
    // Both stored versions of every ticket, once each, each in the file of its change's day.
    const rows = await storedRows();
    expect(rows).toHaveLength(tickets.length * 2);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
    expect(rows.filter((r) => r.dt !== shanghaiDate(r.changedAt))).toEqual([]);
    expect(new Set(rows.map((r) => r.dt)).size).toBe(result.files);
    const engine = new DuckDbAnalytics(
      join(s3.directory, BUCKET, 'tickets', 'dt=*', '*.parquet._S3rver_object'),
    );
    const [totals] = await engine.run('totals', monthParams(MONTH));
    const inMonth = tickets.filter((t) => shanghaiDate(t.createdAt).startsWith(MONTH));
    expect(totals?.tickets).toBe(inMonth.length);
    expect(totals?.closed).toBe(inMonth.length);

    // A retried batch writes the same objects again: nothing new, the same answers.
    const before = await files();
    await handler(event, context);
    expect(await files()).toEqual(before);
    const [again] = await engine.run('totals', monthParams(MONTH));
    expect(again).toEqual(totals);

    // The same records split into two batches (as a bisected retry does) add files, not rows.
    const half = Math.floor(event.Records.length / 2);
    await handler({ Records: event.Records.slice(0, half) }, context);
    await handler({ Records: event.Records.slice(half) }, context);
    expect((await files()).length).toBeGreaterThan(before.length);
    const [split] = await engine.run('totals', monthParams(MONTH));
    expect(split).toEqual(totals);
  }, 120_000);
});

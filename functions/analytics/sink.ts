import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { parquetOf } from '#adapters/analytics/duckdb';
import { analyticsRow, batchKey, byPartition } from '#core/analytics/schema';
import type { Ticket } from '#core/ticket';
import { logger } from '../lib/logger.ts';
import { analyticsDataset, analyticsSalt } from './deps.ts';

/** A stored ticket (its META item), not its history, links or counters. */
function ticketOf(record: DynamoDBRecord): Ticket | undefined {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const keys = record.dynamodb?.Keys;
  if (!keys?.PK?.S?.startsWith('TICKET#') || keys.SK?.S !== 'META') return undefined;
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  return unmarshall(image as Record<string, AttributeValue>) as Ticket;
}

/**
 * analytics-sink: the table's stream into the analytics data set. Every new ticket version
 * becomes a row; a batch becomes one Parquet file per day partition, named by the batch's first
 * and last sequence numbers, so a retried batch overwrites its own files. A row is identified by
 * (ticket_key, version), so a version written twice (a split batch) changes no query result.
 */
export const handler = async (
  event: DynamoDBStreamEvent,
  context: Context,
): Promise<{ files: number }> => {
  logger.addContext(context);
  const records = event.Records;
  const first = records[0]?.dynamodb?.SequenceNumber;
  const last = records.at(-1)?.dynamodb?.SequenceNumber;
  if (!first || !last) return { files: 0 };
  const tickets = records.map(ticketOf).filter((t): t is Ticket => t !== undefined);
  if (tickets.length === 0) return { files: 0 };
  const salt = await analyticsSalt();
  const partitions = byPartition(tickets.map((t) => analyticsRow(t, salt)));
  for (const [dt, rows] of partitions) {
    await analyticsDataset().put(
      batchKey(dt, first, last),
      await parquetOf(rows),
      'application/vnd.apache.parquet',
    );
  }
  logger.info('analytics batch written', {
    records: records.length,
    rows: tickets.length,
    partitions: [...partitions.keys()],
  });
  return { files: partitions.size };
};

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import {
  type BatchCount,
  DynamoMetricCounter,
  METRICS_ATTRIBUTE,
  type StoredMetrics,
} from '#adapters/dynamodb/metric-counter';
import { perContainer } from '#adapters/function-env';
import { FIRST_STEP } from '#core/lifecycle';
import { ticketDeps } from '../lib/deps.ts';
import { logger } from '../lib/logger.ts';

const counter = perContainer(() => new DynamoMetricCounter(documentClient, tableName()));

/** The counters a stored ticket version moved, unless this record did not store them. */
function newMetrics(record: DynamoDBRecord): StoredMetrics | undefined {
  const image = (attribute: Record<string, unknown> | undefined) =>
    attribute?.[METRICS_ATTRIBUTE]
      ? (unmarshall({ m: attribute[METRICS_ATTRIBUTE] as AttributeValue }).m as StoredMetrics)
      : undefined;
  const now = image(record.dynamodb?.NewImage);
  // A write that kept the ticket's counters (a bulletin marking it published) moved none.
  if (!now || image(record.dynamodb?.OldImage)?.version === now.version) return undefined;
  return now;
}

/**
 * Two jobs on the ticket versions the event source mapping's filters pass: starts the lifecycle
 * execution of every newly stored ticket, and counts the unit metrics a ticket change carries
 * (exactly once: see DynamoMetricCounter). The start is idempotent (the execution is named after
 * the ticket), so a redelivered record starts nothing new. A failure is reported per record: the
 * mapping retries from it, in order, and sets it aside in the dead-letter queue after its retries.
 */
export const handler = async (
  event: DynamoDBStreamEvent,
  context: Context,
): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  const records = event.Records.map((record) => ({
    record,
    ticketId: record.dynamodb?.NewImage?.id?.S,
    metrics: newMetrics(record),
  }));
  const versions = records.flatMap(({ ticketId, metrics }) =>
    ticketId && metrics ? [{ ticketId, metrics }] : [],
  );
  // The whole batch in one write where it can; where DynamoDB refuses it (a version counted
  // before, contention, too big), version by version below, where a failure stops at its record.
  // Any other error (throttling, the network, a bug) fails the invocation: the mapping retries
  // and bisects the batch rather than this consumer doubling its writes or hiding the bug.
  let countedAll = false;
  if (versions.length > 1) {
    let batch: BatchCount;
    try {
      batch = await counter().countAll(versions);
    } catch (error) {
      logger.error('stream batch could not be counted; the stream retries it', {
        error: (error as Error).name,
        versions: versions.length,
      });
      throw error;
    }
    countedAll = batch.counted;
    if (!batch.counted) {
      logger.info('stream batch refused as a whole; counting version by version', {
        ...batch,
        versions: versions.length,
      });
    }
  }
  for (const { record, ticketId, metrics } of records) {
    if (!ticketId) continue;
    try {
      if (metrics && !countedAll) await counter().count(ticketId, metrics);
      const status = record.dynamodb?.NewImage?.status?.S;
      if (record.eventName === 'INSERT' && status === 'received') {
        // A new ticket starts at Route with its step in the input: no read.
        await ticketDeps().workflow.startLifecycle(ticketId, 0, FIRST_STEP);
      }
    } catch (error) {
      logger.warn('stream record failed; the stream retries it', {
        ticketId,
        error: (error as Error).name,
      });
      // Everything from this record on is retried, so the order per ticket is kept.
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
};

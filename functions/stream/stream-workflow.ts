import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { FIRST_STEP } from '#core/lifecycle';
import { ticketDeps } from '../lib/deps.ts';
import { logger } from '../lib/logger.ts';

/**
 * Starts the lifecycle execution of every newly stored ticket (the event source mapping's filter
 * passes only those). The start is idempotent (the execution is named after the ticket), so a
 * redelivered record starts nothing new. A failed start is reported per record: the mapping
 * retries from it, in order, and sets it aside in the dead-letter queue after its retries.
 */
export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const workflow = ticketDeps().workflow;
  for (const record of event.Records) {
    const ticketId = record.dynamodb?.NewImage?.id?.S;
    if (!ticketId) continue;
    try {
      // The filter passes new tickets in status received only: they start at Route, no read.
      await workflow.startLifecycle(ticketId, 0, FIRST_STEP);
    } catch (error) {
      logger.warn('lifecycle start failed; the stream retries it', {
        ticketId,
        error: (error as Error).name,
      });
      // Everything from this record on is retried, so the order per ticket is kept.
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
};

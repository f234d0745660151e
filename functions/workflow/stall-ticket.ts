import * as z from 'zod';
import { recordStall } from '#core/stalls';
import { stallDeps } from '../lib/deps.ts';
import { logger } from '../lib/logger.ts';
import { taskHandler, taskInputSchema } from '../lib/task.ts';

const stallInputSchema = taskInputSchema.extend({
  failedState: z.string().min(1).max(80),
  failure: z.object({ Error: z.string().max(256).optional() }).loose(),
});

/**
 * The lifecycle's catch after a step's retries ran out: records the failure on the ticket (a
 * history line and the stalled marker) so the ticket is listed and resumed, never stranded.
 * Only the error's name is kept: its cause may quote data.
 */
export const handler = taskHandler(stallInputSchema, async ({ ticketId, failedState, failure }) => {
  const error = failure.Error ?? 'States.Unknown';
  const stall = await recordStall(stallDeps(), { ticketId, failedState, error });
  logger.warn('ticket stalled', { failedState, error, resumeAt: stall?.resumeAt });
  return { ticketId };
});

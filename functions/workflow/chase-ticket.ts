import { chaseTicket } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { logger } from '../lib/logger.ts';
import { taskHandler, taskInputSchema } from '../lib/task.ts';

/**
 * Records the deadline event that is due: reminder (催办), overdue (督办) or report (通报); a wait's
 * timeout comes straight here. Says what is next.
 */
export const handler = taskHandler(taskInputSchema, async ({ ticketId }) => {
  const { transition, step } = await chaseTicket(ticketDeps(), ticketId);
  if (transition) logger.info('deadline event', { event: transition.history.event });
  return step;
});

import { routeTicket } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { logger } from '../lib/logger.ts';
import { taskHandler, taskInputSchema } from '../lib/task.ts';

/** 派单: picks the lead unit from the dispatch catalogue and starts the deadlines; says what is next. */
export const handler = taskHandler(taskInputSchema, async ({ ticketId }) => {
  const { transition, step } = await routeTicket(ticketDeps(), ticketId);
  if (transition) logger.info('ticket dispatched', { unit: transition.ticket.leadUnit });
  return step;
});

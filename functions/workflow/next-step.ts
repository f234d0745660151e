import { decideNextStep } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { taskHandler, taskInputSchema } from '../lib/task.ts';

/** Reads the ticket record, the source of truth, and says what the workflow does next. */
export const handler = taskHandler(taskInputSchema, ({ ticketId }) =>
  decideNextStep(ticketDeps(), ticketId),
);

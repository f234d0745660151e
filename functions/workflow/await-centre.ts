import { awaitCentre } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { taskHandler, tokenTaskInputSchema } from '../lib/task.ts';

/** Waits for the hotline centre's decision (manual dispatch, a return, an extension, a review). */
export const handler = taskHandler(tokenTaskInputSchema, async ({ ticketId, taskToken }) => {
  await awaitCentre(ticketDeps(), ticketId, taskToken);
  return { ticketId };
});

import { awaitCentre } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { taskHandler, waitTaskInputSchema } from '../lib/task.ts';

/** Waits for the hotline centre's decision (manual dispatch, a return, an extension, a review). */
export const handler = taskHandler(waitTaskInputSchema, async ({ ticketId, taskToken, step }) => {
  await awaitCentre(ticketDeps(), ticketId, taskToken, step?.version);
});

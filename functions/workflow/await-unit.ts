import { awaitUnitReply } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { taskHandler, tokenTaskInputSchema } from '../lib/task.ts';

/**
 * Starts waiting for the lead unit (a .waitForTaskToken task): keeps the token server-side and
 * mails the unit an opaque reply link. The workflow resumes when the unit replies or a deadline
 * event is due.
 */
export const handler = taskHandler(tokenTaskInputSchema, async ({ ticketId, taskToken }) => {
  await awaitUnitReply(ticketDeps(), ticketId, taskToken);
  return { ticketId };
});

import { awaitUnit } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { taskHandler, waitTaskInputSchema } from '../lib/task.ts';

/**
 * Waits for the lead unit (a .waitForTaskToken task): keeps the token server-side and mails the
 * unit its opaque link when there is news for it. The workflow resumes when the unit acts or the
 * next deadline event is due.
 */
export const handler = taskHandler(waitTaskInputSchema, async ({ ticketId, taskToken, step }) => {
  await awaitUnit(ticketDeps(), ticketId, taskToken, step?.version);
});

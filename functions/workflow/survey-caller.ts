import { surveyCaller } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import '../lib/phone-system.ts';
import { taskHandler, waitTaskInputSchema } from '../lib/task.ts';

/** 回访: asks the phone system to survey the caller and waits for the result or the attempt's timeout. */
export const handler = taskHandler(waitTaskInputSchema, async ({ ticketId, taskToken, step }) => {
  await surveyCaller(ticketDeps(), ticketId, taskToken, step?.version);
});

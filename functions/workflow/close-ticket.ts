import { finishTicket } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { taskHandler, taskInputSchema } from '../lib/task.ts';

/** 办结: closes a replied ticket with its history complete. */
export const handler = taskHandler(taskInputSchema, async ({ ticketId }) => {
  await finishTicket(ticketDeps(), ticketId);
  return { ticketId };
});

import { finishTicket } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { taskHandler, taskInputSchema } from '../lib/task.ts';

/** 办结: closes a replied ticket with its history complete; says what is next. */
export const handler = taskHandler(
  taskInputSchema,
  async ({ ticketId }) => (await finishTicket(ticketDeps(), ticketId)).step,
);

import { requireRole } from '#core/access';
import { ticketIdSchema, unitReplySchema } from '#core/ticket';
import { replyAsUnit } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import {
  httpHandler,
  json,
  parseWith,
  pathParameter,
  readBody,
  requirePrincipal,
} from '../lib/http.ts';

/** POST /tickets/{id}/reply: a signed-in clerk of the lead unit answers through the API. */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  requireRole(principal, ['unit']);
  const id = parseWith(ticketIdSchema, pathParameter(event, 'id'));
  const reply = parseWith(unitReplySchema, readBody(event));
  const ticket = await replyAsUnit(ticketDeps(), id, reply, principal);
  return json(200, { id: ticket.id, status: ticket.status });
});

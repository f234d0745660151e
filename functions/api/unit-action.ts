import { ticketIdSchema, unitActionSchema } from '#core/ticket';
import { actAsUnit } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import {
  httpHandler,
  json,
  parseWith,
  pathParameter,
  readBody,
  requirePrincipal,
} from '../lib/http.ts';

/**
 * POST /tickets/{id}/actions: a signed-in clerk of the lead unit signs for the ticket, adds a
 * note, replies, returns it, asks for an extension or applies to declare it unreasonable.
 */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  const id = parseWith(ticketIdSchema, pathParameter(event, 'id'));
  const action = parseWith(unitActionSchema, readBody(event));
  const ticket = await actAsUnit(ticketDeps(), id, action, principal);
  return json(200, { id: ticket.id, status: ticket.status, version: ticket.version });
});

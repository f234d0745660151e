import { centreDecisionSchema, ticketIdSchema } from '#core/ticket';
import { decide } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import '../lib/phone-system.ts';
import {
  httpHandler,
  json,
  parseWith,
  pathParameter,
  readBody,
  requirePrincipal,
} from '../lib/http.ts';

/**
 * POST /tickets/{id}/decisions: the hotline centre dispatches by hand, reviews a return, an
 * extension, an unreasonable-request application (reviewer) or a reply.
 */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  const id = parseWith(ticketIdSchema, pathParameter(event, 'id'));
  const decision = parseWith(centreDecisionSchema, readBody(event));
  const ticket = await decide(ticketDeps(), id, decision, principal);
  return json(200, { id: ticket.id, status: ticket.status, version: ticket.version });
});

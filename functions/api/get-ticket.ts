import { ticketIdSchema } from '#core/ticket';
import { viewTicket } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { httpHandler, json, parseWith, pathParameter, requirePrincipal } from '../lib/http.ts';

/** GET /tickets/{id}: status and full history; a unit sees only its own tickets. */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  const id = parseWith(ticketIdSchema, pathParameter(event, 'id'));
  return json(200, await viewTicket(ticketDeps(), id, principal));
});

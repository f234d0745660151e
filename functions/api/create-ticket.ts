import { actorOf, requireRole } from '#core/access';
import { intakeSchema } from '#core/ticket';
import { fileTicket } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { httpHandler, json, parseWith, readBody, requirePrincipal } from '../lib/http.ts';
import { idempotent } from '../lib/idempotency.ts';
import { logger } from '../lib/logger.ts';

/**
 * POST /tickets: an operator files a ticket (受理). The answer comes as soon as the ticket is
 * stored; the table's stream starts its lifecycle. With an `Idempotency-Key` header, a retried
 * request gets the first answer again and files nothing.
 */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  requireRole(principal, ['operator', 'dispatcher']);
  return idempotent('create-ticket', event, principal, async () => {
    const intake = parseWith(intakeSchema, readBody(event));
    const ticket = await fileTicket(ticketDeps(), intake, actorOf(principal));
    logger.info('ticket filed', { ticketId: ticket.id, topic: ticket.topic });
    return json(
      201,
      { id: ticket.id, status: ticket.status, createdAt: ticket.createdAt },
      { location: `/tickets/${ticket.id}` },
    );
  });
});

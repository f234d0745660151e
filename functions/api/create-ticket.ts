import { actorOf, requireRole } from '#core/access';
import type { TicketStore } from '#core/ports';
import { intakeSchema, type Ticket } from '#core/ticket';
import { fileTicket } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import '../lib/dispatch-model.ts';
import {
  type HttpResult,
  httpHandler,
  json,
  parseWith,
  readBody,
  requirePrincipal,
} from '../lib/http.ts';
import { idempotent } from '../lib/idempotency.ts';
import { logger } from '../lib/logger.ts';

/**
 * POST /tickets: an operator files a ticket (受理). The answer comes as soon as the ticket is
 * stored; the table's stream starts its lifecycle. With an `Idempotency-Key` header, a retried
 * request gets the first answer again and files nothing.
 */
export const handler = httpHandler(async (event, context) => {
  const principal = requirePrincipal(event);
  requireRole(principal, ['operator', 'dispatcher']);
  return idempotent('create-ticket', event, principal, async (storeAnswer) => {
    const intake = parseWith(intakeSchema, readBody(event));
    const deps = ticketDeps();
    const remaining = () => context.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
    const ticket = await fileTicket(
      { ...deps, store: sheddingLate(deps.store, remaining) },
      intake,
      actorOf(principal),
      storeAnswer ? { alongside: (filed) => storeAnswer(created(filed)) } : {},
    ).catch((error: unknown) => {
      if (error instanceof TooLateError) return undefined;
      throw error;
    });
    if (!ticket) {
      logger.warn('intake shed: too little time left to store the ticket');
      return json(
        429,
        {
          error: {
            code: 'overloaded',
            message: 'the hotline is busy; nothing was filed, retry with the same Idempotency-Key',
            fields: [],
          },
        },
        { 'retry-after': '2' },
      );
    }
    logger.info('ticket filed', { ticketId: ticket.id, topic: ticket.topic });
    return created(ticket);
  });
});

const created = (ticket: Ticket): HttpResult =>
  json(
    201,
    { id: ticket.id, status: ticket.status, createdAt: ticket.createdAt },
    { location: `/tickets/${ticket.id}` },
  );

/** Storing needs a few DynamoDB round trips; less than this left, and the answer may be lost. */
const SAVE_MARGIN_MS = 5_000;

class TooLateError extends Error {}

/**
 * Load shedding: under overload a request can queue so long that its caller (or API Gateway, at
 * 30 s) has given up before the ticket is stored, which would leave a ticket nobody was told
 * about. So the write happens only with time to spare; otherwise nothing is written and the
 * caller is told to retry (429).
 */
function sheddingLate(store: TicketStore, remainingMs: () => number): TicketStore {
  return Object.assign(Object.create(store) as TicketStore, {
    save: (...args: Parameters<TicketStore['save']>) => {
      if (remainingMs() < SAVE_MARGIN_MS) return Promise.reject(new TooLateError());
      return store.save(...args);
    },
  });
}

import { z } from 'zod';
import { unitReplySchema } from '#core/ticket';
import { replyByLink } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import {
  html,
  httpHandler,
  json,
  parseWith,
  pathParameter,
  principalOf,
  readBody,
} from '../lib/http.ts';
import { replyAcceptedPage } from '../lib/reply-page.ts';

export const replyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{32}$/, 'is not a reply id');

/**
 * POST /replies/{replyId}: the unit's answer through the link in its mail (JSON, or the page's
 * form). The unguessable id is the credential; a used or replaced link is refused.
 */
export const handler = httpHandler(async (event) => {
  const replyId = parseWith(replyIdSchema, pathParameter(event, 'replyId'));
  const body = readBody(event, { allowForm: true });
  const reply = parseWith(unitReplySchema, body);
  const ticket = await replyByLink(ticketDeps(), replyId, reply, principalOf(event));
  const fromForm = (event.headers?.['content-type'] ?? '').startsWith(
    'application/x-www-form-urlencoded',
  );
  return fromForm
    ? html(200, replyAcceptedPage(ticket))
    : json(200, { id: ticket.id, status: ticket.status });
});

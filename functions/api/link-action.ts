import * as z from 'zod';
import { unitActionSchema } from '#core/ticket';
import { actByLink } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { html, httpHandler, json, parseWith, pathParameter, readBody } from '../lib/http.ts';
import { actionAcceptedPage } from '../lib/link-page.ts';

export const replyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{32}$/, 'is not a link id');

/**
 * POST /replies/{replyId}: the unit acts through the link in its mail (JSON, or the page's
 * forms). The unguessable id is the credential; a replaced link, or one whose ticket has left
 * the unit, is refused with 410.
 */
export const handler = httpHandler(async (event) => {
  const replyId = parseWith(replyIdSchema, pathParameter(event, 'replyId'));
  const action = parseWith(unitActionSchema, readBody(event, { allowForm: true }));
  const ticket = await actByLink(ticketDeps(), replyId, action);
  const fromForm = (event.headers?.['content-type'] ?? '').startsWith(
    'application/x-www-form-urlencoded',
  );
  return fromForm
    ? html(200, actionAcceptedPage(ticket, replyId))
    : json(200, { id: ticket.id, status: ticket.status, version: ticket.version });
});

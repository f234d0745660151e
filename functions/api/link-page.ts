import { viewByLink } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { html, httpHandler, parseWith, pathParameter } from '../lib/http.ts';
import { linkPage } from '../lib/link-page.ts';
import { replyIdSchema } from './link-action.ts';

/** GET /replies/{replyId}: the ticket and what the unit can do now. A GET never changes state. */
export const handler = httpHandler(async (event) => {
  const replyId = parseWith(replyIdSchema, pathParameter(event, 'replyId'));
  const { ticket, actionable } = await viewByLink(ticketDeps(), replyId);
  return html(200, linkPage(ticket, replyId, actionable));
});

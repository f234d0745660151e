import { viewByReplyLink } from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import { html, httpHandler, parseWith, pathParameter } from '../lib/http.ts';
import { replyPage } from '../lib/reply-page.ts';
import { replyIdSchema } from './submit-reply.ts';

/** GET /replies/{replyId}: shows the ticket and the reply form. A GET never changes state. */
export const handler = httpHandler(async (event) => {
  const replyId = parseWith(replyIdSchema, pathParameter(event, 'replyId'));
  const { ticket, open } = await viewByReplyLink(ticketDeps(), replyId);
  return html(200, replyPage(ticket, replyId, open));
});

import * as z from 'zod';
import { viewHeldCase } from '#core/bulletin/holds';
import { ticketIdSchema } from '#core/ticket';
import { html, httpHandler, parseWith, pathParameter } from '../lib/http.ts';
import { bulletinDeps } from './deps.ts';

export const holdIdSchema = z.string().regex(/^[A-Za-z0-9_-]{32}$/, 'not a hold id');

/**
 * GET /bulletin-cases/{ticketId}/review/{holdId}: the held case's texts masked, beside the
 * suggested masking. Reached through the reviewers' mail; shows no found value, changes nothing.
 */
export const handler = httpHandler(async (event) => {
  const ticketId = parseWith(ticketIdSchema, pathParameter(event, 'ticketId'));
  const holdId = parseWith(holdIdSchema, pathParameter(event, 'holdId'));
  return html(
    200,
    await viewHeldCase(
      bulletinDeps().store,
      ticketId,
      holdId,
      `/bulletin-cases/${ticketId}/public-text`,
    ),
  );
});

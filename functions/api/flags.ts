import * as z from 'zod';
import { flaggedCalls } from '#adapters/dynamodb/review-queues';
import { requireRole } from '#core/access';
import { httpHandler, json, parseWith, requirePrincipal } from '../lib/http.ts';

const querySchema = z.strictObject({
  month: z.string().regex(/^\d{4}-\d{2}$/, 'must be a month like 2026-11'),
});

/**
 * GET /flags?month=2026-11: tickets of repeat callers without substantive content, for a person
 * at the centre to look at. 12345 never blocks a caller automatically; this list is the whole of
 * what the flag does.
 */
export const handler = httpHandler(async (event) => {
  requireRole(requirePrincipal(event), ['dispatcher', 'supervisor']);
  const { month } = parseWith(querySchema, event.queryStringParameters ?? {});
  return json(200, { month, flagged: await flaggedCalls(month) });
});

import * as z from 'zod';
import { requireRole } from '#core/access';
import { httpHandler, json, parseWith, requirePrincipal } from '../lib/http.ts';
import { deliveryStore } from '../phone/delivery-store.ts';

const querySchema = z.strictObject({ date: z.iso.date('must be a date like 2026-11-21') });

/**
 * GET /dead-letters?date=2026-11-21: phone deliveries that were accepted but could not be applied
 * (an unknown survey or call), for a dispatcher to look at. They may carry callers' numbers, so
 * only the centre's dispatchers see them.
 */
export const handler = httpHandler(async (event) => {
  requireRole(requirePrincipal(event), ['dispatcher']);
  const { date } = parseWith(querySchema, event.queryStringParameters ?? {});
  return json(200, { date, deadLetters: await deliveryStore().deadLetters(date) });
});

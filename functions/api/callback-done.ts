import * as z from 'zod';
import { requireRole } from '#core/access';
import { now } from '#core/clock';
import { PHONE_PROVIDERS } from '#core/phone/events';
import { CALLBACK_OUTCOMES, markCallbackDone } from '#core/phone-intake';
import {
  httpHandler,
  json,
  parseWith,
  pathParameter,
  readBody,
  requirePrincipal,
} from '../lib/http.ts';
import { deliveryStore } from '../phone/delivery-store.ts';

const callIdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'must be a call id from the call-back list');

const bodySchema = z.strictObject({
  outcome: z.enum(CALLBACK_OUTCOMES),
  note: z.string().trim().min(1).max(500).optional(),
  /** Only needed if two phone systems reported the same call id. */
  provider: z.enum(PHONE_PROVIDERS).optional(),
});

/**
 * POST /callbacks/{callId}/done: an operator or dispatcher records that a missed call was called
 * back (回拨): who, when and how it went. The day's list then shows it done.
 */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  requireRole(principal, ['operator', 'dispatcher']);
  const callId = parseWith(callIdSchema, pathParameter(event, 'callId'));
  const body = parseWith(bodySchema, readBody(event));
  const marked = await markCallbackDone({ deliveries: deliveryStore(), now }, principal, {
    callId,
    ...body,
  });
  return json(200, {
    callId: marked.callId,
    provider: marked.provider,
    date: marked.day,
    done: marked.done,
  });
});

import { requireRole } from '#core/access';
import { shanghaiDate } from '#core/calendar';
import { now } from '#core/clock';
import { ValidationError } from '#core/errors';
import { httpHandler, json, requirePrincipal } from '../lib/http.ts';
import { deliveryStore } from '../phone/delivery-store.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * GET /callbacks?date=YYYY-MM-DD (default: today, Asia/Shanghai): the missed calls of a day to
 * call back (漏接回拨), oldest first, for the centre's operators and dispatchers. It carries the
 * callers' numbers, which is why units and other roles are refused.
 */
export const handler = httpHandler(async (event) => {
  requireRole(requirePrincipal(event), ['operator', 'dispatcher']);
  const date = event.queryStringParameters?.date ?? shanghaiDate(now());
  if (!DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    throw new ValidationError('date must be YYYY-MM-DD', [
      { field: 'date', problem: 'must be a date like 2026-03-02' },
    ]);
  }
  const callbacks = await deliveryStore().callbacks(date);
  return json(200, { date, callbacks });
});

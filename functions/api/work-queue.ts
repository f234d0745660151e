import * as z from 'zod';
import { centreQueue, openTicketsOf } from '#adapters/dynamodb/review-queues';
import { requireRole } from '#core/access';
import { now } from '#core/clock';
import { ForbiddenError } from '#core/errors';
import { httpHandler, json, parseWith, requirePrincipal } from '../lib/http.ts';

const querySchema = z.strictObject({
  unit: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a unit id')
    .optional(),
});

/**
 * GET /work-queue?unit=water-supply: a unit's open tickets, soonest reply deadline first (the
 * overdue ones on top). A clerk sees only their own unit's queue; the centre sees any unit's,
 * and without `unit` its own: the tickets waiting for its decision, soonest time limit first,
 * each marked `overdue` once the centre's limit has passed.
 */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  requireRole(principal, ['unit', 'dispatcher', 'supervisor']);
  const { unit } = parseWith(querySchema, event.queryStringParameters ?? {});
  const unitId = principal.role === 'unit' ? principal.unitId : unit;
  if (principal.role === 'unit' && unit && unit !== principal.unitId) {
    throw new ForbiddenError('a unit sees only its own queue', [
      { field: 'unit', problem: 'is another unit' },
    ]);
  }
  if (!unitId) {
    const at = now().toISOString();
    const tickets = (await centreQueue()).map((t) => ({
      ...t,
      overdue: Boolean(t.deadlines.centreBy && at >= t.deadlines.centreBy),
    }));
    return json(200, { queue: 'centre', tickets });
  }
  return json(200, { unit: unitId, tickets: await openTicketsOf(unitId) });
});

import { z } from 'zod';
import { openTicketsOf } from '#adapters/dynamodb/review-queues';
import { requireRole } from '#core/access';
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
 * overdue ones on top). A clerk sees only their own unit's queue; the centre sees any unit's.
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
  if (!unitId)
    throw new ForbiddenError('name the unit', [{ field: 'unit', problem: 'is required' }]);
  return json(200, { unit: unitId, tickets: await openTicketsOf(unitId) });
});

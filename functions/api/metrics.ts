import * as z from 'zod';
import { metricsOf } from '#adapters/dynamodb/metrics-store';
import { requireRole } from '#core/access';
import { rankUnits } from '#core/metrics';
import { httpHandler, json, parseWith, requirePrincipal } from '../lib/http.ts';

const querySchema = z.strictObject({
  period: z
    .string()
    .regex(/^\d{4}-\d{2}(-\d{2})?$/, 'must be a month (2026-11) or a day (2026-11-21)'),
});

/**
 * GET /metrics?period=2026-11: every unit's counters, its 响应率, 按时办结率, 解决率 and 满意率, and
 * the ranking. One Query on the period's partition: the cost grows with the number of units,
 * not with the number of tickets.
 */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  requireRole(principal, ['supervisor', 'dispatcher']);
  const { period } = parseWith(querySchema, event.queryStringParameters ?? {});
  const units = rankUnits(await metricsOf(period));
  return json(200, { period, units });
});

import * as z from 'zod';
import { detectDay } from '#core/analytics/analysis';
import { addDays } from '#core/analytics/sql';
import { warningsOf } from '#core/analytics/warnings';
import { shanghaiDate } from '#core/calendar';
import { now } from '#core/clock';
import { parseWith } from '../lib/http.ts';
import { logger } from '../lib/logger.ts';
import { analyticsQueries, warningStore } from './deps.ts';

const inputSchema = z.strictObject({
  day: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day such as 2026-11-30')
    .optional(),
});

/**
 * The daily detection (workflow task): yesterday's surges, clusters and repeat callers, each
 * recorded once. Returns how many are new; the notify step mails them.
 */
export const handler = async (
  input: unknown,
): Promise<{ day: string; found: number; new: number }> => {
  const { day = addDays(shanghaiDate(now()), -1) } = parseWith(inputSchema, input ?? {});
  const warnings = warningsOf(await detectDay(await analyticsQueries(), day));
  let fresh = 0;
  for (const w of warnings) if (await warningStore().record(w)) fresh++;
  logger.info('analytics detection', { day, found: warnings.length, new: fresh });
  return { day, found: warnings.length, new: fresh };
};

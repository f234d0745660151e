import * as z from 'zod';
import { trainCandidate } from '#core/dispatch-model/retrain';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { retrainDeps } from './deps.ts';

/** The run's own input: {} on schedule, or {"months": n, "epochs": n} when started by hand. */
const inputSchema = z.object({
  options: z
    .object({
      months: z.number().int().min(1).max(120).optional(),
      epochs: z.number().int().min(1).max(200).optional(),
    })
    .default({}),
});

/** Train: a candidate model from the seed corpus and the labelled history, stored unpromoted. */
export const handler = taskHandler(inputSchema, async ({ options }) => {
  const result = await trainCandidate(retrainDeps(), options);
  logger.info('dispatch model trained', { ...result });
  return result;
});

import * as z from 'zod';
import { promoteModel } from '#core/dispatch-model/retrain';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { retrainDeps } from './deps.ts';

const inputSchema = z.object({ version: z.string().regex(/^\d{8}-[0-9a-f]{8}$/) });

/** Promote: containers load this version from their next check on (the previous one is kept). */
export const handler = taskHandler(inputSchema, async ({ version }) => {
  await promoteModel(retrainDeps(), version);
  logger.info('dispatch model promoted', { version });
  return { promoted: version };
});

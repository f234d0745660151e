import type { Context } from 'aws-lambda';
import { resumeDueStalls } from '#core/stalls';
import { stallDeps } from '../lib/deps.ts';
import { logger } from '../lib/logger.ts';

/**
 * Run by a schedule (every five minutes): starts a fresh execution for every stalled ticket that
 * is due. It reads the sparse stalled index only, so an idle run costs one empty Query.
 */
export const handler = async (
  _event: unknown,
  context: Context,
): Promise<{ resumed: number; cleared: number }> => {
  logger.addContext(context);
  const { resumed, cleared } = await resumeDueStalls(stallDeps());
  if (resumed.length || cleared.length)
    logger.info('stalled tickets resumed', { resumed, cleared });
  return { resumed: resumed.length, cleared: cleared.length };
};

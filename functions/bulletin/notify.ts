import * as z from 'zod';
import { notifySubscribers } from '#core/bulletin/publishing';
import { taskHandler } from '../lib/task.ts';
import { bulletinDeps } from './deps.ts';

export const handler = taskHandler(
  z.object({ issueNumber: z.number().int().positive() }),
  async ({ issueNumber }) => notifySubscribers(bulletinDeps(), issueNumber),
);

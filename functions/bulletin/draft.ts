import * as z from 'zod';
import { draftIssue } from '#core/bulletin/publishing';
import { ticketIdSchema } from '#core/ticket';
import { taskHandler } from '../lib/task.ts';
import { bulletinDeps } from './deps.ts';

/** Draft: the next issue from the collected cases, stored for the reviewers. */
export const handler = taskHandler(
  z.object({ ticketIds: z.array(ticketIdSchema).min(1) }),
  async ({ ticketIds }) => draftIssue(bulletinDeps(), ticketIds),
);

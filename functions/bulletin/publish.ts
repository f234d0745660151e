import * as z from 'zod';
import { publishIssue } from '#core/bulletin/publishing';
import { taskHandler } from '../lib/task.ts';
import { draftIdSchema } from './check-privacy.ts';
import { bulletinDeps } from './deps.ts';

/** Publish: claims the issue number and the cases in one transaction, then writes the site. */
export const handler = taskHandler(z.object({ draftId: draftIdSchema }), async ({ draftId }) =>
  publishIssue(bulletinDeps(), draftId),
);

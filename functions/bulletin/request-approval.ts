import * as z from 'zod';
import { requestApproval } from '#core/bulletin/publishing';
import { taskHandler } from '../lib/task.ts';
import { draftIdSchema } from './check-privacy.ts';
import { bulletinDeps } from './deps.ts';

/** A .waitForTaskToken task: keeps the token with the draft and mails the reviewers its link. */
export const handler = taskHandler(
  z.object({ draftId: draftIdSchema, taskToken: z.string().min(1) }),
  async ({ draftId, taskToken }) => {
    await requestApproval(bulletinDeps(), draftId, taskToken);
    return { draftId };
  },
);

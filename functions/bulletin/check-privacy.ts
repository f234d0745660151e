import * as z from 'zod';
import { checkDraftPrivacy } from '#core/bulletin/publishing';
import { taskHandler } from '../lib/task.ts';
import { bulletinDeps } from './deps.ts';

export const draftIdSchema = z.string().regex(/^[A-Za-z0-9_-]{32}$/, 'not a draft id');

/** Privacy guard: throws PersonalDataFound (masked excerpts only) to stop the run. */
export const handler = taskHandler(z.object({ draftId: draftIdSchema }), async ({ draftId }) =>
  checkDraftPrivacy(bulletinDeps(), draftId),
);

import * as z from 'zod';
import { collectCases } from '#core/bulletin/publishing';
import { taskHandler } from '../lib/task.ts';
import { bulletinDeps } from './deps.ts';

/** Collect: approved unreasonable cases not yet published, oldest first, up to the cap. */
export const handler = taskHandler(z.object({}), async () => collectCases(bulletinDeps()));

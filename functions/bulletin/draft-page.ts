import { viewDraft } from '#core/bulletin/publishing';
import { html, httpHandler, parseWith, pathParameter } from '../lib/http.ts';
import { draftIdSchema } from './check-privacy.ts';
import { bulletinDeps } from './deps.ts';

/** GET /bulletin-drafts/{draftId}: the draft for the reviewers. A GET never changes state. */
export const handler = httpHandler(async (event) => {
  const draftId = parseWith(draftIdSchema, pathParameter(event, 'draftId'));
  return html(200, await viewDraft(bulletinDeps(), draftId));
});

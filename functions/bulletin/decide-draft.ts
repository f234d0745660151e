import { decideDraft, draftDecisionSchema } from '#core/bulletin/publishing';
import {
  httpHandler,
  json,
  parseWith,
  pathParameter,
  readBody,
  requirePrincipal,
} from '../lib/http.ts';
import { draftIdSchema } from './check-privacy.ts';
import { bulletinDeps } from './deps.ts';

/** POST /bulletin-drafts/{draftId}/decision (reviewer): approve, or reject with comments. */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  const draftId = parseWith(draftIdSchema, pathParameter(event, 'draftId'));
  const decision = parseWith(draftDecisionSchema, readBody(event));
  return json(200, await decideDraft(bulletinDeps(), draftId, decision, principal));
});

import * as z from 'zod';
import { requireRole } from '#core/access';
import { topicClassifier } from '../lib/dispatch-model.ts';
import { httpHandler, json, parseWith, readBody, requirePrincipal } from '../lib/http.ts';

const requestSchema = z.strictObject({
  content: z.string().trim().min(1).max(4000),
});

/**
 * POST /tickets/classify: the dispatch model's three most likely topics for what the caller is
 * saying, for the operator's screen during the call (智能派单). Nothing is stored or logged: the
 * content may name people.
 */
export const handler = httpHandler(async (event) => {
  requireRole(requirePrincipal(event), ['operator', 'dispatcher']);
  const { content } = parseWith(requestSchema, readBody(event));
  const { modelVersion, threshold, suggestions } = await topicClassifier().suggest(content);
  return json(200, {
    modelVersion,
    threshold,
    suggestions: suggestions.map((s) => ({
      topic: s.topic,
      probability: Math.round(s.probability * 1000) / 1000,
    })),
  });
});

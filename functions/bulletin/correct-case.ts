import { caseCorrectionSchema, correctHeldCase } from '#core/bulletin/holds';
import { ticketIdSchema } from '#core/ticket';
import {
  httpHandler,
  json,
  parseWith,
  pathParameter,
  readBody,
  requirePrincipal,
} from '../lib/http.ts';
import { bulletinDeps } from './deps.ts';

/**
 * POST /bulletin-cases/{ticketId}/public-text (reviewer): accept the suggested masking of a held
 * case, or give the text; recorded in the ticket's history, and the case goes back to the queue.
 */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  const ticketId = parseWith(ticketIdSchema, pathParameter(event, 'ticketId'));
  const request = parseWith(caseCorrectionSchema, readBody(event));
  const deps = bulletinDeps();
  return json(200, await correctHeldCase(deps, ticketId, request, principal));
});

import { requireRole } from '#core/access';
import { stallDeps } from '../lib/deps.ts';
import { httpHandler, json, requirePrincipal } from '../lib/http.ts';

/**
 * GET /stalled: tickets whose workflow step failed after its retries (停滞), with the failed step,
 * the error's name and when they resume on their own. The centre sees them; a unit does not.
 */
export const handler = httpHandler(async (event) => {
  const principal = requirePrincipal(event);
  requireRole(principal, ['dispatcher', 'supervisor']);
  return json(200, { tickets: await stallDeps().stalls.list() });
});

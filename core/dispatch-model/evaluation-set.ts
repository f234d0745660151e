import evaluationSet from '#data/dispatch/eval.json' with { type: 'json' };
import { requests } from './corpus.ts';
import type { Example } from './model.ts';

/**
 * Requests written separately from the seed, in other words, and never used to fit or tune
 * anything: the honest measure of how the model does on what callers say. Kept out of the
 * corpus module so no function bundle carries it.
 */
export function evaluationRequests(): Example[] {
  return requests(evaluationSet);
}

import evaluationSet from '#data/dispatch/eval.json' with { type: 'json' };
import holdoutSet from '#data/dispatch/holdout.json' with { type: 'json' };
import secondHoldoutSet from '#data/dispatch/holdout-2.json' with { type: 'json' };
import thirdHoldoutSet from '#data/dispatch/holdout-3.json' with { type: 'json' };
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

/**
 * A second independent set (data/dispatch/holdout.json), written before the model and corpus of
 * 2026-11-30 were tuned, in forms neither the seed nor eval.json used, and scored once after
 * the tuning: the check that tuning against eval.json's aggregate figures did not flatter them.
 */
export function holdoutRequests(): Example[] {
  return requests(holdoutSet);
}

/**
 * A third independent set (data/dispatch/holdout-2.json, 6 requests per topic, written
 * 2026-11-30 without sight of the seed, the glossary or the other two sets): both earlier sets had
 * been looked at too often to be trusted. Reported, never fitted or tuned on; scored once.
 */
export function secondHoldoutRequests(): Example[] {
  return requests(secondHoldoutSet);
}

/**
 * A fourth independent set (data/dispatch/holdout-3.json, 6 requests per topic, written
 * 2026-11-30 without sight of the seed, the glossary or the other three sets), in the forms real
 * hotline text reaches the classifier in rather than a caller's own voice: operators' work-order
 * summaries, web and app message-board posts, and short WeChat/SMS messages with typos.
 * Reported, never fitted or tuned on.
 */
export function thirdHoldoutRequests(): Example[] {
  return requests(thirdHoldoutSet);
}

import bundled from '#data/dispatch/seed-model.json' with { type: 'json' };
import type { DispatchModel } from './model.ts';

/**
 * The model built from the seed corpus alone (npm run dispatch:train), shipped with the code: a
 * fresh deployment classifies from its first request, before any retraining run has promoted a
 * model to S3. A unit test fails when the corpus changes and this file was not rebuilt.
 */
export const SEED_MODEL = bundled as DispatchModel;

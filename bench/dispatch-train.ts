/**
 * npm run dispatch:train: rebuilds data/dispatch/seed-model.json, the model a fresh deployment
 * uses until the retraining workflow promotes one, from the seed corpus alone.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { corpusDigest, seedCorpus } from '#core/dispatch-model/corpus';
import { train } from '#core/dispatch-model/model';
import { cli } from './lib/common.ts';

cli(
  `npm run dispatch:train [-- --help]

Rebuilds data/dispatch/seed-model.json from the seed corpus alone (overwrites it). No options.`,
  {},
);

const started = Date.now();
const model = { ...train(seedCorpus()), corpusDigest: corpusDigest() };
const file = fileURLToPath(new URL('../data/dispatch/seed-model.json', import.meta.url));
writeFileSync(file, `${JSON.stringify(model)}\n`);
const e = model.evaluation;
console.log(
  `seed model ${model.version}: ${model.data.seed} requests + glossary, ${model.vocabulary.length} features, ` +
    `T=${model.temperature}, threshold ${model.threshold}; held-back ${e.size}: top-1 ${(e.top1 * 100).toFixed(1)}%, ` +
    `top-3 ${(e.top3 * 100).toFixed(1)}% (${((Date.now() - started) / 1000).toFixed(1)} s) → ${file}`,
);

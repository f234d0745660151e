/**
 * npm run dispatch:train: rebuilds data/dispatch/seed-model.json, the model a fresh deployment
 * uses until the retraining workflow promotes one, from the seed corpus alone.
 *
 * npm run dispatch:train -- --labels 100000: writes nothing; measures what the retraining task
 * (functions/dispatch/train.ts: 15 min, 3008 MB) does with that many labelled tickets, synthesised
 * from the seed corpus (see syntheticLabels), and prints its time, peak memory and model size.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSeedModel } from '#adapters/seed-dispatch-model';
import { corpusDigest, SEED_TOPICS, seedCorpus } from '#core/dispatch-model/corpus';
import {
  type Example,
  evaluate,
  heldBackSlice,
  type LabelProvenance,
  train,
} from '#core/dispatch-model/model';
import { mulberry32 } from '#core/random';
import { cli } from './lib/common.ts';

const values = cli(
  `npm run dispatch:train [-- --labels N [--epochs E]] [-- --help]

Without options: rebuilds data/dispatch/seed-model.json from the seed corpus alone (overwrites it).
--labels N   measure a retrain on N synthetic labelled tickets made from the seed (writes nothing)
--epochs E   passes over the data in that measurement (default: scaled to the data size)`,
  { labels: { type: 'string' }, epochs: { type: 'string' } },
);

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** What callers wrap a request in: none of it says anything about the topic. */
const OPENINGS = [
  '',
  '',
  '你好，',
  '喂，我想反映个事，',
  '我是附近的居民，',
  '麻烦问一下，',
  '我要投诉，',
];
const CLOSINGS = [
  '',
  '',
  '，谢谢',
  '，请尽快处理',
  '，都好几天了',
  '，希望有人管管',
  '，已经打过好几次电话了',
];
const PLACES = ['', '', '我们小区', '东城街道', '南湖村', '人民路上', '老街这边', '工业园旁边'];

/**
 * `n` labelled tickets made from the seed requests with variation: each takes a request's clause
 * and one from another request of the same topic, a place, an opening and a closing, a few
 * characters dropped (typos), sometimes a distractor clause from another topic, digits that the
 * label masking would have left (#). Provenance as a hotline's might be: mostly confirmed, some
 * corrected, a fifth the model's own unreviewed choices.
 */
export function syntheticLabels(n: number, seed = 7): Example[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const corpus = seedCorpus();
  const byTopic = new Map<string, string[][]>();
  for (const e of corpus.seed) {
    const clauses = e.text.split(/[，。！？,]/).filter(Boolean);
    byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), clauses]);
  }
  const out: Example[] = [];
  for (let i = 0; i < n; i++) {
    const topic = SEED_TOPICS[i % SEED_TOPICS.length]!;
    const requests = byTopic.get(topic)!;
    const own = pick(requests);
    const parts = [pick(PLACES) + own[0]!, ...own.slice(1)];
    if (rand() < 0.5) parts.push(pick(pick(requests)));
    if (rand() < 0.2)
      parts.splice(
        Math.floor(rand() * parts.length),
        0,
        pick(pick(byTopic.get(pick(SEED_TOPICS))!)),
      );
    let text = pick(OPENINGS) + parts.join('，') + pick(CLOSINGS);
    if (rand() < 0.3) {
      const at = Math.floor(rand() * text.length);
      text = text.slice(0, at) + text.slice(at + 1);
    }
    if (rand() < 0.1) text += `，电话#，门牌${Math.floor(rand() * 300)}号`;
    const r = rand();
    const provenance: LabelProvenance =
      r < 0.7 ? 'confirmed' : r < 0.8 ? 'corrected' : 'unreviewed';
    out.push({ text, topic, provenance });
  }
  return out;
}

if (values.labels) {
  const labelled = syntheticLabels(Number(values.labels));
  const corpus = { ...seedCorpus(), labelled };
  const started = performance.now();
  const model = train(corpus, {
    now: new Date(),
    ...(values.epochs ? { epochs: Number(values.epochs) } : {}),
  });
  const trained = performance.now();
  // The rest of the task: the current model scored on the same held-back slice.
  const current = evaluate(await readSeedModel(), heldBackSlice(corpus));
  const done = performance.now();
  const e = model.evaluation;
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${labelled.length} synthetic labels (${model.data.labelled} fitted or held back, unreviewed left out): ` +
      `train ${((trained - started) / 1000).toFixed(1)} s + score current ${((done - trained) / 1000).toFixed(1)} s, ` +
      `peak RSS ${rssMiB.toFixed(0)} MiB; ${model.vocabulary.length} features, model ${(JSON.stringify(model).length / 1e6).toFixed(2)} MB; ` +
      `held-back ${e.size}: top-1 ${pct(e.top1)}, top-3 ${pct(e.top3)} (current: ${pct(current.top1)}, ${pct(current.top3)})`,
  );
} else {
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
}

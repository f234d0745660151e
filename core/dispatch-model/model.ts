import { createHash } from 'node:crypto';
import { mulberry32 } from '../random.ts';
import { tokens } from './text.ts';

/** A labelled request: the words as the caller said them and the topic it was finally handled as. */
export interface Example {
  text: string;
  topic: string;
  /** For a labelled ticket: who stands behind its topic (absent: the corpus, written by us). */
  provenance?: LabelProvenance;
}

/**
 * Who stands behind a closed ticket's topic: a person chose or confirmed it (`confirmed`), a
 * person replaced another topic with it, the model's or a colleague's, typically after a return
 * (`corrected`), or the model chose it and nobody looked again (`unreviewed`). An unreviewed
 * label is the model's own guess: fitted as if confirmed it would teach the model its mistakes.
 */
export type LabelProvenance = 'confirmed' | 'corrected' | 'unreviewed';

/**
 * How much each kind of label counts in fitting. Unreviewed labels are left out (and out of the
 * held-back slice: scoring a candidate on them would reward agreeing with the old model); a
 * correction is where the old model, or a person, was wrong, and counts double.
 */
export const LABEL_WEIGHTS: Record<LabelProvenance, number> = {
  confirmed: 1,
  corrected: 2,
  unreviewed: 0,
};

const weightOf = (e: Example, w: Record<LabelProvenance, number>) =>
  e.provenance ? w[e.provenance] : 1;

export interface Evaluation {
  /** How many requests were scored. */
  size: number;
  top1: number;
  top3: number;
  /** Share of requests whose top topic clears the threshold (dispatched without a person). */
  automatic: number;
  /** Of those, the share whose top topic was right. */
  automaticPrecision: number;
  /** Mean negative log-likelihood of the true topic: lower is better calibrated and sharper. */
  logLoss: number;
}

/**
 * The classifier as stored (S3, and the bundled seed model): TF-IDF over words and character
 * bigrams, a multinomial logistic regression, and a temperature fitted on a held-out slice so
 * that its probabilities mean what they say.
 */
/** The artefact's format; a reader refuses any other (adapters/s3-dispatch-models.ts). */
export const MODEL_FORMAT = 'hotline-dispatch-model/1';

export interface DispatchModel {
  format: typeof MODEL_FORMAT;
  version: string;
  trainedAt: string;
  topics: string[];
  vocabulary: string[];
  idf: number[];
  /**
   * weights[k][j]: topic k, feature j, to two decimals: they are most of the artefact (topics ×
   * features numbers), and on the seed's held-back slice the ranking and log-loss are those of four.
   * (Stored as plain numbers on purpose: code that reads them as they are must never misread a
   * newer model; a scale factor would make an older deployment 100 times too confident.)
   */
  weights: number[][];
  bias: number[];
  temperature: number;
  data: { seed: number; labelled: number; train: number; heldOut: number };
  evaluation: Evaluation;
  /** The probability above which a request is dispatched without a dispatcher. */
  threshold: number;
  /** For the bundled seed model: the corpus it was built from (see corpusDigest). */
  corpusDigest?: string;
}

export interface Suggestion {
  topic: string;
  probability: number;
}

export interface TrainOptions {
  /** Default 0.2: the slice held back for the temperature and the figures. */
  heldOutShare?: number;
  /**
   * Passes over the data. By default 30 for a small corpus, fewer as it grows, so that about
   * EXAMPLE_VISITS examples are visited in all: the seed alone gets 30; 100,000 labelled tickets
   * (80,000 fitted) get 6 and train in 2 to 6 minutes with 0.76 GiB at peak, inside the retrain
   * task's 15 minutes and 3008 MB; 30 passes would take about half an hour
   * (npm run dispatch:train -- --labels 100000).
   */
  epochs?: number;
  /** Default 2e-5 (5e-5 until the corpus grew to 1,635 requests: slightly worse on its held-back slice). */
  l2?: number;
  minDf?: number;
  /**
   * Default 2. A character bigram seen in one request only lets the fit memorise that request
   * rather than learn from its words; words and single characters stay at `minDf` (a glossary
   * term is one request). On the seed's held-back slice (1,635 requests) this cut the log-loss
   * from 0.520 to 0.485 and the artefact from 3.7 to 2.2 MB.
   */
  minBigramDf?: number;
  maxFeatures?: number;
  /** Default LABEL_WEIGHTS. */
  labelWeights?: Record<LabelProvenance, number>;
  /**
   * The automatic-dispatch threshold; by default the lowest of 0.50, 0.51 … 0.95 at which the
   * held-back slice's automatic dispatches are at least 97% right (see chooseThreshold).
   */
  threshold?: number | 'auto';
  now?: Date;
}

const EXAMPLE_VISITS = 400_000;

/** Automatic dispatch must be right this often on the held-back slice. */
export const TARGET_PRECISION = 0.97;

/**
 * The lowest threshold on a 0.01 grid from 0.95 down at which the held-back slice's automatic
 * dispatches, and those at every higher step, are at least TARGET_PRECISION right (0.95 if none
 * is). A 0.05 grid gave away automatic share the slice did not ask for: with 2,185 requests it
 * jumped from 0.90 (96.8 %) to 0.95, 65 % automatic, where 0.91 already gives 71 % at 97.4 %.
 */
function chooseThreshold(model: DispatchModel, test: Example[]): number {
  const known = new Set(model.topics);
  const tops = test
    .filter((e) => known.has(e.topic))
    .map((e) => {
      const [top] = classify(model, e.text, 1);
      return { p: top!.probability, right: top!.topic === e.topic };
    });
  let chosen = 95;
  for (let t = 95; t >= 50; t--) {
    const auto = tops.filter((x) => x.p >= t / 100);
    if (!auto.length) continue;
    if (auto.filter((x) => x.right).length / auto.length < TARGET_PRECISION) break;
    chosen = t;
  }
  return chosen / 100;
}

type Sparse = { index: Int32Array; value: Float64Array };

const indexCache = new WeakMap<DispatchModel, Map<string, number>>();
function featureIndex(model: DispatchModel): Map<string, number> {
  let index = indexCache.get(model);
  if (!index) {
    index = new Map(model.vocabulary.map((f, j) => [f, j]));
    indexCache.set(model, index);
  }
  return index;
}

/** Sub-linear term frequency times IDF, L2-normalised: long requests do not outshout short ones. */
function vectorise(toks: string[], index: Map<string, number>, idf: ArrayLike<number>): Sparse {
  const counts = new Map<number, number>();
  for (const t of toks) {
    const j = index.get(t);
    if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
  }
  const idx = Int32Array.from(counts.keys());
  const val = new Float64Array(idx.length);
  let norm = 0;
  for (let i = 0; i < idx.length; i++) {
    const v = (1 + Math.log(counts.get(idx[i]!)!)) * idf[idx[i]!]!;
    val[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < val.length; i++) val[i]! /= norm;
  return { index: idx, value: val };
}

function logits(x: Sparse, weights: ArrayLike<number>[], bias: ArrayLike<number>): Float64Array {
  const out = new Float64Array(bias.length);
  for (let k = 0; k < bias.length; k++) {
    let s = bias[k]!;
    const w = weights[k]!;
    for (let i = 0; i < x.index.length; i++) s += w[x.index[i]!]! * x.value[i]!;
    out[k] = s;
  }
  return out;
}

function softmax(z: ArrayLike<number>, temperature = 1): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < z.length; k++) max = Math.max(max, z[k]! / temperature);
  const p = new Float64Array(z.length);
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    p[k] = Math.exp(z[k]! / temperature - max);
    sum += p[k]!;
  }
  for (let k = 0; k < z.length; k++) p[k]! /= sum;
  return p;
}

/** Every topic's calibrated probability for a request, most likely first. */
export function classify(model: DispatchModel, text: string, top = 3): Suggestion[] {
  const x = vectorise(tokens(text), featureIndex(model), model.idf);
  const p = softmax(logits(x, model.weights, model.bias), model.temperature);
  return model.topics
    .map((topic, k) => ({ topic, probability: p[k]! }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, top);
}

/** A stable split: the same request always lands on the same side, whatever else is added. */
export function heldOut(text: string, share: number): boolean {
  const h = createHash('sha256').update(text).digest().readUInt32BE(0);
  return h / 0x1_0000_0000 < share;
}

interface Fitted {
  vocabulary: string[];
  idf: Float64Array;
  weights: Float64Array[];
  bias: Float64Array;
}

/**
 * Multinomial logistic regression by Adam on mini-batches, with L2 on the weights. The
 * vocabulary keeps the features seen in at least `minDf` requests (`minBigramDf` for character
 * bigrams), the most frequent first.
 */
function fitWeights(examples: Example[], topics: string[], o: Required<TrainOptions>): Fitted {
  const toks = examples.map((e) => tokens(e.text));
  const df = new Map<string, number>();
  for (const t of toks) for (const f of new Set(t)) df.set(f, (df.get(f) ?? 0) + 1);
  const vocabulary = [...df.entries()]
    .filter(([f, n]) => n >= (f.startsWith('c:') ? o.minBigramDf : o.minDf))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, o.maxFeatures)
    .map(([f]) => f);
  const index = new Map(vocabulary.map((f, j) => [f, j]));
  const n = examples.length;
  const idf = Float64Array.from(vocabulary, (f) => Math.log((1 + n) / (1 + df.get(f)!)) + 1);
  const xs = toks.map((t) => vectorise(t, index, idf));
  const topicIndex = new Map(topics.map((t, k) => [t, k]));
  const ys = examples.map((e) => topicIndex.get(e.topic)!);
  const ws = examples.map((e) => weightOf(e, o.labelWeights));
  const K = topics.length;
  const V = vocabulary.length;
  const weights = Array.from({ length: K }, () => new Float64Array(V));
  const bias = new Float64Array(K);
  // Adam's moments, dense: V × K stays a few MB even at the vocabulary cap.
  const mw = Array.from({ length: K }, () => new Float64Array(V));
  const vw = Array.from({ length: K }, () => new Float64Array(V));
  const mb = new Float64Array(K);
  const vb = new Float64Array(K);
  const rand = mulberry32(12345);
  const order = Array.from({ length: n }, (_, i) => i);
  const batch = 32;
  const lr = 0.05;
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  let step = 0;
  // The batch's gradient, dense, with the features it touched: clearing and applying cost only those.
  const gw = Array.from({ length: K }, () => new Float64Array(V));
  const touched = new Uint8Array(V);
  const touchedList: number[] = [];
  const gb = new Float64Array(K);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start < n; start += batch) {
      const ids = order.slice(start, start + batch);
      for (const j of touchedList) {
        touched[j] = 0;
        for (let k = 0; k < K; k++) gw[k]![j] = 0;
      }
      touchedList.length = 0;
      gb.fill(0);
      for (const i of ids) {
        const x = xs[i]!;
        for (let t = 0; t < x.index.length; t++) {
          const j = x.index[t]!;
          if (!touched[j]) {
            touched[j] = 1;
            touchedList.push(j);
          }
        }
        const p = softmax(logits(x, weights, bias));
        p[ys[i]!]! -= 1;
        for (let k = 0; k < K; k++) {
          const d = (p[k]! * ws[i]!) / ids.length;
          gb[k]! += d;
          const g = gw[k]!;
          for (let t = 0; t < x.index.length; t++) g[x.index[t]!]! += d * x.value[t]!;
        }
      }
      step++;
      const c1 = 1 - b1 ** step;
      const c2 = 1 - b2 ** step;
      for (let k = 0; k < K; k++) {
        // Lazy Adam: only the features in the batch move; L2 is applied to them as they do.
        for (const j of touchedList) {
          const g = gw[k]![j]! + o.l2 * weights[k]![j]!;
          mw[k]![j] = b1 * mw[k]![j]! + (1 - b1) * g;
          vw[k]![j] = b2 * vw[k]![j]! + (1 - b2) * g * g;
          weights[k]![j]! -= (lr * (mw[k]![j]! / c1)) / (Math.sqrt(vw[k]![j]! / c2) + eps);
        }
        const g = gb[k]!;
        mb[k] = b1 * mb[k]! + (1 - b1) * g;
        vb[k] = b2 * vb[k]! + (1 - b2) * g * g;
        bias[k]! -= (lr * (mb[k]! / c1)) / (Math.sqrt(vb[k]! / c2) + eps);
      }
    }
  }
  return { vocabulary, idf, weights, bias };
}

/** The temperature minimising the held-out log-loss (a coarse-to-fine search: one parameter). */
function fitTemperature(rows: { z: Float64Array; y: number }[]): number {
  const nll = (t: number) =>
    rows.reduce((s, r) => s - Math.log(Math.max(softmax(r.z, t)[r.y]!, 1e-12)), 0);
  let best = 1;
  let bestLoss = nll(1);
  for (let span = 1; span > 0.005; span /= 4) {
    for (let t = Math.max(0.05, best - span); t <= best + span; t += span / 8) {
      const loss = nll(t);
      if (loss < bestLoss) [best, bestLoss] = [t, loss];
    }
  }
  return Math.round(best * 1000) / 1000;
}

/** Top-1, top-3 and the automatic share at the threshold, over labelled requests. */
export function evaluate(model: DispatchModel, examples: Example[], threshold = model.threshold) {
  let top1 = 0;
  let top3 = 0;
  let auto = 0;
  let autoRight = 0;
  let loss = 0;
  const known = new Set(model.topics);
  const scored = examples.filter((e) => known.has(e.topic));
  for (const e of scored) {
    const all = classify(model, e.text, model.topics.length);
    const rank = all.findIndex((s) => s.topic === e.topic);
    if (rank === 0) top1++;
    if (rank < 3) top3++;
    loss -= Math.log(Math.max(all[rank]!.probability, 1e-12));
    if (all[0]!.probability >= threshold) {
      auto++;
      if (rank === 0) autoRight++;
    }
  }
  const n = scored.length || 1;
  return {
    size: scored.length,
    top1: top1 / n,
    top3: top3 / n,
    automatic: auto / n,
    automaticPrecision: auto ? autoRight / auto : 1,
    logLoss: loss / n,
  } satisfies Evaluation;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
const roundWeight = (x: number) => Math.round(x * 100) / 100;

export interface Corpus {
  /** Requests written for the project (data/dispatch/seed.json). */
  seed: Example[];
  /** Each topic's words and phrases (data/dispatch/glossary.json): always fitted, never scored. */
  glossary?: Example[];
  /** Tickets with their final topic, as the centre confirmed it. */
  labelled?: Example[];
  topics: string[];
}

/**
 * Builds a model from all but a held-back slice of the requests; the slice gives the temperature,
 * the threshold and the recorded figures. The model is never fitted on that slice (not even
 * afterwards): its temperature is exact for it, and a later candidate can be compared with it
 * fairly on the slice, which stays held back as it grows (the split is by the text's hash).
 */
export function train(corpus: Corpus, options: TrainOptions = {}): DispatchModel {
  const o: Required<TrainOptions> = {
    heldOutShare: 0.2,
    epochs: 0,
    l2: 2e-5,
    minDf: 1,
    minBigramDf: 2,
    maxFeatures: 60_000,
    labelWeights: LABEL_WEIGHTS,
    threshold: 'auto',
    now: new Date(),
    ...options,
  };
  const { topics } = corpus;
  const known = new Set(topics);
  const usable = (xs: Example[] = []) =>
    xs.filter((e) => known.has(e.topic) && e.text.trim() && weightOf(e, o.labelWeights) > 0);
  const requests = [...usable(corpus.seed), ...usable(corpus.labelled)];
  const glossary = usable(corpus.glossary);
  const test = requests.filter((e) => heldOut(e.text, o.heldOutShare));
  const fitOn = requests.filter((e) => !heldOut(e.text, o.heldOutShare));
  const fitted = [...fitOn, ...glossary];
  if (!o.epochs) o.epochs = Math.max(3, Math.min(30, Math.round(EXAMPLE_VISITS / fitted.length)));
  const model = toModel(fitWeights(fitted, topics, o), 1, o, topics);
  const topicIndex = new Map(topics.map((t, k) => [t, k]));
  const index = featureIndex(model);
  const rows = test.map((e) => ({
    z: logits(vectorise(tokens(e.text), index, model.idf), model.weights, model.bias),
    y: topicIndex.get(e.topic)!,
  }));
  model.temperature = rows.length ? fitTemperature(rows) : 1;
  model.threshold = o.threshold === 'auto' ? chooseThreshold(model, test) : o.threshold;
  model.evaluation = evaluate(model, test);
  model.data = {
    seed: usable(corpus.seed).length,
    labelled: usable(corpus.labelled).length,
    train: fitOn.length,
    heldOut: test.length,
  };
  const digest = createHash('sha256')
    .update(JSON.stringify([model.vocabulary, model.weights, model.bias, model.temperature]))
    .digest('hex')
    .slice(0, 8);
  model.version = `${model.trainedAt.slice(0, 10).replaceAll('-', '')}-${digest}`;
  return model;
}

/** The requests of a corpus in its held-back slice: where candidate and current are compared. */
export function heldBackSlice(corpus: Corpus, share = 0.2): Example[] {
  const known = new Set(corpus.topics);
  return [...corpus.seed, ...(corpus.labelled ?? [])].filter(
    (e) =>
      known.has(e.topic) &&
      e.text.trim() &&
      weightOf(e, LABEL_WEIGHTS) > 0 &&
      heldOut(e.text, share),
  );
}

function toModel(
  f: Fitted,
  temperature: number,
  o: Required<TrainOptions>,
  topics: string[],
): DispatchModel {
  return {
    format: MODEL_FORMAT,
    version: '',
    trainedAt: o.now.toISOString(),
    topics,
    vocabulary: f.vocabulary,
    idf: Array.from(f.idf, round),
    weights: f.weights.map((w) => Array.from(w, roundWeight)),
    bias: Array.from(f.bias, round),
    temperature,
    data: { seed: 0, labelled: 0, train: 0, heldOut: 0 },
    evaluation: { size: 0, top1: 0, top3: 0, automatic: 0, automaticPrecision: 0, logLoss: 0 },
    threshold: o.threshold === 'auto' ? 0.95 : o.threshold,
  };
}

/**
 * Suggested dispatch (issue 14): how well the seed model sorts requests into the catalogue's
 * topics, and how fast. npm run dispatch:eval, or a row of npm run bench.
 *
 * Six sets: the slice of the seed held back when the model was fitted (recorded in the model),
 * the separately written evaluation set (data/dispatch/eval.json, never used to fit; its aggregate
 * figures guided the choice of features), a second one written before that tuning and scored only
 * after it (data/dispatch/holdout.json), a third written later without sight of the corpus
 * (data/dispatch/holdout-2.json, nobody tunes on it), a fourth in the forms of work orders, web
 * posts and short messages (data/dispatch/holdout-3.json, likewise), and the simulator's own
 * request texts.
 */
import { readSeedModel } from '#adapters/seed-dispatch-model';
import { corpusDigest } from '#core/dispatch-model/corpus';
import {
  evaluationRequests,
  holdoutRequests,
  secondHoldoutRequests,
  thirdHoldoutRequests,
} from '#core/dispatch-model/evaluation-set';
import { classify, type Evaluation, type Example, evaluate } from '#core/dispatch-model/model';
import { calibration, expectedCalibrationError, perTopic } from '#core/dispatch-model/report';
import { STORM_TOPICS, TOPICS } from '../simulator/plan.ts';
import { type BenchResult, percentile, round, type Table } from './lib/common.ts';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function row(name: string, e: Evaluation): (string | number)[] {
  return [name, e.size, pct(e.top1), pct(e.top3), pct(e.automatic), pct(e.automaticPrecision)];
}

export async function run(): Promise<BenchResult> {
  const model = await readSeedModel();
  const stale = model.corpusDigest !== corpusDigest();
  const independent = evaluationRequests();
  const holdout = holdoutRequests();
  const secondHoldout = secondHoldoutRequests();
  const thirdHoldout = thirdHoldoutRequests();
  const simulated: Example[] = [...TOPICS, ...STORM_TOPICS].map(([topic, , text]) => ({
    topic,
    text,
  }));
  const figures = {
    heldBack: model.evaluation,
    independent: evaluate(model, independent),
    holdout: evaluate(model, holdout),
    secondHoldout: evaluate(model, secondHoldout),
    thirdHoldout: evaluate(model, thirdHoldout),
    // The goals speak of requests written independently of the corpus: all four sets together.
    allIndependent: evaluate(model, [
      ...independent,
      ...holdout,
      ...secondHoldout,
      ...thirdHoldout,
    ]),
    simulator: evaluate(model, simulated),
  };
  // Warm latency of one suggestion, as the classify function computes it (segmentation included).
  classify(model, independent[0]!.text);
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const e of independent) {
      const t0 = performance.now();
      classify(model, e.text, 3);
      times.push(performance.now() - t0);
    }
  }
  const bins = calibration(model, independent, 5);
  const topics = perTopic(model, independent);
  const tables: Table[] = [
    {
      title: `Seed model ${model.version} (trained ${model.trainedAt.slice(0, 10)}; ${model.data.seed} seed requests + glossary; threshold ${model.threshold}, T=${model.temperature})`,
      columns: ['set', 'requests', 'top-1', 'top-3', 'automatic', 'automatic precision'],
      rows: [
        row('held-back slice of the seed', figures.heldBack),
        row('independent evaluation set', figures.independent),
        row('second independent set (holdout)', figures.holdout),
        row('third independent set (holdout-2, written 2026-11-30)', figures.secondHoldout),
        row(
          'fourth independent set (holdout-3, work orders / web posts / short messages, written 2026-11-30)',
          figures.thirdHoldout,
        ),
        row('the four independent sets together', figures.allIndependent),
        row("simulator's requests", figures.simulator),
      ],
      notes: [
        'goals: top-1 ≥ 92%, top-3 ≥ 98%, ≥ 70% automatic at ≥ 97% precision',
        ...(stale
          ? ['STALE: the corpus changed since seed-model.json was built (npm run dispatch:train)']
          : []),
      ],
    },
    {
      title: 'Independent evaluation set, per topic',
      columns: ['topic', 'requests', 'top-1', 'top-3', 'automatic', 'precision'],
      rows: topics.map((t) => [
        t.topic,
        t.size,
        pct(t.top1),
        pct(t.top3),
        pct(t.automatic),
        pct(t.precision),
      ]),
    },
    {
      title: 'Calibration of the top topic on the independent set',
      columns: ['probability', 'requests', 'mean probability', 'accuracy'],
      rows: bins.map((b) => [
        `${b.from.toFixed(1)}–${b.to.toFixed(1)}`,
        b.size,
        pct(b.meanProbability),
        pct(b.accuracy),
      ]),
      notes: [`expected calibration error ${pct(expectedCalibrationError(bins))}`],
    },
    {
      title: 'Warm latency of one suggestion (top 3), in process',
      columns: ['calls', 'p50 ms', 'p99 ms', 'max ms'],
      rows: [
        [
          times.length,
          round(percentile(times, 50), 3),
          round(percentile(times, 99), 3),
          round(Math.max(...times), 3),
        ],
      ],
    },
  ];
  return {
    name: 'dispatch',
    title: 'Suggested dispatch (智能派单): accuracy, automatic share, calibration, latency',
    tables,
    data: { model: model.version, stale, figures, topics, calibration: bins },
  };
}

import { describe, expect, it } from 'vitest';
import { readSeedModel } from '../../adapters/seed-dispatch-model.ts';
import { corpusDigest, SEED_TOPICS, seedCorpus } from '../../core/dispatch-model/corpus.ts';
import { evaluationRequests } from '../../core/dispatch-model/evaluation-set.ts';
import {
  classify,
  evaluate,
  heldBackSlice,
  heldOut,
  type LabelProvenance,
  train,
} from '../../core/dispatch-model/model.ts';
import { calibration, expectedCalibrationError } from '../../core/dispatch-model/report.ts';
import { charBigrams, normalise, tokens, words } from '../../core/dispatch-model/text.ts';
import county from '../../data/sample-county.json' with { type: 'json' };

const SEED_MODEL = await readSeedModel();

describe('segmentation and features', () => {
  it('cuts a request into words, without punctuation, numbers or stopwords', () => {
    const w = words('我家小区从昨天开始停水，物业说是管道坏了，到现在还没有来水！3天了');
    expect(w).toEqual(expect.arrayContaining(['小区', '停水', '物业', '管道', '来水']));
    for (const dropped of ['我', '，', '！', '3', '了', '的', '还'])
      expect(w).not.toContain(dropped);
  });

  it('makes character bigrams inside runs of Han characters only', () => {
    expect(charBigrams('小区停水了, ok 电梯')).toEqual(['小区', '区停', '停水', '水了', '电梯']);
  });

  it('reads full-width letters and digits as half-width ones', () => {
    expect(normalise('ＫＴＶ　１２点')).toBe('ktv 12点');
    expect(words('楼下ＫＴＶ太吵')).toContain('ktv');
  });

  it('keeps words, bigrams and characters apart, so 停水 the word and 停水 the bigram are two features', () => {
    const t = tokens('小区停水');
    expect(t).toContain('w:停水');
    expect(t).toContain('c:停水');
    expect(t).toContain('u:停');
    expect(t.filter((f) => f.startsWith('u:'))).toEqual(['u:小', 'u:区', 'u:停', 'u:水']);
    expect(t.every((f) => /^[wcu]:/.test(f))).toBe(true);
  });

  it('splits the corpus the same way every time, whatever else is in it', () => {
    const text = '路口的红绿灯坏了';
    expect(heldOut(text, 0.2)).toBe(heldOut(text, 0.2));
    const all = seedCorpus().seed;
    const share = all.filter((e) => heldOut(e.text, 0.2)).length / all.length;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.3);
  });
});

describe('the seed corpus and model', () => {
  it('covers exactly the sample county catalogue', () => {
    expect([...SEED_TOPICS].sort()).toEqual(county.topics.map((t) => t.id).sort());
    expect(SEED_MODEL.topics).toEqual(SEED_TOPICS);
  });

  it('keeps the evaluation set apart from the seed: no request appears in both', () => {
    const seed = new Set(seedCorpus().seed.map((e) => e.text));
    expect(evaluationRequests().filter((e) => seed.has(e.text))).toEqual([]);
  });

  it('is rebuilt whenever the corpus changes (npm run dispatch:train)', () => {
    expect(SEED_MODEL.corpusDigest).toBe(corpusDigest());
    expect(SEED_MODEL.format).toBe('hotline-dispatch-model/1');
    expect(SEED_MODEL.data.seed).toBe(seedCorpus().seed.length);
  });

  it('suggests three topics, most likely first, with probabilities that sum below one', () => {
    const top = classify(SEED_MODEL, '半夜工地还在打桩，吵得孩子睡不着');
    expect(top).toHaveLength(3);
    expect(top[0]!.topic).toBe('noise');
    expect(top[0]!.probability).toBeGreaterThanOrEqual(top[1]!.probability);
    expect(top.reduce((s, t) => s + t.probability, 0)).toBeLessThanOrEqual(1 + 1e-9);
  });

  it('gives an empty or foreign request no confident topic', () => {
    const [top] = classify(SEED_MODEL, '...');
    expect(top!.probability).toBeLessThan(SEED_MODEL.threshold);
  });
});

describe('calibration', () => {
  it('reports probabilities close to observed accuracy on the independent set', () => {
    const bins = calibration(SEED_MODEL, evaluationRequests(), 5);
    expect(bins.reduce((s, b) => s + b.size, 0)).toBe(evaluationRequests().length);
    // Figures measured by npm run dispatch:eval: ECE 6% with the seed corpus alone.
    expect(expectedCalibrationError(bins)).toBeLessThan(0.1);
    const confident = bins.at(-1)!;
    expect(confident.size).toBeGreaterThan(0);
    expect(Math.abs(confident.accuracy - confident.meanProbability)).toBeLessThan(0.1);
  });

  it('sets the threshold at the lowest 0.01 step where automatic dispatch is ≥ 97 % right', () => {
    const slice = heldBackSlice(seedCorpus());
    const t = SEED_MODEL.threshold;
    expect(evaluate(SEED_MODEL, slice, t).automaticPrecision).toBeGreaterThanOrEqual(0.97);
    if (t > 0.5 && t < 0.95) {
      expect(evaluate(SEED_MODEL, slice, t - 0.01).automaticPrecision).toBeLessThan(0.97);
    }
  });

  it('fits the temperature on the held-back slice: scaling it away makes the fit worse', () => {
    const requests = evaluationRequests();
    const fitted = evaluate(SEED_MODEL, requests).logLoss;
    for (const t of [SEED_MODEL.temperature * 3, SEED_MODEL.temperature / 3]) {
      expect(evaluate({ ...SEED_MODEL, temperature: t }, requests).logLoss).toBeGreaterThan(fitted);
    }
  });
});

describe('training', () => {
  it('learns from labelled tickets a wording the seed never used', () => {
    const corpus = seedCorpus();
    const text = '反映弘文巷的共享充电宝押金退不了';
    const labelled = Array.from({ length: 6 }, (_, i) => ({
      topic: 'market',
      text: `共享充电宝押金退不了${'，'.repeat(i)}`,
    }));
    const model = train({ ...corpus, labelled }, { epochs: 10, now: new Date('2026-01-02') });
    expect(model.version).toMatch(/^20260102-[0-9a-f]{8}$/);
    expect(model.data.labelled).toBe(6);
    expect(classify(model, text, 1)[0]!.topic).toBe('market');
  });

  it("does not learn from the model's own unreviewed choices; a correction counts", () => {
    const corpus = seedCorpus();
    const text = '反映弘文巷的共享充电宝押金退不了';
    const labelled = (provenance: LabelProvenance) =>
      Array.from({ length: 6 }, (_, i) => ({
        topic: 'market',
        text: `共享充电宝押金退不了${'，'.repeat(i)}`,
        provenance,
      }));
    const now = new Date('2026-01-02');
    const unreviewed = train({ ...corpus, labelled: labelled('unreviewed') }, { epochs: 10, now });
    expect(unreviewed.data.labelled).toBe(0);
    expect(classify(unreviewed, text, 1)[0]!.topic).not.toBe('market');
    const corrected = train({ ...corpus, labelled: labelled('corrected') }, { epochs: 10, now });
    expect(corrected.data.labelled).toBe(6);
    expect(classify(corrected, text, 1)[0]!.topic).toBe('market');
    // Nor is a candidate scored on them: agreeing with the old model is no merit.
    const slice = heldBackSlice({ ...corpus, labelled: labelled('unreviewed') }, 1);
    expect(slice.some((e) => e.provenance === 'unreviewed')).toBe(false);
  });
});

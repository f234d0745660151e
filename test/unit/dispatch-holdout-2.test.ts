import { describe, expect, it } from 'vitest';
import { seedCorpus } from '../../core/dispatch-model/corpus.ts';
import {
  evaluationRequests,
  holdoutRequests,
  secondHoldoutRequests,
} from '../../core/dispatch-model/evaluation-set.ts';
import holdout2 from '../../data/dispatch/holdout-2.json' with { type: 'json' };
import county from '../../data/sample-county.json' with { type: 'json' };

// The third independent set is only worth anything while it stays unseen: overlaps are counted,
// never listed, so a failure does not print the corpus's texts to whoever is writing the set.
describe('the third independent evaluation set (holdout-2)', () => {
  const set = holdout2 as Record<string, string[]>;
  const texts = secondHoldoutRequests().map((e) => e.text);

  it('has exactly the catalogue topics, six non-empty requests each', () => {
    expect(Object.keys(set).sort()).toEqual(county.topics.map((t) => t.id).sort());
    for (const [topic, requests] of Object.entries(set)) {
      expect({ topic, size: requests.length }).toEqual({ topic, size: 6 });
      expect(requests.filter((r) => r.trim().length === 0)).toEqual([]);
    }
    expect(texts).toHaveLength(county.topics.length * 6);
  });

  it('has no request twice', () => {
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('shares no request with the training corpus (seed and glossary)', () => {
    const corpus = seedCorpus();
    const trained = new Set([...corpus.seed, ...(corpus.glossary ?? [])].map((e) => e.text));
    expect(texts.filter((t) => trained.has(t)).length).toBe(0);
  });

  it('shares no request with the two earlier evaluation sets', () => {
    const earlier = new Set([...evaluationRequests(), ...holdoutRequests()].map((e) => e.text));
    expect(texts.filter((t) => earlier.has(t)).length).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { seedCorpus } from '../../core/dispatch-model/corpus.ts';
import {
  evaluationRequests,
  holdoutRequests,
  secondHoldoutRequests,
  thirdHoldoutRequests,
} from '../../core/dispatch-model/evaluation-set.ts';
import holdout3 from '../../data/dispatch/holdout-3.json' with { type: 'json' };
import county from '../../data/sample-county.json' with { type: 'json' };

// Like holdout-2, the fourth set is only worth anything while it stays unseen: overlaps are
// counted, never listed, so a failure does not print one set's texts to whoever writes another.
describe('the fourth independent evaluation set (holdout-3)', () => {
  const set = holdout3 as Record<string, string[]>;
  const texts = thirdHoldoutRequests().map((e) => e.text);

  it('has exactly the catalogue topics, six non-empty requests each', () => {
    expect(Object.keys(set).sort()).toEqual(county.topics.map((t) => t.id).sort());
    for (const [topic, requests] of Object.entries(set)) {
      expect({ topic, size: requests.length }).toEqual({ topic, size: 6 });
      expect(requests.filter((r) => r.trim().length === 0).length).toBe(0);
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

  it('shares no request with the three earlier evaluation sets', () => {
    const earlier = new Set(
      [...evaluationRequests(), ...holdoutRequests(), ...secondHoldoutRequests()].map(
        (e) => e.text,
      ),
    );
    expect(texts.filter((t) => earlier.has(t)).length).toBe(0);
  });
});

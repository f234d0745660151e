import { describe, expect, it } from 'vitest';
import { seedCorpus } from '../../core/dispatch-model/corpus.ts';
import {
  evaluationRequests,
  holdoutRequests,
  secondHoldoutRequests,
  thirdHoldoutRequests,
} from '../../core/dispatch-model/evaluation-set.ts';
import type { Example } from '../../core/dispatch-model/model.ts';
import holdout2 from '../../data/dispatch/holdout-2.json' with { type: 'json' };
import holdout3 from '../../data/dispatch/holdout-3.json' with { type: 'json' };
import county from '../../data/sample-county.json' with { type: 'json' };

const texts = (examples: Example[]) => examples.map((e) => e.text);

const BLIND_SETS = [
  { name: 'holdout-2', file: holdout2, load: secondHoldoutRequests },
  { name: 'holdout-3', file: holdout3, load: thirdHoldoutRequests },
];

// A blind set is only worth anything while it stays unseen: overlaps are counted, never listed,
// so a failure does not print one set's texts to whoever is writing another.
describe.each(BLIND_SETS)('the blind evaluation set $name', ({ file, load }) => {
  const set = file as Record<string, string[]>;
  const own = texts(load());

  it('has exactly the catalogue topics, six non-empty requests each', () => {
    expect(Object.keys(set).sort()).toEqual(county.topics.map((t) => t.id).sort());
    for (const [topic, requests] of Object.entries(set)) {
      expect({ topic, size: requests.length }).toEqual({ topic, size: 6 });
      expect(requests.filter((r) => r.trim().length === 0)).toEqual([]);
    }
    expect(own).toHaveLength(county.topics.length * 6);
  });

  it('has no request twice', () => {
    expect(new Set(own).size).toBe(own.length);
  });

  it('shares no request with the training corpus (seed and glossary)', () => {
    const corpus = seedCorpus();
    const trained = new Set(texts([...corpus.seed, ...(corpus.glossary ?? [])]));
    expect(own.filter((t) => trained.has(t)).length).toBe(0);
  });

  it('shares no request with any other evaluation set', () => {
    const others = [evaluationRequests, holdoutRequests, ...BLIND_SETS.map((s) => s.load)]
      .filter((other) => other !== load)
      .flatMap((other) => texts(other()));
    const elsewhere = new Set(others);
    expect(own.filter((t) => elsewhere.has(t)).length).toBe(0);
  });
});

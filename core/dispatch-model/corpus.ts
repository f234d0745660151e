import { createHash } from 'node:crypto';
import glossaryData from '#data/dispatch/glossary.json' with { type: 'json' };
import seedData from '#data/dispatch/seed.json' with { type: 'json' };
import type { Corpus, Example } from './model.ts';

export function requests(data: Record<string, string[]>): Example[] {
  return Object.entries(data).flatMap(([topic, texts]) => texts.map((text) => ({ topic, text })));
}

/** The sample county's topics, in the order the seed corpus lists them. */
export const SEED_TOPICS = Object.keys(seedData);

/**
 * The bootstrap corpus written for the project: realistic requests in citizens' words, and each
 * topic's glossary (every term a one-word example, so the words a request may use without the
 * seed having said them still carry their topic). No real personal data.
 */
export function seedCorpus(topics: string[] = SEED_TOPICS): Corpus {
  const glossary = Object.entries(glossaryData as Record<string, string>).flatMap(([topic, s]) =>
    s.split(/\s+/).map((text) => ({ topic, text })),
  );
  return { seed: requests(seedData), glossary, topics };
}

/** Identifies the corpus a seed model was built from, so a stale bundled model is caught. */
export function corpusDigest(): string {
  return createHash('sha256')
    .update(JSON.stringify([seedData, glossaryData]))
    .digest('hex')
    .slice(0, 16);
}

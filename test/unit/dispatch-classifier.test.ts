import { describe, expect, it } from 'vitest';
import { readSeedModel } from '../../adapters/seed-dispatch-model.ts';
import { StoredModelClassifier } from '../../core/dispatch-model/classifier.ts';
import type { DispatchModel } from '../../core/dispatch-model/model.ts';
import type { DispatchModelStore } from '../../core/ports.ts';

/** The store port in memory, counting reads: what the classifier asks of S3. */
function memoryStore() {
  const versions = new Map<string, DispatchModel>();
  let pointer: { version: string; previous?: string; promotedAt: string } | undefined;
  const reads = { pointer: 0, get: 0 };
  let failing = false;
  const store: DispatchModelStore = {
    pointer: async () => {
      reads.pointer++;
      if (failing) throw new Error('unreachable');
      return pointer;
    },
    get: async (v) => {
      reads.get++;
      return versions.get(v);
    },
    put: async (m) => {
      versions.set(m.version, m);
    },
    promote: async (version, at) => {
      pointer = {
        version,
        ...(pointer ? { previous: pointer.version } : {}),
        promotedAt: at.toISOString(),
      };
    },
  };
  return { store, reads, fail: (f: boolean) => (failing = f) };
}

const SEED_MODEL = await readSeedModel();
const other: DispatchModel = { ...SEED_MODEL, version: '20270101-0000beef', threshold: 0.6 };

describe('the classifier in a container', () => {
  it('answers with the seed model until a model is promoted, then loads that one once', async () => {
    const { store, reads } = memoryStore();
    let now = 0;
    const classifier = new StoredModelClassifier(store, readSeedModel, {
      recheckMs: 1000,
      nowMs: () => now,
    });
    expect((await classifier.suggest('停水了')).modelVersion).toBe(SEED_MODEL.version);
    await store.put(other);
    await store.promote(other.version, new Date());
    now = 500;
    expect((await classifier.suggest('停水了')).modelVersion).toBe(SEED_MODEL.version);
    now = 1500;
    const later = await classifier.suggest('停水了');
    expect(later).toMatchObject({ modelVersion: other.version, threshold: 0.6 });
    now = 3000;
    await classifier.suggest('停电了');
    expect(reads.get).toBe(1);
    expect(reads.pointer).toBe(3);
  });

  it('goes on with the last model when the store cannot be read, and says so', async () => {
    const { store, fail } = memoryStore();
    const errors: unknown[] = [];
    let now = 0;
    const classifier = new StoredModelClassifier(store, readSeedModel, {
      recheckMs: 1000,
      nowMs: () => now,
      onError: (e) => errors.push(e),
    });
    fail(true);
    expect((await classifier.suggest('停水了')).modelVersion).toBe(SEED_MODEL.version);
    expect(errors).toHaveLength(1);
    now = 10;
    await classifier.suggest('停水了');
    expect(errors).toHaveLength(1);
  });

  it('reads the seed model only when no model was promoted, and once per container', async () => {
    const { store } = memoryStore();
    let seedReads = 0;
    const seed = () => {
      seedReads++;
      return readSeedModel();
    };
    await store.put(other);
    await store.promote(other.version, new Date());
    const classifier = new StoredModelClassifier(store, seed);
    expect((await classifier.suggest('停水了')).modelVersion).toBe(other.version);
    expect(seedReads).toBe(0);
    expect(readSeedModel()).toBe(readSeedModel());
  });

  it('uses the configured threshold over the model’s own', async () => {
    const classifier = new StoredModelClassifier(undefined, readSeedModel, { threshold: 0.99 });
    expect((await classifier.suggest('停水了')).threshold).toBe(0.99);
  });
});

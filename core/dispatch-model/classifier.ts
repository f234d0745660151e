import type { DispatchModelStore, TopicClassifier } from '../ports.ts';
import { classify, type DispatchModel } from './model.ts';

export interface ClassifierOptions {
  /** Overrides the model's own threshold (configuration: DISPATCH_THRESHOLD). */
  threshold?: number;
  /** How often a warm container asks whether another model was promoted. Default 10 minutes. */
  recheckMs?: number;
  nowMs?: () => number;
  /** A store that cannot be read must not stop intake: the last model (or the seed) goes on. */
  onError?: (error: unknown) => void;
}

/**
 * The promoted model, loaded once per container and kept; every few minutes one small read of
 * the pointer tells whether a newer one was promoted (or an older one rolled back to). Before any
 * promotion, and without a store, the seed model answers: `seed` is asked for only then, since
 * every function builds the ticket collaborators, few ever classify, and the seed is 2 MB.
 */
export class StoredModelClassifier implements TopicClassifier {
  private current: DispatchModel | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<DispatchModel> | undefined;

  constructor(
    private readonly store: DispatchModelStore | undefined,
    private readonly seed: () => Promise<DispatchModel>,
    private readonly options: ClassifierOptions = {},
  ) {}

  async model(): Promise<DispatchModel> {
    const now = (this.options.nowMs ?? Date.now)();
    if (this.current && now - this.checkedAt < (this.options.recheckMs ?? 600_000)) {
      return this.current;
    }
    this.loading ??= this.load(now).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(now: number): Promise<DispatchModel> {
    try {
      const pointer = await this.store?.pointer();
      if (!pointer) this.current = await this.seed();
      else if (pointer.version !== this.current?.version) {
        const model = await this.store!.get(pointer.version);
        if (!model) throw new Error(`dispatch model ${pointer.version} is missing from the store`);
        this.current = model;
      }
      this.checkedAt = now;
    } catch (error) {
      this.options.onError?.(error);
      this.current ??= await this.seed();
      // Try the store again in half a minute, not at every request nor in ten minutes.
      this.checkedAt = now - (this.options.recheckMs ?? 600_000) + 30_000;
    }
    return this.current!;
  }

  async suggest(text: string) {
    const model = await this.model();
    return {
      modelVersion: model.version,
      threshold: this.options.threshold ?? model.threshold,
      suggestions: classify(model, text, 3),
    };
  }
}

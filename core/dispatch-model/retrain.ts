import { shanghaiDate } from '../calendar.ts';
import type { DispatchModelStore } from '../ports.ts';
import { SEED_TOPICS, seedCorpus } from './corpus.ts';
import {
  type DispatchModel,
  type Evaluation,
  type Example,
  evaluate,
  heldBackSlice,
  train,
} from './model.ts';

export interface RetrainDeps {
  models: DispatchModelStore;
  /** The model built from the seed corpus alone: the current one until a model is promoted. */
  seed: () => Promise<DispatchModel>;
  /** Labelled tickets closed in these months (yyyy-mm). */
  labelled: (months: string[]) => Promise<Example[]>;
  now: () => Date;
}

export interface RetrainOptions {
  /** How many months of labelled history to learn from (default 24). */
  months?: number;
  /** Training passes over the data (default 30); fewer is faster and worse. */
  epochs?: number;
}

type Figures = Pick<Evaluation, 'size' | 'top1' | 'top3' | 'automatic' | 'automaticPrecision'>;

export interface RetrainResult {
  candidate: { version: string; evaluation: Figures; labelled: number };
  current: { version: string; evaluation: Figures };
  /** The candidate is at least as good as the current model on the same held-back slice. */
  notWorse: boolean;
}

/** The months from `count - 1` months before `at` up to and including its own (Asia/Shanghai). */
export function monthsBack(at: Date, count: number): string[] {
  const [y, m] = shanghaiDate(at).split('-').map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => {
    const total = y * 12 + (m - 1) - i;
    return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`;
  });
}

const figures = (e: Evaluation): Figures => ({
  size: e.size,
  top1: e.top1,
  top3: e.top3,
  automatic: e.automatic,
  automaticPrecision: e.automaticPrecision,
});

/**
 * 智能派单 learns from the hotline's own work: a candidate is trained on the seed corpus and the
 * labelled history and stored (not promoted). Both it and the current model are scored on the same
 * held-back slice, which neither was fitted on; the workflow promotes the candidate only if it is
 * not worse in top-1 nor in top-3.
 */
export async function trainCandidate(
  deps: RetrainDeps,
  options: RetrainOptions = {},
): Promise<RetrainResult> {
  const now = deps.now();
  const labelled = await deps.labelled(monthsBack(now, options.months ?? 24));
  const corpus = { ...seedCorpus(SEED_TOPICS), labelled };
  const candidate = train(corpus, { now, ...(options.epochs ? { epochs: options.epochs } : {}) });
  const pointer = await deps.models.pointer();
  const current = pointer ? await deps.models.get(pointer.version) : await deps.seed();
  if (!current) throw new Error(`the promoted dispatch model ${pointer?.version} is missing`);
  const slice = heldBackSlice(corpus);
  const currentEvaluation = evaluate(current, slice);
  await deps.models.put(candidate);
  const notWorse =
    candidate.evaluation.top1 >= currentEvaluation.top1 &&
    candidate.evaluation.top3 >= currentEvaluation.top3;
  return {
    candidate: {
      version: candidate.version,
      evaluation: figures(candidate.evaluation),
      labelled: labelled.length,
    },
    current: { version: current.version, evaluation: figures(currentEvaluation) },
    notWorse,
  };
}

/** Makes a stored candidate the model every container loads next (the previous one is kept). */
export async function promoteModel(deps: RetrainDeps, version: string): Promise<void> {
  if (!(await deps.models.get(version))) throw new Error(`no dispatch model ${version} is stored`);
  await deps.models.promote(version, deps.now());
}

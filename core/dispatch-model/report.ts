import { classify, type DispatchModel, type Example } from './model.ts';

export interface TopicFigures {
  topic: string;
  size: number;
  top1: number;
  top3: number;
  /** Share of this topic's requests dispatched without a person at the threshold. */
  automatic: number;
  /** Of the requests the model dispatched to this topic on its own, the share that belonged. */
  precision: number;
}

/** Per topic: recall at 1 and 3, the automatic share, and the precision of automatic dispatch. */
export function perTopic(
  model: DispatchModel,
  examples: Example[],
  threshold = model.threshold,
): TopicFigures[] {
  const rows = new Map(
    model.topics.map((t) => [t, { size: 0, top1: 0, top3: 0, auto: 0, sentTo: 0, sentRight: 0 }]),
  );
  for (const e of examples) {
    const row = rows.get(e.topic);
    if (!row) continue;
    const top = classify(model, e.text, 3);
    row.size++;
    if (top[0]!.topic === e.topic) row.top1++;
    if (top.some((s) => s.topic === e.topic)) row.top3++;
    if (top[0]!.probability >= threshold) {
      row.auto++;
      const to = rows.get(top[0]!.topic)!;
      to.sentTo++;
      if (top[0]!.topic === e.topic) to.sentRight++;
    }
  }
  return [...rows].map(([topic, r]) => ({
    topic,
    size: r.size,
    top1: r.size ? r.top1 / r.size : 0,
    top3: r.size ? r.top3 / r.size : 0,
    automatic: r.size ? r.auto / r.size : 0,
    precision: r.sentTo ? r.sentRight / r.sentTo : 1,
  }));
}

export interface CalibrationBin {
  from: number;
  to: number;
  size: number;
  /** The mean probability the model gave its top topic in this bin. */
  meanProbability: number;
  /** How often that top topic was right. */
  accuracy: number;
}

/** Reliability diagram of the top topic's probability: a calibrated model has accuracy ≈ mean. */
export function calibration(model: DispatchModel, examples: Example[], bins = 5): CalibrationBin[] {
  const out = Array.from({ length: bins }, (_, b) => ({
    from: b / bins,
    to: (b + 1) / bins,
    size: 0,
    sum: 0,
    right: 0,
  }));
  for (const e of examples) {
    const [top] = classify(model, e.text, 1);
    const bin = out[Math.min(bins - 1, Math.floor(top!.probability * bins))]!;
    bin.size++;
    bin.sum += top!.probability;
    if (top!.topic === e.topic) bin.right++;
  }
  return out.map((b) => ({
    from: b.from,
    to: b.to,
    size: b.size,
    meanProbability: b.size ? b.sum / b.size : 0,
    accuracy: b.size ? b.right / b.size : 0,
  }));
}

/** Expected calibration error: the bins' gap between confidence and accuracy, size-weighted. */
export function expectedCalibrationError(bins: CalibrationBin[]): number {
  const n = bins.reduce((s, b) => s + b.size, 0) || 1;
  return bins.reduce((s, b) => s + (b.size / n) * Math.abs(b.meanProbability - b.accuracy), 0);
}

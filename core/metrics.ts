import { shanghaiDate } from './calendar.ts';
import { METRIC_COUNTERS, type MetricCounter } from './ticket.ts';

/** The day and the month (Asia/Shanghai) an event counts towards. */
export function metricPeriods(at: Date): [day: string, month: string] {
  const day = shanghaiDate(at);
  return [day, day.slice(0, 7)];
}

export type Counters = Record<MetricCounter, number>;

export function emptyCounters(): Counters {
  return Object.fromEntries(METRIC_COUNTERS.map((c) => [c, 0])) as Counters;
}

export interface Rates {
  /** 响应率: signed for in time, of the tickets received. */
  response: number | null;
  /** 按时办结率: replied in time, of the tickets replied or overdue. */
  onTime: number | null;
  /** 解决率: resolved, of the callers reached. */
  resolution: number | null;
  /** 满意率: satisfied or basically satisfied, of the callers reached. */
  satisfaction: number | null;
}

const ratio = (n: number, d: number) => (d > 0 ? n / d : null);

/**
 * The assessment rates. Approved unreasonable tickets are already taken out of every counter
 * when they are approved, and unreached callers never enter the resolution and satisfaction
 * denominators: an unreached caller is not a satisfied one, nor an unsatisfied one.
 */
export function ratesOf(c: Counters): Rates {
  const reached = c.resolved + c.unresolved;
  const rated = c.satisfied + c.basicallySatisfied + c.unsatisfied;
  return {
    response: ratio(c.signedOnTime, c.received),
    onTime: ratio(c.repliedOnTime, c.repliedOnTime + Math.max(c.overdue, c.repliedLate)),
    resolution: ratio(c.resolved, reached),
    satisfaction: ratio(c.satisfied + c.basicallySatisfied, rated),
  };
}

/** Resolution weighs most, as cities now do, so that "making callers satisfied" does not pay. */
export const RANKING_WEIGHTS: Record<keyof Rates, number> = {
  resolution: 0.4,
  onTime: 0.25,
  satisfaction: 0.2,
  response: 0.15,
};

export interface UnitScore {
  unitId: string;
  counters: Counters;
  rates: Rates;
  /** Weighted over the rates that have a denominator; null when none has. */
  score: number | null;
  rank: number | null;
}

export function rankUnits(rows: { unitId: string; counters: Partial<Counters> }[]): UnitScore[] {
  const scored = rows.map(({ unitId, counters }) => {
    const full = { ...emptyCounters(), ...counters };
    const rates = ratesOf(full);
    let weighted = 0;
    let weights = 0;
    for (const [rate, weight] of Object.entries(RANKING_WEIGHTS) as [keyof Rates, number][]) {
      const value = rates[rate];
      if (value === null) continue;
      weighted += value * weight;
      weights += weight;
    }
    return {
      unitId,
      counters: full,
      rates,
      score: weights > 0 ? weighted / weights : null,
      rank: null as number | null,
    };
  });
  const ranked = scored
    .filter((s) => s.score !== null)
    .sort((a, b) => b.score! - a.score! || a.unitId.localeCompare(b.unitId));
  ranked.forEach((s, i) => {
    s.rank = i + 1;
  });
  return [...ranked, ...scored.filter((s) => s.score === null)];
}

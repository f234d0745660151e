import {
  type Cell,
  CLUSTER_DEFAULTS,
  type Cluster,
  type ClusterOptions,
  findClusters,
  findSurges,
  monthlyTopicCandidates,
  type Request,
  SURGE_DEFAULTS,
  type Surge,
  type SurgeOptions,
  type TopicCandidate,
} from './detect.ts';
import { type AnalyticsQueries, addDays, monthParams, monthRange, type Row } from './sql.ts';

export interface RepeatCaller {
  callerKey: string;
  tickets: number;
  topics: number;
  firstDay: string;
  lastDay: string;
}

/** 一人多诉 threshold: this many requests from one number in the period. */
export const REPEAT_CALLER_MIN = 5;

export interface AnalysisOptions {
  surge: SurgeOptions;
  cluster: ClusterOptions;
  repeatCallerMin: number;
}

export const ANALYSIS_DEFAULTS: AnalysisOptions = {
  surge: SURGE_DEFAULTS,
  cluster: CLUSTER_DEFAULTS,
  repeatCallerMin: REPEAT_CALLER_MIN,
};

const num = (v: unknown) => Number(v ?? 0);
const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));

function cellsOf(rows: Row[]): Cell[] {
  return rows.map((r) => ({
    topic: str(r.topic),
    district: str(r.district),
    township: str(r.township),
    day: str(r.day),
    tickets: num(r.tickets),
  }));
}

/** The `requests` query's rows as the cluster detector takes them. */
export function requestsOf(rows: Row[]): Request[] {
  return rows.map((r) => ({
    ticket_key: str(r.ticket_key),
    caller_key: r.caller_key === null ? null : str(r.caller_key),
    topic: str(r.topic),
    district: str(r.district),
    township: str(r.township),
    day: str(r.day),
    tokens: str(r.tokens),
    status: str(r.status),
    resolved: r.resolved === null ? null : Boolean(r.resolved),
  }));
}

function repeatCallersOf(rows: Row[]): RepeatCaller[] {
  return rows.map((r) => ({
    callerKey: str(r.caller_key),
    tickets: num(r.tickets),
    topics: num(r.topics),
    firstDay: str(r.first_day),
    lastDay: str(r.last_day),
  }));
}

/** Surges on every day from `from` to `to`, each against its own baseline weeks. */
export async function surgesBetween(
  queries: AnalyticsQueries,
  from: string,
  to: string,
  through: string,
  options: SurgeOptions = SURGE_DEFAULTS,
): Promise<Surge[]> {
  const cells = cellsOf(
    await queries.run('daily-cells', {
      from: addDays(from, -7 * options.baselineWeeks),
      to,
      through,
    }),
  );
  const surges: Surge[] = [];
  for (let day = from; day <= to; day = addDays(day, 1))
    surges.push(...findSurges(cells, day, options));
  return surges;
}

export interface DailyFindings {
  day: string;
  surges: Surge[];
  clusters: Cluster[];
  repeatCallers: RepeatCaller[];
}

/**
 * What the daily run looks at: the day's surges, clusters in the window ending that day that
 * grew that day, and callers with many requests in the last 30 days who called that day.
 */
export async function detectDay(
  queries: AnalyticsQueries,
  day: string,
  options: AnalysisOptions = ANALYSIS_DEFAULTS,
): Promise<DailyFindings> {
  const surges = await surgesBetween(queries, day, day, day, options.surge);
  const windowFrom = addDays(day, -(options.cluster.windowDays - 1));
  const requests = requestsOf(
    await queries.run('requests', { from: windowFrom, to: day, through: day }),
  );
  const clusters = findClusters(requests, options.cluster).filter((c) => c.lastDay === day);
  const repeatCallers = repeatCallersOf(
    await queries.run('repeat-callers', {
      from: addDays(day, -29),
      to: day,
      through: day,
      min: options.repeatCallerMin,
    }),
  ).filter((c) => c.lastDay === day);
  return { day, surges, clusters, repeatCallers };
}

export interface MonthlyAnalysis {
  month: string;
  totals: { tickets: number; closed: number; unresolved: number };
  volumeByDay: { day: string; channel: string; tickets: number }[];
  topTopics: { topic: string; tickets: number; unresolved: number }[];
  topPlaces: { district: string; township: string; tickets: number }[];
  hotspots: {
    district: string;
    township: string;
    topic: string;
    tickets: number;
    unresolved: number;
    open: number;
  }[];
  unitRates: {
    unit: string;
    tickets: number;
    onTimeRate: number | null;
    resolutionRate: number | null;
    satisfactionRate: number | null;
  }[];
  surges: Surge[];
  clusters: Cluster[];
  candidates: TopicCandidate[];
  repeatCallers: RepeatCaller[];
}

const rate = (n: number, d: number) => (d > 0 ? n / d : null);

/** Everything the monthly report (分析研判报告) and the month's API answers show. */
export async function analyseMonth(
  queries: AnalyticsQueries,
  month: string,
  options: AnalysisOptions = ANALYSIS_DEFAULTS,
): Promise<MonthlyAnalysis> {
  const params = monthParams(month);
  const { from, to } = monthRange(month);
  const [totals, volume, topics, places, hotspots, units, requests, repeat] = await Promise.all([
    queries.run('totals', params),
    queries.run('volume-by-day', params),
    queries.run('top-topics', params),
    queries.run('top-places', params),
    queries.run('hotspots', params),
    queries.run('unit-rates', params),
    queries.run('requests', params),
    queries.run('repeat-callers', { ...params, min: options.repeatCallerMin }),
  ]);
  const surges = await surgesBetween(queries, from, to, params.through, options.surge);
  const clusters = findClusters(requestsOf(requests), options.cluster);
  const t = totals[0] ?? {};
  return {
    month,
    totals: { tickets: num(t.tickets), closed: num(t.closed), unresolved: num(t.unresolved) },
    volumeByDay: volume.map((r) => ({
      day: str(r.day),
      channel: str(r.channel),
      tickets: num(r.tickets),
    })),
    topTopics: topics.map((r) => ({
      topic: str(r.topic),
      tickets: num(r.tickets),
      unresolved: num(r.unresolved),
    })),
    topPlaces: places.map((r) => ({
      district: str(r.district),
      township: str(r.township),
      tickets: num(r.tickets),
    })),
    hotspots: hotspots.map((r) => ({
      district: str(r.district),
      township: str(r.township),
      topic: str(r.topic),
      tickets: num(r.tickets),
      unresolved: num(r.unresolved),
      open: num(r.open),
    })),
    unitRates: units.map((r) => ({
      unit: str(r.unit),
      tickets: num(r.tickets),
      onTimeRate: rate(num(r.replied_on_time), num(r.replied)),
      resolutionRate: rate(num(r.resolved), num(r.reached_resolution)),
      satisfactionRate: rate(num(r.satisfied), num(r.reached_satisfaction)),
    })),
    surges,
    clusters,
    candidates: monthlyTopicCandidates(clusters),
    repeatCallers: repeatCallersOf(repeat),
  };
}

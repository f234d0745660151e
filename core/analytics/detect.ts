import { addDays } from './sql.ts';
import { poissonUpperTail, rateChangePValue } from './stats.ts';

// ---------------------------------------------------------------------------------------------
// 异动: surges per topic × place × day against the cell's own baseline.

export interface Cell {
  topic: string;
  district: string;
  township: string;
  day: string;
  tickets: number;
}

export interface SurgeOptions {
  /** Same weekdays looked back at: the default 8 weeks. */
  baselineWeeks: number;
  /** The one-sided p-value below which a count is a surge. */
  alpha: number;
  /** Fewer tickets than this are never a surge, however quiet the cell usually is. */
  minTickets: number;
}

export const SURGE_DEFAULTS: SurgeOptions = { baselineWeeks: 8, alpha: 0.001, minTickets: 5 };

export interface Surge {
  topic: string;
  district: string;
  township: string;
  day: string;
  tickets: number;
  /** Tickets expected that day from the baseline. */
  expected: number;
  /** P(at least this many | expected), Poisson. */
  pValue: number;
  baseline: number[];
}

const cellKey = (c: { topic: string; district: string; township: string }) =>
  `${c.topic}|${c.district}|${c.township}`;

/**
 * The test: a cell's daily count is taken as Poisson with mean λ estimated from the same weekday
 * of the previous weeks, λ = (sum + 1) / weeks (the +1 keeps a cell that was always quiet from
 * alarming at its first few tickets). A day is a surge when P(X ≥ count | λ) < alpha and the
 * count is at least minTickets. Under the null each examined cell-day alarms with probability
 * below alpha, so a month of C active cells gives at most about 30 · C · alpha false alarms;
 * the README gives the rate measured on a simulated month with nothing planted.
 */
export function findSurges(
  cells: readonly Cell[],
  day: string,
  options: SurgeOptions = SURGE_DEFAULTS,
): Surge[] {
  const counts = new Map<string, number>();
  for (const c of cells) counts.set(`${cellKey(c)}|${c.day}`, c.tickets);
  const surges: Surge[] = [];
  for (const c of cells) {
    if (c.day !== day || c.tickets < options.minTickets) continue;
    const baseline = Array.from(
      { length: options.baselineWeeks },
      (_, k) => counts.get(`${cellKey(c)}|${addDays(day, -7 * (k + 1))}`) ?? 0,
    );
    const expected = (baseline.reduce((a, b) => a + b, 0) + 1) / options.baselineWeeks;
    const pValue = poissonUpperTail(c.tickets, expected);
    if (pValue < options.alpha) {
      surges.push({ ...c, expected, pValue, baseline });
    }
  }
  return surges.sort((a, b) => a.pValue - b.pValue);
}

// ---------------------------------------------------------------------------------------------
// Before/after a date for one place and topic (the renovation question).

export interface Comparison {
  before: { tickets: number; days: number; perDay: number; unresolved: number };
  after: { tickets: number; days: number; perDay: number; unresolved: number };
  /** after.perDay / before.perDay, or null when before had none. */
  ratio: number | null;
  /** Exact conditional test that the daily rate did not change (two-sided). */
  pValue: number;
}

export function compareRates(
  sides: {
    before: { tickets: number; unresolved: number };
    after: { tickets: number; unresolved: number };
  },
  daysBefore: number,
  daysAfter: number,
): Comparison {
  const side = (s: { tickets: number; unresolved: number }, days: number) => ({
    ...s,
    days,
    perDay: days > 0 ? s.tickets / days : 0,
  });
  const before = side(sides.before, daysBefore);
  const after = side(sides.after, daysAfter);
  return {
    before,
    after,
    ratio: before.perDay > 0 ? after.perDay / before.perDay : null,
    pValue: rateChangePValue(before.tickets, daysBefore, after.tickets, daysAfter),
  };
}

// ---------------------------------------------------------------------------------------------
// 多人同诉: near-duplicate requests from different callers, within a place and a time window.

export interface Request {
  ticket_key: string;
  caller_key: string | null;
  topic: string;
  district: string;
  township: string;
  day: string;
  tokens: string;
  status: string;
  resolved: boolean | null;
}

export interface ClusterOptions {
  /** A cluster with no request for this many days takes no more. */
  windowDays: number;
  /** Jaccard similarity to the cluster's profile, computed exactly for MinHash's candidates. */
  similarity: number;
  /** Distinct callers a cluster needs (one person calling again is 一人多诉, not 多人同诉). */
  minCallers: number;
}

export const CLUSTER_DEFAULTS: ClusterOptions = { windowDays: 7, similarity: 0.5, minCallers: 5 };

export interface Cluster {
  id: string;
  district: string;
  township: string;
  topics: string[];
  size: number;
  callers: number;
  firstDay: string;
  lastDay: string;
  /** The member most like the others, as its words. */
  representative: string;
  /** Words most members share. */
  keywords: string[];
  unresolved: number;
  open: number;
  /** Members in the second half of the cluster's span over the first (growth). */
  growth: number;
}

const HASHES = 64;
const BANDS = 32; // 2 rows a band: candidates from about Jaccard 0.2 up, verified exactly.
const ROWS = HASHES / BANDS;

function fnv(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function minHash(set: ReadonlySet<string>): number[] {
  const sig = new Array<number>(HASHES).fill(0xffffffff);
  for (const token of set) {
    for (let i = 0; i < HASHES; i++) {
      const h = fnv(token, i * 0x9e3779b1);
      if (h < (sig[i] as number)) sig[i] = h;
    }
  }
  return sig;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let both = 0;
  for (const t of a) if (b.has(t)) both++;
  return both / (a.size + b.size - both);
}

const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / 86_400_000;

/**
 * Clusters inside each township, in time order, without chaining: a request joins the cluster
 * whose profile (the words at least half its members share) it is most like, if that is at least
 * `similarity` (Jaccard of the token sets) and the cluster had a request within `windowDays`;
 * otherwise it starts a new cluster. MinHash with banded locality-sensitive hashing finds the
 * clusters worth comparing, so the cost grows with the requests, not with their pairs. Only clusters with `minCallers`
 * distinct callers are kept (a request without a caller hash counts as its own caller).
 */
export function findClusters(
  requests: readonly Request[],
  options: ClusterOptions = CLUSTER_DEFAULTS,
): Cluster[] {
  const byPlace = new Map<string, Request[]>();
  for (const r of requests) {
    const key = `${r.district}|${r.township}`;
    const group = byPlace.get(key) ?? [];
    group.push(r);
    byPlace.set(key, group);
  }
  const clusters: Cluster[] = [];
  for (const group of byPlace.values()) clusters.push(...clustersIn(group, options));
  return clusters.sort((a, b) => b.size - a.size || a.id.localeCompare(b.id));
}

interface Forming {
  /** Tokens at least half the members share (the seed's, at first): what the matter is about. */
  profile: Set<string>;
  counts: Map<string, number>;
  members: { request: Request; tokens: Set<string> }[];
  lastDay: number;
}

function join(cluster: Forming, request: Request, tokens: Set<string>, day: number): void {
  cluster.members.push({ request, tokens });
  cluster.lastDay = day;
  for (const t of tokens) cluster.counts.set(t, (cluster.counts.get(t) ?? 0) + 1);
  const half = cluster.members.length / 2;
  cluster.profile = new Set([...cluster.counts].filter(([, n]) => n >= half).map(([t]) => t));
}

function clustersIn(group: readonly Request[], options: ClusterOptions): Cluster[] {
  const ordered = [...group].sort(
    (a, b) => a.day.localeCompare(b.day) || a.ticket_key.localeCompare(b.ticket_key),
  );
  const forming: Forming[] = [];
  const index = new Map<string, Set<number>>();
  for (const request of ordered) {
    const tokens = new Set(request.tokens.split(' ').filter(Boolean));
    if (tokens.size < 2) continue;
    const day = dayNumber(request.day);
    const sig = minHash(tokens);
    const bands = Array.from(
      { length: BANDS },
      (_, b) => `${b}:${sig.slice(b * ROWS, (b + 1) * ROWS).join(',')}`,
    );
    let best = -1;
    let bestSimilarity = 0;
    const seen = new Set<number>();
    for (const band of bands) {
      for (const c of index.get(band) ?? []) {
        if (seen.has(c)) continue;
        seen.add(c);
        const cluster = forming[c] as Forming;
        if (day - cluster.lastDay > options.windowDays) continue;
        const s = jaccard(tokens, cluster.profile);
        if (s >= options.similarity && s > bestSimilarity) {
          best = c;
          bestSimilarity = s;
        }
      }
    }
    if (best < 0) {
      forming.push({ profile: tokens, counts: new Map(), members: [], lastDay: day });
      best = forming.length - 1;
    }
    join(forming[best] as Forming, request, tokens, day);
    // Every member's bands lead to its cluster, so a request like any member is compared.
    for (const band of bands) {
      const set = index.get(band) ?? new Set<number>();
      set.add(best);
      index.set(band, set);
    }
  }
  return forming.flatMap((f) => {
    const callers = new Set(f.members.map((m, k) => m.request.caller_key ?? `anonymous-${k}`));
    return f.members.length >= options.minCallers && callers.size >= options.minCallers
      ? [describe(f, callers.size)]
      : [];
  });
}

function describe(f: Forming, callers: number): Cluster {
  const members = f.members;
  // The medoid (of at most 100 members, to bound the cost): most like all the others.
  const sample = members.slice(0, 100);
  let best = sample[0] as Forming['members'][number];
  let bestScore = -1;
  for (const m of sample) {
    let score = 0;
    for (const o of sample) if (o !== m) score += jaccard(m.tokens, o.tokens);
    if (score > bestScore) {
      bestScore = score;
      best = m;
    }
  }
  const tokenCounts = new Map<string, number>();
  for (const m of members)
    for (const t of m.tokens) tokenCounts.set(t, (tokenCounts.get(t) ?? 0) + 1);
  const keywords = [...tokenCounts.entries()]
    .filter(([, n]) => n >= members.length / 2)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 8)
    .map(([t]) => t);
  const rs = members.map((m) => m.request);
  const first = rs[0] as Request;
  const firstDay = first.day;
  const lastDay = (rs.at(-1) as Request).day;
  const mid = (dayNumber(firstDay) + dayNumber(lastDay)) / 2;
  const early = rs.filter((r) => dayNumber(r.day) <= mid).length;
  const late = rs.length - early;
  return {
    // The first request is fixed once the cluster starts, so a growing cluster keeps its id.
    id: `${first.district}-${first.township || 'all'}-${firstDay}-${first.ticket_key.slice(0, 8)}`,
    district: first.district,
    township: first.township,
    topics: [...new Set(rs.map((r) => r.topic))].sort(),
    size: rs.length,
    callers,
    firstDay,
    lastDay,
    representative: [...best.tokens].join(' '),
    keywords,
    unresolved: rs.filter((r) => r.resolved === false).length,
    open: rs.filter((r) => r.status !== 'closed' && r.status !== 'merged').length,
    growth: early > 0 ? late / early : late,
  };
}

// ---------------------------------------------------------------------------------------------
// 每月一题: the month's clusters ranked by size, growth and unresolved share.

export interface TopicCandidate extends Cluster {
  unresolvedShare: number;
  score: number;
}

/**
 * score = size × (1 + min(growth, 3) / 3) × (0.5 + unresolved share): a large matter first, one
 * still growing and one the units have not resolved ahead of one that has settled.
 */
export function monthlyTopicCandidates(clusters: readonly Cluster[], limit = 10): TopicCandidate[] {
  return clusters
    .map((c) => {
      const unresolvedShare = c.size > 0 ? c.unresolved / c.size : 0;
      const score = c.size * (1 + Math.min(c.growth, 3) / 3) * (0.5 + unresolvedShare);
      return { ...c, unresolvedShare, score: Math.round(score * 100) / 100 };
    })
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
    .slice(0, limit);
}

import * as z from 'zod';
import { requireRole } from '#core/access';
import { requestsOf } from '#core/analytics/analysis';
import { compareRates, findClusters, monthlyTopicCandidates } from '#core/analytics/detect';
import { addDays, CHANGES_READ_DAYS, monthParams } from '#core/analytics/sql';
import { shanghaiDate } from '#core/calendar';
import { now } from '#core/clock';
import { httpHandler, json, parseWith, requirePrincipal } from '../lib/http.ts';
import { analyticsQueries, warningStore } from './deps.ts';

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month such as 2026-11');
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day such as 2026-11-30');
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a lower-case id');
const monthQuery = z.strictObject({ month });

const supervisor = (event: Parameters<typeof requirePrincipal>[0]) =>
  requireRole(requirePrincipal(event), ['supervisor']);

/** GET /analytics/warnings?month=: the month's warnings (异动, 多人同诉, 一人多诉), newest first. */
export const warnings = httpHandler(async (event) => {
  supervisor(event);
  const q = parseWith(monthQuery, event.queryStringParameters ?? {});
  const list = await warningStore().list(q.month);
  return json(200, { month: q.month, warnings: list.reverse() });
});

/** GET /analytics/hotspots?month=: 高频 places and topics, top topics and places, repeat callers. */
export const hotspots = httpHandler(async (event) => {
  supervisor(event);
  const q = parseWith(monthQuery, event.queryStringParameters ?? {});
  const engine = await analyticsQueries();
  const params = monthParams(q.month);
  const [cells, topics, places, callers] = await Promise.all([
    engine.run('hotspots', params),
    engine.run('top-topics', params),
    engine.run('top-places', params),
    engine.run('repeat-callers', { ...params, min: 5 }),
  ]);
  return json(200, {
    month: q.month,
    hotspots: cells,
    topics,
    places,
    repeatCallers: callers,
  });
});

/** GET /analytics/clusters?month=: 多人同诉 clusters and the 每月一题 candidates. */
export const clusters = httpHandler(async (event) => {
  supervisor(event);
  const q = parseWith(monthQuery, event.queryStringParameters ?? {});
  const rows = await (await analyticsQueries()).run('requests', monthParams(q.month));
  const found = findClusters(requestsOf(rows));
  return json(200, { month: q.month, clusters: found, candidates: monthlyTopicCandidates(found) });
});

const compareQuery = z.strictObject({
  topic: id,
  district: id,
  township: id.optional(),
  date: day,
  days: z.coerce.number().int('must be a whole number').min(7).max(366).default(90),
});

/**
 * GET /analytics/compare?topic=&district=&township=&date=&days=: tickets a day before and after
 * a date (e.g. a renovation's completion) for one place and topic, with an exact test of
 * whether the rate changed.
 */
export const compare = httpHandler(async (event) => {
  supervisor(event);
  const q = parseWith(compareQuery, event.queryStringParameters ?? {});
  const from = addDays(q.date, -q.days);
  const to = addDays(q.date, q.days - 1);
  const rows = await (await analyticsQueries()).run('compare', {
    from,
    to,
    through: addDays(to, CHANGES_READ_DAYS),
    pivot: q.date,
    topic: q.topic,
    district: q.district,
    township: q.township ?? '',
  });
  const side = (name: string) => {
    const r = rows.find((x) => x.side === name);
    return { tickets: Number(r?.tickets ?? 0), unresolved: Number(r?.unresolved ?? 0) };
  };
  // A date less than `days` ago has had fewer days since: the rate is per day actually seen.
  const today = shanghaiDate(now());
  const elapsed = Math.round((Date.parse(today) - Date.parse(q.date)) / 86_400_000);
  const daysAfter = Math.max(1, Math.min(q.days, elapsed));
  const result = compareRates({ before: side('before'), after: side('after') }, q.days, daysAfter);
  return json(200, { ...q, township: q.township ?? null, from, to, ...result });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDbAnalytics, localDatasetGlob, writeLocalDataset } from '#adapters/analytics/duckdb';
import { analyseMonth } from '#core/analytics/analysis';
import { compareRates, findClusters, findSurges, type Request } from '#core/analytics/detect';
import { analyticsRow } from '#core/analytics/schema';
import { poissonUpperTail, rateChangePValue } from '#core/analytics/stats';
import { contentTokens } from '#core/analytics/tokens';
import { checkPlanted, simulateMonth } from '../../simulator/analytics.ts';
import { TEST_SALT } from '../support/analytics.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function analysed(plant: boolean) {
  const month = simulateMonth({ month: '2026-10', perDay: 120, seed: 11, plant });
  const dir = await mkdtemp(join(tmpdir(), 'analytics-detect-'));
  dirs.push(dir);
  await writeLocalDataset(
    dir,
    month.tickets.map((t) => analyticsRow(t, TEST_SALT)),
  );
  const analysis = await analyseMonth(new DuckDbAnalytics(localDatasetGlob(dir)), '2026-10');
  return { analysis, ...checkPlanted(analysis, month.planted, TEST_SALT) };
}

describe('statistics', () => {
  it('computes the Poisson upper tail and the exact rate test', () => {
    // P(X ≥ 1 | 1) = 1 − e^−1; P(X ≥ 3 | 0.5) = 1 − e^−0.5 (1 + 0.5 + 0.125)
    expect(poissonUpperTail(1, 1)).toBeCloseTo(1 - Math.exp(-1), 10);
    expect(poissonUpperTail(3, 0.5)).toBeCloseTo(1 - Math.exp(-0.5) * 1.625, 10);
    expect(poissonUpperTail(0, 2)).toBe(1);
    // The same rate on both sides is no evidence of change; ten times the rate is.
    expect(rateChangePValue(10, 10, 10, 10)).toBeCloseTo(1, 6);
    expect(rateChangePValue(5, 30, 50, 30)).toBeLessThan(1e-6);
    const c = compareRates(
      { before: { tickets: 30, unresolved: 3 }, after: { tickets: 90, unresolved: 30 } },
      30,
      30,
    );
    expect(c.ratio).toBe(3);
    expect(c.pValue).toBeLessThan(1e-6);
  });
});

describe('detectors', () => {
  it('flags a surge against the same weekday of the previous eight weeks, not a normal day', () => {
    const base = (day: string, tickets: number) => ({
      topic: 'roads',
      district: 'd',
      township: 't',
      day,
      tickets,
    });
    const history = [1, 2, 1, 0, 1, 2, 1, 1].map((n, k) =>
      base(
        new Date(Date.parse('2026-10-12') - 7 * (k + 1) * 86_400_000).toISOString().slice(0, 10),
        n,
      ),
    );
    expect(findSurges([...history, base('2026-10-12', 9)], '2026-10-12')).toHaveLength(1);
    expect(findSurges([...history, base('2026-10-12', 3)], '2026-10-12')).toHaveLength(0);
  });

  it('groups one matter told in different words by different callers, and not one caller', () => {
    const texts = [
      '幸福里小区二期地下车库积水严重，排水泵坏了没人修',
      '幸福里二期地下车库又积水了，排水泵不工作',
      '幸福里小区地下车库二期积水很深，排水泵一直没修',
      '反映幸福里小区二期地下车库积水，排水泵坏了',
      '幸福里小区二期地下车库积水到膝盖，排水泵坏掉没人管',
    ];
    const request = (text: string, k: number, caller: string): Request => ({
      ticket_key: `k${k}`,
      caller_key: caller,
      topic: 'property-management',
      district: 'd',
      township: 't',
      day: `2026-10-1${k}`,
      tokens: contentTokens(text).join(' '),
      status: 'closed',
      resolved: false,
    });
    const many = texts.map((t, k) => request(t, k, `c${k}`));
    const noise = request('广场舞音响声音太大，晚上睡不着', 9, 'c9');
    const [cluster, ...rest] = findClusters([...many, noise]);
    expect(rest).toEqual([]);
    expect(cluster).toMatchObject({ size: 5, callers: 5, township: 't', unresolved: 5 });
    expect(cluster?.keywords).toEqual(expect.arrayContaining(['车库', '积水', '排水泵']));
    // The same five from one number is one person calling again: 一人多诉, not 多人同诉.
    expect(findClusters(texts.map((t, k) => request(t, k, 'same')))).toEqual([]);
  });

  it('finds every planted pattern in a simulated month', async () => {
    const { checks } = await analysed(true);
    expect(checks.map((c) => [c.pattern, c.found])).toEqual([
      ['surge', true],
      ['cluster', true],
      ['repeatCaller', true],
    ]);
  }, 120_000);

  it('raises few warnings on a month with nothing planted', async () => {
    const { otherWarnings, analysis } = await analysed(false);
    expect(analysis.clusters).toEqual([]);
    expect(analysis.repeatCallers).toEqual([]);
    // α = 0.001 over about 2,200 cell-days: a few false surges a month are expected.
    expect(otherWarnings).toBeLessThanOrEqual(4);
  }, 120_000);
});

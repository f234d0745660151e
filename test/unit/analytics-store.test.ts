import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbAnalytics, localDatasetGlob, writeLocalDataset } from '#adapters/analytics/duckdb';
import { ANALYTICS_COLUMNS, type AnalyticsRow, analyticsRow } from '#core/analytics/schema';
import { bindNamed, monthParams, QUERIES } from '#core/analytics/sql';
import { findPersonalData } from '#core/bulletin/privacy';
import { shanghaiDate } from '#core/calendar';
import { simulateMonth } from '../../simulator/analytics.ts';
import { TEST_SALT } from '../support/analytics.ts';

const MONTH = '2026-10';
const { tickets } = simulateMonth({ month: MONTH, perDay: 40, seed: 7, plant: true });
const rows = tickets.map((t) => analyticsRow(t, TEST_SALT));
const inMonth = tickets.filter((t) => shanghaiDate(t.createdAt).startsWith(MONTH));
let dir: string;
let engine: DuckDbAnalytics;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'analytics-store-'));
  // An older version of one ticket, written in an earlier batch: the latest must win.
  const first = rows.find((r) => r.created_day.startsWith(MONTH)) as AnalyticsRow;
  await writeLocalDataset(dir, [{ ...first, version: 1, status: 'handling', resolved: null }], '0');
  await writeLocalDataset(dir, rows);
  engine = new DuckDbAnalytics(localDatasetGlob(dir));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('analytics data set', () => {
  it('keeps no personal data: no names, numbers or addresses in any string column', () => {
    const t = tickets[0]!;
    const row = analyticsRow(
      {
        ...t,
        caller: { name: '王小明', phone: '13912345678' },
        place: { ...t.place, address: '幸福路88号3栋2单元501' },
        content: '我是王小明，电话13912345678，家住幸福路88号3栋2单元501，楼下烧烤店油烟太大',
      },
      TEST_SALT,
    );
    const text = JSON.stringify(row);
    for (const secret of ['王小明', '13912345678', '幸福路88号', t.id]) {
      expect(text).not.toContain(secret);
    }
    expect(row.tokens).toContain('油烟');
    // The salted keys are HMAC digests (checked above not to be the id or the number); their
    // base64url letters look like account ids to the guard, which is right to be suspicious of text.
    const HASHED = new Set(['ticket_key', 'caller_key']);
    expect(row.caller_key).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const strings = [row, ...rows].flatMap((r) =>
      ANALYTICS_COLUMNS.filter((c) => c.type === 'string' && !HASHED.has(c.name)).map(
        (c) => r[c.name] as string | null,
      ),
    );
    const findings = strings.flatMap((s) => (s ? findPersonalData(s) : []));
    expect(findings).toEqual([]);
  });

  it('answers the totals from the latest version of each ticket in the month', async () => {
    const [totals] = await engine.run('totals', monthParams(MONTH));
    expect(totals?.tickets).toBe(inMonth.length);
    const unresolved = inMonth.filter((t) =>
      t.survey?.reached ? t.survey.resolved === false : t.reply?.resolved === false,
    ).length;
    expect(totals?.unresolved).toBe(unresolved);
    const volume = await engine.run('volume-by-day', monthParams(MONTH));
    expect(volume.reduce((s, r) => s + Number(r.tickets), 0)).toBe(inMonth.length);
    expect(new Set(volume.map((r) => r.day)).size).toBe(31);
  });

  it('runs every query file', async () => {
    const params = {
      ...monthParams(MONTH),
      pivot: `${MONTH}-15`,
      topic: 'roads',
      district: 'qingshan',
      township: '',
      min: 3,
    };
    for (const name of QUERIES) {
      const result = await engine.run(name, params);
      expect(result.length, name).toBeGreaterThan(0);
    }
  });

  it('answers an empty result, not an error, before any file exists', async () => {
    const empty = new DuckDbAnalytics(join(dir, 'nothing', 'dt=*', '*.parquet'));
    const [totals] = await empty.run('totals', monthParams(MONTH));
    expect(totals?.tickets).toBe(0);
  });

  it('binds named parameters positionally and refuses a missing one', () => {
    expect(bindNamed('a = :x AND b = :y OR c = :x', { x: 1, y: 'z' })).toEqual({
      sql: 'a = ? AND b = ? OR c = ?',
      values: [1, 'z', 1],
    });
    expect(() => bindNamed('a = :x', {})).toThrow(/:x/);
  });
});

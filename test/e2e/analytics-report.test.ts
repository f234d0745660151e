import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbAnalytics, localDatasetGlob, writeLocalDataset } from '#adapters/analytics/duckdb';
import { analyseMonth } from '#core/analytics/analysis';
import { CLUSTER_DEFAULTS } from '#core/analytics/detect';
import { renderMonthlyReport } from '#core/analytics/report';
import { analyticsRow } from '#core/analytics/schema';
import { addDays, monthParams } from '#core/analytics/sql';
import { findPersonalData } from '#core/bulletin/privacy';
import { shanghaiDate } from '#core/calendar';
import sampleCounty from '#data/sample-county.json' with { type: 'json' };
import { visibleText } from '#functions/analytics/report';
import { type SimulatedMonth, simulateMonth } from '../../simulator/analytics.ts';
import { TEST_SALT } from '../support/analytics.ts';
import { launchBrowser } from '../support/browser.ts';

const MONTH = '2026-10';
let dir: string;
let engine: DuckDbAnalytics;
let html: string;
let browser: Browser;
let page: Page;
let month: SimulatedMonth;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'analytics-report-'));
  month = simulateMonth({ month: MONTH, perDay: 60, seed: 5, plant: true });
  await writeLocalDataset(
    dir,
    month.tickets.map((t) => analyticsRow(t, TEST_SALT)),
  );
  engine = new DuckDbAnalytics(localDatasetGlob(dir));
  const names = Object.fromEntries(
    [...sampleCounty.areas, ...sampleCounty.topics, ...sampleCounty.units].map((x) => [
      x.id,
      x.name,
    ]),
  );
  html = renderMonthlyReport(await analyseMonth(engine, MONTH), {
    names,
    generatedAt: '2026-11-01T01:00:00.000Z',
  });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
  await page.setContent(html);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

const metric = (name: string, key?: string) =>
  page
    .locator(key ? `[data-metric="${name}"][data-key="${key}"]` : `[data-metric="${name}"]`)
    .innerText();

describe('the monthly analysis report in a browser', () => {
  it('draws every chart as a non-blank SVG', async () => {
    for (const name of ['volume', 'topics', 'places', 'units']) {
      const figure = page.locator(`[data-chart="${name}"] svg`);
      await expect(figure.count()).resolves.toBe(1);
      const box = await figure.boundingBox();
      expect(box?.width, name).toBeGreaterThan(300);
      // Bars are paths: a blank chart has axes only.
      const shapes = await page.locator(`[data-chart="${name}"] svg path`).count();
      expect(shapes, name).toBeGreaterThan(10);
    }
    // The page needs no script and no network: everything is in the HTML.
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('shows the numbers the SQL gives', async () => {
    const params = monthParams(MONTH);
    const [totals] = await engine.run('totals', params);
    expect(Number(await metric('total-tickets'))).toBe(totals?.tickets);
    expect(Number(await metric('total-closed'))).toBe(totals?.closed);
    expect(Number(await metric('total-unresolved'))).toBe(totals?.unresolved);
    for (const t of (await engine.run('top-topics', params)).slice(0, 10)) {
      expect(Number(await metric('topic-tickets', String(t.topic)))).toBe(t.tickets);
    }
    for (const u of await engine.run('unit-rates', params)) {
      const unit = String(u.unit);
      expect(Number(await metric('unit-tickets', unit))).toBe(u.tickets);
      const onTime = Number(u.replied_on_time) / Number(u.replied);
      expect(await metric('unit-on-time', unit)).toBe(`${(onTime * 100).toFixed(1)}%`);
    }
    expect(await page.locator('h1').innerText()).toContain('2026年10月分析研判报告');
    // Every surge is planted: the planted one, or a day of the planted cluster (its callers all
    // ring about one matter in one place within four days); seed 5's background raises no false
    // alarm. Each shows the tickets of its cell and day, counted here from the planted month.
    const keysOf = (name: string) =>
      page
        .locator(`[data-metric="${name}"]`)
        .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-key') as string));
    const { surge, cluster } = month.planted;
    const planted = `${surge!.topic}|${surge!.township}|${surge!.day}`;
    const clusterDays = [0, 1, 2, 3].map(
      (k) => `${cluster!.topic}|${cluster!.township}|${addDays(cluster!.fromDay, k)}`,
    );
    const surges = await keysOf('surge-tickets');
    expect(surges).toContain(planted);
    expect(surges.filter((k) => k !== planted && !clusterDays.includes(k))).toEqual([]);
    for (const key of surges) {
      const inCell = month.tickets.filter(
        (t) => `${t.topic}|${t.place.township}|${shanghaiDate(t.createdAt)}` === key,
      );
      expect(Number(await metric('surge-tickets', key)), key).toBe(inCell.length);
    }
    const clusters = await keysOf('cluster-size');
    // One cluster, the planted one: no more tickets than were planted (their own words differ
    // enough that some are not recognised), at least as many as a cluster needs.
    expect(clusters).toHaveLength(1);
    const size = Number(await metric('cluster-size', clusters[0]!));
    expect(size).toBeGreaterThanOrEqual(CLUSTER_DEFAULTS.minCallers);
    expect(size).toBeLessThanOrEqual(cluster!.tickets);
  });

  it('identifies nobody: the privacy guard finds nothing in the page', async () => {
    expect(findPersonalData(visibleText(html))).toEqual([]);
    expect(findPersonalData(await page.locator('body').innerText())).toEqual([]);
  });
});

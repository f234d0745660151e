/**
 * npm run simulate:analytics -- [--month 2026-10] [--per-day 150] [--seed 11] [--none]
 *
 * A simulated month (with eight weeks before it) through the analytics data set and the
 * detectors, with a surge, a many-caller matter and a repeat caller planted (or, with --none,
 * nothing): prints whether each planted pattern was found and how many other warnings came up.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDbAnalytics, localDatasetGlob, writeLocalDataset } from '#adapters/analytics/duckdb';
import { analyseMonth } from '#core/analytics/analysis';
import { analyticsRow } from '#core/analytics/schema';
import { checkPlanted, simulateMonth, storedVersions } from './analytics.ts';

const { values } = parseArgs({
  options: {
    month: { type: 'string', default: '2026-10' },
    'per-day': { type: 'string', default: '150' },
    seed: { type: 'string', default: '11' },
    none: { type: 'boolean', default: false },
  },
});
const salt = 'simulation-salt-simulation';
const month = simulateMonth({
  month: values.month,
  perDay: Number(values['per-day']),
  seed: Number(values.seed),
  plant: !values.none,
});
const dir = await mkdtemp(join(tmpdir(), 'simulate-analytics-'));
try {
  const rows = storedVersions(month.tickets).map((t) => analyticsRow(t, salt));
  await writeLocalDataset(dir, rows);
  const analysis = await analyseMonth(new DuckDbAnalytics(localDatasetGlob(dir)), values.month);
  const { checks, otherWarnings } = checkPlanted(analysis, month.planted, salt);
  console.log(
    `${values.month}: ${analysis.totals.tickets} tickets (${rows.length} rows with history)`,
  );
  for (const c of checks) {
    console.log(
      `  ${c.found ? 'FOUND    ' : 'NOT FOUND'} ${c.pattern}: ${c.planted} — ${c.detail}`,
    );
  }
  console.log(
    `  other warnings: ${otherWarnings} (surges ${analysis.surges.length}, clusters ${analysis.clusters.length}, repeat callers ${analysis.repeatCallers.length}, planted ones included)`,
  );
  process.exitCode = checks.every((c) => c.found) ? 0 : 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}

/**
 * npm run simulate -- [prefecture|beijing] [--volume N] [--days D] [--seed S] [--speed X]
 *                     [--fraction F] [--step-minutes M] [--mix mix.json] [--concurrency C]
 *                     [--horizon-days H] [--out DIR] [--dynamodb-endpoint URL --table NAME]
 *                     [--suggest F] [--operator-error E] [--count-requests]
 *
 * --count-requests counts every AWS SDK request by origin (each function; the local stream
 * runner; the stack's plumbing) and operation, during the simulation and while collecting.
 *
 * --suggest F files that share of the dispatched calls without a topic, in a caller's own words
 * (the independent evaluation set's requests): the dispatch model chooses (智能派单), and a unit
 * sent a wrong topic returns the ticket. --operator-error E makes the operator pick a wrong topic
 * for that share of the calls filed with one. The report gives the model's figures on the calls
 * and the returns each kind of wrong dispatch caused: compare --suggest 1 with --suggest 0, both
 * at --operator-error 0.15 (manual sorting is reported wrong about 15 % of the time).
 *
 * --speed lets the virtual clock also run X× faster than the wall clock between steps; with the
 * default 1 it moves (almost) only when stepped, so outcomes do not depend on the machine.
 *
 * Runs a whole simulated hotline on the local stack (127.0.0.1 only) with the clock accelerated,
 * then writes a JSON and an HTML report under .local/simulation/<timestamp>/.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatCounts, summarizeCounts } from '#local/request-counts';
import { DEFAULT_MIX, type Mix, PRESETS, type PresetName } from './plan.ts';
import { costPerTicket, dispatchSummary, writeReport } from './report.ts';
import { metricDiscrepancies, type Progress, runSimulation } from './run.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    volume: { type: 'string' },
    days: { type: 'string' },
    seed: { type: 'string', default: '12345' },
    speed: { type: 'string', default: '1' },
    fraction: { type: 'string' },
    'step-minutes': { type: 'string', default: '15' },
    'horizon-days': { type: 'string', default: '90' },
    mix: { type: 'string' },
    concurrency: { type: 'string', default: '24' },
    /** Another DynamoDB Local (the test run's), with a table of this run's own. */
    'dynamodb-endpoint': { type: 'string' },
    table: { type: 'string' },
    out: { type: 'string', default: '.local/simulation' },
    suggest: { type: 'string' },
    'operator-error': { type: 'string' },
    'count-requests': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]);
  console.log(
    `Presets: ${Object.entries(PRESETS)
      .map(([k, v]) => `${k} (${v.volume}/day)`)
      .join(', ')}. Mix fields: ${Object.keys(DEFAULT_MIX).join(', ')}`,
  );
  process.exit(0);
}
const presetName = (positionals[0] ?? 'prefecture') as PresetName;
const preset = PRESETS[presetName];
if (!preset) {
  console.error(`unknown preset ${positionals[0]}; use ${Object.keys(PRESETS).join(' or ')}`);
  process.exit(2);
}
const number = (name: string, raw: string | undefined, min: number, max: number) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number from ${min} to ${max}`);
    process.exit(2);
  }
  return n;
};
const fullVolume = values.volume ? number('volume', values.volume, 1, 1_000_000) : preset.volume;
// Beijing's 60,000 a day is more than a 2-core machine plays in reasonable time: by default run
// a tenth and say so; --fraction 1 runs all of it.
const fraction = number(
  'fraction',
  values.fraction ?? (presetName === 'beijing' && !values.volume ? '0.1' : '1'),
  0.0001,
  1,
);
const volume = Math.max(1, Math.round(fullVolume * fraction));
const days = values.days ? number('days', values.days, 1, 62) : preset.days;
const seed = number('seed', values.seed, 0, 2 ** 31);
const speed = number('speed', values.speed, 0.001, 10_000);
const mix: Partial<Mix> = values.mix ? JSON.parse(readFileSync(values.mix, 'utf8')) : {};
for (const key of Object.keys(mix))
  if (!(key in DEFAULT_MIX)) {
    console.error(`--mix: unknown field ${key}`);
    process.exit(2);
  }
if (values.suggest) mix.suggest = number('suggest', values.suggest, 0, 1);
if (values['operator-error'])
  mix.operatorError = number('operator-error', values['operator-error'], 0, 1);

const tty = process.stderr.isTTY;
let lastLine = 0;
const showProgress = (p: Progress) => {
  const dayNow = (p.virtualMs - p.startMs) / 86_400_000;
  const share = p.scripts ? p.finished / p.scripts : 0;
  const text = `day ${dayNow.toFixed(2)} · calls ${p.filed}/${p.planned} · scripts done ${p.finished}/${p.scripts} · ${(p.wallMs / 1000).toFixed(0)} s`;
  if (tty) {
    const width = 28;
    const full = Math.round(share * width);
    process.stderr.write(`\r[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${text}\x1b[K`);
    if (p.done) process.stderr.write('\n');
  } else if (p.done || performance.now() - lastLine > 10_000) {
    lastLine = performance.now();
    process.stderr.write(`${text}\n`);
  }
};

const label = `${presetName}${fraction < 1 ? ` (fraction ${fraction} of ${fullVolume}/day)` : ''}, ${volume} calls/day × ${days} day(s)`;
console.error(`simulating ${label}, seed ${seed}, clock speed ${speed}, on 127.0.0.1`);
const result = await runSimulation({
  seed,
  volume,
  days,
  mix,
  speed,
  stepMinutes: number('step-minutes', values['step-minutes'], 1, 240),
  horizonDays: number('horizon-days', values['horizon-days'], 1, 365),
  concurrency: number('concurrency', values.concurrency, 1, 256),
  ...(values['dynamodb-endpoint'] ? { dynamodbEndpoint: values['dynamodb-endpoint'] } : {}),
  ...(values.table ? { tableName: values.table } : {}),
  onProgress: showProgress,
  ...(values['count-requests'] ? { countRequests: true } : {}),
});
const paths = writeReport(result, label, values.out);
const t = result.throughput;
const cost = costPerTicket(result);
const out = console.log;
out(`\n12345 simulation — ${label}, seed ${seed}, ${new Date().toISOString()}`);
out(
  `  wall: ${(result.wall.totalMs / 1000).toFixed(1)} s in all (setup ${(result.wall.setupMs / 1000).toFixed(1)} s, simulation ${(result.wall.runMs / 1000).toFixed(1)} s, collecting ${(result.wall.collectMs / 1000).toFixed(1)} s); virtual ${result.virtual.start} → ${result.virtual.end}`,
);
out(
  `  outcomes: ${Object.entries(result.actual)
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')}`,
);
const discrepancies = metricDiscrepancies(result);
out(
  `  plan vs system: ${result.mismatches.length} tickets differ from the plan; GET /metrics over ${result.metrics.periods.join(', ')} ${discrepancies.length ? `DIFFERS from the tickets: ${discrepancies.join('; ')}` : "equals the sum of the tickets' own counters"}; ${result.callbacksListed} missed calls on the call-back lists; ${result.errors.length} errors`,
);
out(
  `  cost: ${cost.stateTransitionsPerWorkflowTicket.toFixed(1)} state transitions per workflow ticket, ${cost.lambdaInvocationsPerTicket.toFixed(1)} Lambda invocations and ${cost.mailsPerTicket.toFixed(2)} mails per ticket${'usdPerThousandTickets' in cost ? `, ≈ USD ${(cost.usdPerThousandTickets as number).toFixed(3)} per 1,000 tickets (list prices; transitions, requests and mails only)` : ''}`,
);
out(
  `  benchmark 5 (whole lifecycle): ${t.finishedTickets}/${t.tickets} tickets completed, ${t.perWallSecond.toFixed(2)} tickets/s of wall time`,
);
if (fraction < 1)
  out(
    `  EXTRAPOLATED, not measured: the full ${fullVolume}/day would take about ${(result.wall.runMs / 1000 / fraction / 60).toFixed(0)} min of simulation on this machine, if time grew linearly with volume`,
  );
if (result.dispatch) out(`  suggested dispatch: ${dispatchSummary(result.dispatch)}`);
if (result.bulletin) out(`  bulletin: ${result.bulletin.note}`);
out(
  `  report: ${paths.html}\n          ${paths.json}${paths.bulletin ? `\n          ${paths.bulletin}` : ''}`,
);
if (result.requests) {
  // Only the simulator calls these functions (GET /tickets/{id}, /metrics, /callbacks).
  const simulatorReads = new Set(['get-ticket', 'metrics', 'callbacks']);
  const groupOf = (origin: string) =>
    origin.startsWith('local:')
      ? 'local only (stream runner, stack)'
      : simulatorReads.has(origin)
        ? "the simulator's own reads"
        : origin === 'resume-stalled'
          ? 'resume-stalled (a schedule: per virtual day, not per ticket)'
          : undefined;
  out(`  AWS SDK requests during the simulation (${t.tickets} tickets):`);
  out(summarizeCounts(result.requests.run, t.tickets, groupOf));
  out(formatCounts(result.requests.run, t.tickets));
  out('  … and while collecting the results:');
  out(formatCounts(result.requests.collect, t.tickets));
}
if (result.errors.length) out(`  first errors: ${result.errors.slice(0, 5).join(' | ')}`);
process.exitCode =
  result.mismatches.length === 0 && result.errors.length === 0 && discrepancies.length === 0
    ? 0
    : 1;

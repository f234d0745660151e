/**
 * The benchmarks of issues 6 and 12 (not tests: they print figures and never fail on speed).
 * Each prints its tables and writes bench/results/<name>.json; a full run ends with issue 12's
 * table, goal against measured. Everything runs on this machine (127.0.0.1): DynamoDB Local, the
 * local Step Functions engine and SES, on a virtual clock.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type BenchResult, cli, formatTable, printResult, type Table } from './lib/common.ts';

const USAGE = `npm run bench -- [options]

  (no option)            every benchmark below but simulate, each in a fresh process, then
                         issue 12's table (goal / before / measured)
  --only NAME            one of: cost, intake, waiting, scaling, functions, dispatch, analytics,
                         simulate
  --tickets N            table sizes of scaling (the largest; default 100000)
  --runs N               module-init runs per bundle in functions (default 7)
  --count N              webhooks per measurement in intake (default 1000)
  --concurrency N        requests in flight in intake (default 16)
  --simulate             also time the simulator's prefecture (Liaocheng) day; takes minutes
  --preset NAME          the simulator preset of simulate: prefecture (default) or beijing (the
                         full 60,000 calls; much longer)
  --volume N             calls per day of simulate instead of the preset's (a shorter run)
  --summary              print issue 12's table from bench/results/*.json, run nothing
  --help                 this text

Other scripts: npm run bench:intake, bench:webhooks, bench:load, dispatch:eval, privacy:eval
(each takes --help).`;

// Handlers log every step in JSON (Powertools); a benchmark prints figures, not logs.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const BENCHMARKS = {
  cost: () => import('./cost.ts'),
  intake: () => import('./intake.ts'),
  waiting: () => import('./waiting.ts'),
  scaling: () => import('./scaling.ts'),
  functions: () => import('./functions.ts'),
  dispatch: () => import('./dispatch.ts'),
  analytics: () => import('./analytics.ts'),
  simulate: () => import('./simulate.ts'),
} as const;
type Name = keyof typeof BENCHMARKS;
/** Opt-in: a simulated day takes minutes. */
const OPT_IN: readonly Name[] = ['simulate'];

const values = cli(USAGE, {
  only: { type: 'string' },
  tickets: { type: 'string' },
  runs: { type: 'string' },
  count: { type: 'string' },
  concurrency: { type: 'string' },
  simulate: { type: 'boolean' },
  preset: { type: 'string' },
  volume: { type: 'string' },
  summary: { type: 'boolean' },
});

const results = fileURLToPath(new URL('./results/', import.meta.url));

async function runOne(name: Name): Promise<void> {
  const started = Date.now();
  const module = await BENCHMARKS[name]();
  const number = (v: string | undefined) => (v ? Number(v) : undefined);
  const result: BenchResult = await module.run({
    ...(values.tickets ? { tickets: number(values.tickets) } : {}),
    ...(values.runs ? { runs: number(values.runs) } : {}),
    ...(values.count ? { count: number(values.count) } : {}),
    ...(values.concurrency ? { concurrency: number(values.concurrency) } : {}),
    ...(values.preset ? { preset: values.preset } : {}),
    ...(values.volume ? { volume: number(values.volume) } : {}),
  });
  const seconds = (Date.now() - started) / 1000;
  const info = printResult(result, seconds);
  mkdirSync(results, { recursive: true });
  const file = `${results}${result.name}.json`;
  writeFileSync(file, `${JSON.stringify({ ...result, machine: info, seconds }, null, 2)}\n`);
  console.log(`  → ${file}`);
}

if (values.summary) {
  console.log(formatTable(issue12(0)));
  process.exit(0);
} else if (values.only) {
  if (!(values.only in BENCHMARKS)) {
    console.error(
      `unknown benchmark "${values.only}"; one of: ${Object.keys(BENCHMARKS).join(', ')}`,
    );
    process.exit(2);
  }
  await runOne(values.only as Name);
  // Handler modules keep SDK clients with open sockets; a benchmark is done when it has printed.
  process.exit(0);
} else {
  // One fresh process per benchmark: handler modules keep per-container state (clients, config).
  const started = Date.now();
  let failed = 0;
  for (const name of Object.keys(BENCHMARKS) as Name[]) {
    if (OPT_IN.includes(name) && !values.simulate) continue;
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--only', name, ...passThrough()],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) {
      failed++;
      console.error(`benchmark ${name} did not finish (exit ${child.status ?? child.signal})`);
    }
  }
  console.log(formatTable(issue12(started)));
  process.exit(failed ? 1 : 0);
}

function passThrough(): string[] {
  const args: string[] = [];
  for (const key of ['tickets', 'runs', 'count', 'concurrency', 'preset', 'volume'] as const) {
    const value = values[key];
    if (value) args.push(`--${key}`, value);
  }
  return args;
}

/**
 * Issue 12's table from the results files: a figure from a file older than `since` (a run before
 * this one) is marked as such; a benchmark not run shows a dash.
 */
function issue12(since: number): Table {
  // biome-ignore lint/suspicious/noExplicitAny: reads the JSON the benchmarks wrote
  const read = (name: string): { data: any; stale: boolean } | undefined => {
    const file = `${results}${name}.json`;
    if (!existsSync(file)) return undefined;
    return {
      data: (JSON.parse(readFileSync(file, 'utf8')) as { data: unknown }).data,
      stale: statSync(file).mtimeMs < since,
    };
  };
  const cost = read('cost');
  const intake = read('intake');
  const functions = read('functions');
  const waiting = read('waiting');
  const liaocheng = read('simulate-prefecture');
  const beijing = read('simulate-beijing');
  const fmt = (n: unknown, digits = 1) =>
    typeof n === 'number' && Number.isFinite(n)
      ? String(Math.round(n * 10 ** digits) / 10 ** digits)
      : '—';
  const mark = (r: { stale: boolean } | undefined, text: string) =>
    r?.stale ? `${text} (earlier run)` : text;
  const c = cost?.data.summary;
  const i = intake?.data.summary;
  const f = functions?.data.summary;
  const simulated = (r: typeof liaocheng) =>
    r
      ? mark(
          r,
          `${fmt(r.data.summary.seconds, 0)} s (${fmt(r.data.summary.cpuSeconds, 0)} CPU-s)${r.data.summary.checked ? '' : ', checks FAILED'}`,
        )
      : 'not run (--simulate)';
  const rows: (string | null)[][] = [
    [
      'DynamoDB write units, happy-path ticket (calls, transactions)',
      '93 (32 calls, 9 transactions)',
      c
        ? mark(
            cost,
            `${fmt(c.happyWru)} (${fmt(c.happyCalls)} calls, ${fmt(c.happyTransactions)} transactions)`,
          )
        : '—',
      '≤ 15',
    ],
    [
      'Sequential DynamoDB round trips before a phone webhook answers',
      '10',
      i ? mark(intake, fmt(i.webhookSequentialRoundTrips, 0)) : '—',
      '≤ 3',
    ],
    [
      'Transactions per intake (phone webhook / POST /tickets)',
      '4',
      i ? mark(intake, `${fmt(i.webhookTransactions, 0)} / ${fmt(i.apiTransactions, 0)}`) : '—',
      '≤ 1',
    ],
    [
      'Step Functions transitions, happy path / late ticket with reminders',
      '15 / 33',
      `${c ? mark(cost, fmt(c.happyTransitions)) : '—'} / ${
        waiting
          ? mark(
              waiting,
              fmt(
                Math.max(
                  ...(waiting.data.lifecycle as { transitions: number }[]).map(
                    (l) => l.transitions,
                  ),
                ),
              ),
            )
          : '—'
      }`,
      '≤ 10 / ≤ 22',
    ],
    [
      'Intake ÷ raw single-put throughput (in-process workflow / intake alone / replay ceiling)',
      '2.2–3.2%',
      i
        ? mark(
            intake,
            `${fmt(i.withWorkflowPercent)}% / ${fmt(i.withoutWorkflowPercent)}% / ${fmt(i.replayPercent)}%`,
          )
        : '—',
      '≥ 25%',
    ],
    [
      'Lambda bundles: largest, over 400 KiB, .map files',
      '24 of 29 over 1 MB (1,034–1,159 KiB); maps of 3.8–4.8 MB',
      f
        ? mark(
            functions,
            `${fmt(f.largestKiB, 0)} KiB; ${f.over400KiB} of ${f.functions} over 400 KiB${typeof f.over400KiBWithoutSdk === 'number' ? ` (${f.over400KiBWithoutSdk} without the SDK)` : ''}; ${f.maps} maps`,
          )
        : '—',
      'every bundle ≤ 400 KiB, no maps',
    ],
    [
      'Liaocheng day (≈5,000 calls) in npm run simulate',
      '204–291 s (360–387 CPU-s)',
      simulated(liaocheng),
      '≤ 90 s',
    ],
    [
      'Beijing day (60,000 calls)',
      'not run; ~32 min estimated',
      beijing ? simulated(beijing) : 'not run (--only simulate --preset beijing)',
      'run in full, ≤ 15 min',
    ],
    [
      'AWS cost per 1,000 tickets, happy / mixed (Lambda time measured)',
      '$0.55 / $0.73',
      c ? mark(cost, `$${fmt(c.happyUsdPer1000, 2)} / $${fmt(c.mixedUsdPer1000, 2)}`) : '—',
      '≤ $0.35 mixed',
    ],
  ];
  return {
    title: 'Issue 12: goal / measured',
    columns: ['what', 'before (2026-11)', 'measured', 'goal'],
    rows,
    notes: [
      'From bench/results/*.json (cost, intake, waiting, functions, simulate-*); "before" is the figure issue 12 was filed with.',
      'Transitions: the cost bench’s happy path / the waiting bench’s late ticket (signed, then 催办, 督办 and 通报 fall due, then the reply; no callback).',
    ],
  };
}

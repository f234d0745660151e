/**
 * The benchmarks of issue 6 (not tests: they print figures and never fail on speed).
 *
 *   npm run bench                       every benchmark, each in a fresh process
 *   npm run bench -- --only waiting     one of: cost, waiting, scaling, functions, dispatch, analytics
 *   npm run bench -- --only scaling --tickets 20000
 *
 * Each prints its tables and writes bench/results/<name>.json. Everything runs on this machine
 * (127.0.0.1): DynamoDB Local, the local Step Functions engine and SES, on a virtual clock.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchResult, formatTable, machine } from './lib/common.ts';

// Handlers log every step in JSON (Powertools); a benchmark prints figures, not logs.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const BENCHMARKS = {
  cost: () => import('./cost.ts'),
  waiting: () => import('./waiting.ts'),
  scaling: () => import('./scaling.ts'),
  functions: () => import('./functions.ts'),
  dispatch: () => import('./dispatch.ts'),
  analytics: () => import('./analytics.ts'),
} as const;
type Name = keyof typeof BENCHMARKS;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    tickets: { type: 'string' },
    runs: { type: 'string' },
  },
});

const results = fileURLToPath(new URL('./results/', import.meta.url));

async function runOne(name: Name): Promise<void> {
  const started = Date.now();
  const module = await BENCHMARKS[name]();
  const result: BenchResult = await module.run({
    ...(values.tickets ? { tickets: Number(values.tickets) } : {}),
    ...(values.runs ? { runs: Number(values.runs) } : {}),
  });
  const seconds = (Date.now() - started) / 1000;
  const info = machine();
  console.log(`\n═══ ${result.title} ═══`);
  for (const table of result.tables) console.log(formatTable(table));
  console.log(
    `\n  ${info.date} · ${info.cpu} × ${info.cpus} · ${info.memoryGiB} GiB · load ${info.loadAverage.join(' ')} · node ${info.node} · ${seconds.toFixed(1)} s`,
  );
  mkdirSync(results, { recursive: true });
  const file = `${results}${name}.json`;
  writeFileSync(file, `${JSON.stringify({ ...result, machine: info, seconds }, null, 2)}\n`);
  console.log(`  → ${file}`);
}

if (values.only) {
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
  let failed = 0;
  for (const name of Object.keys(BENCHMARKS) as Name[]) {
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
  process.exit(failed ? 1 : 0);
}

function passThrough(): string[] {
  const args: string[] = [];
  if (values.tickets) args.push('--tickets', values.tickets);
  if (values.runs) args.push('--runs', values.runs);
  return args;
}

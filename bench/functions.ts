/**
 * Functions: each Lambda of functions/registry.ts bundled as infra/stack.ts bundles it (esbuild,
 * ESM, node24, minified, the createRequire banner), its size, and its cold module initialisation
 * time: the bundle imported in a fresh `node` process, several times, median reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { FUNCTIONS, type FunctionKey } from '#functions/registry';
import { type BenchResult, median, round } from './lib/common.ts';

/** As infra/stack.ts's NodejsFunction bundling (the source map goes beside the bundle). */
const BANNER = "import{createRequire}from'module';const require=createRequire(import.meta.url);";

/** Measures one import in a fresh process; the environment is the deployed one, with dummy values. */
const PROBE = `const t0 = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - t0));`;

const DUMMY_ENV = {
  AWS_REGION: 'cn-north-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  // Nothing is contacted at import; should anything try, it finds nobody on port 9 here.
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  TABLE_NAME: 'hotline-12345',
  MAIL_FROM: 'no-reply@12345.example.gov.cn',
  CENTRE_MAIL: 'dispatch@12345.example.gov.cn',
  PUBLIC_BASE_URL: 'https://12345.example.gov.cn',
  POWERTOOLS_SERVICE_NAME: 'hotline-12345',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
  LIFECYCLE_STATE_MACHINE_ARN:
    'arn:aws:states:cn-north-1:000000000000:stateMachine:TicketLifecycle',
  BULLETIN_BUCKET: 'bulletins',
  BULLETIN_REVIEWERS: 'review@12345.example.gov.cn',
  BULLETIN_SUBSCRIBERS: 'subscribers@example.gov.cn',
  PHONE_TENANT: 'local',
  PHONE_CONFIG_SECRET_ARN: 'arn:aws:secretsmanager:cn-north-1:000000000000:secret:phone',
};

export async function run(options: { runs?: number } = {}): Promise<BenchResult> {
  const runs = Math.min(Math.max(options.runs ?? 7, 1), 25);
  const out = mkdtempSync(join(tmpdir(), 'hotline-bundles-'));
  const rows: {
    key: FunctionKey;
    bytes: number;
    gzipBytes: number;
    initMedianMs: number | null;
    initMinMs: number | null;
    error?: string;
  }[] = [];
  try {
    for (const [key, spec] of Object.entries(FUNCTIONS) as [FunctionKey, { entry: string }][]) {
      const outfile = join(out, key, 'index.mjs');
      await build({
        entryPoints: [spec.entry],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        minify: true,
        sourcemap: true,
        mainFields: ['module', 'main'],
        external: [],
        banner: { js: BANNER },
        logLevel: 'error',
      });
      const code = readFileSync(outfile);
      const times: number[] = [];
      let error: string | undefined;
      for (let i = 0; i < runs && !error; i++) {
        const child = spawnSync(
          process.execPath,
          ['--input-type=module', '-e', PROBE, pathToFileURL(outfile).href],
          {
            env: { ...DUMMY_ENV, PATH: process.env.PATH ?? '' },
            encoding: 'utf8',
            timeout: 30_000,
          },
        );
        if (child.status !== 0)
          error = (child.stderr || String(child.signal)).split('\n').find(Boolean);
        else times.push(Number(child.stdout));
      }
      rows.push({
        key,
        bytes: code.length,
        gzipBytes: gzipSync(code).length,
        initMedianMs: times.length ? median(times) : null,
        initMinMs: times.length ? Math.min(...times) : null,
        ...(error ? { error } : {}),
      });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const kib = (n: number) => round(n / 1024, 1);
  return {
    name: 'functions',
    title: 'Lambda bundles and cold module initialisation',
    tables: [
      {
        title: `Bundle size and module init time (median of ${runs} fresh node processes, ${process.version})`,
        columns: ['function', 'KiB', 'gzip KiB', 'init median ms', 'init min ms'],
        rows: rows.map((r) => [
          r.error ? `${r.key} (failed: ${r.error.slice(0, 60)})` : r.key,
          kib(r.bytes),
          kib(r.gzipBytes),
          r.initMedianMs === null ? null : round(r.initMedianMs, 1),
          r.initMinMs === null ? null : round(r.initMinMs, 1),
        ]),
        notes: [
          'esbuild with infra/stack.ts’s options: ESM, node24, minify, mainFields module/main, no externals (the SDK is bundled), the createRequire banner; the source map is written beside the bundle and not counted.',
          'Init = `await import(bundle)` in a fresh process (what Lambda’s init phase runs for the module, without the runtime’s own start-up), on this machine’s x86-64, not Lambda’s arm64.',
        ],
      },
    ],
    data: { runs, functions: rows },
  };
}

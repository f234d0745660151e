/**
 * Functions: each Lambda of functions/registry.ts bundled as infra/stack.ts bundles it (esbuild,
 * ESM, node24, minified, the createRequire banner), its size, and its cold module initialisation
 * time: the bundle imported in a fresh `node` process, several times, median reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { FUNCTIONS, type FunctionKey, type FunctionSpec } from '#functions/registry';
import { externalModules, LAMBDA_BUNDLING } from '../infra/bundling.ts';
import { type BenchResult, median, round } from './lib/common.ts';

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

/** Issue 12's goal for a bundle. */
const LIMIT = 400 * 1024;

/** What takes the room in a bundle: output bytes by npm package (or project folder, or data file). */
function largestInputs(metafile: Metafile): string {
  const parts = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
      const part = pkg ?? (path.startsWith('data/') ? path : path.split('/')[0]!);
      parts.set(part, (parts.get(part) ?? 0) + input.bytesInOutput);
    }
  }
  return [...parts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([part, bytes]) => `${part} ${Math.round(bytes / 1024)}`)
    .join(', ');
}

/** Bytes of the AWS SDK v3 in a bundle: what the runtime's own copy would replace if external. */
function sdkBytes(metafile: Metafile): number {
  let bytes = 0;
  for (const output of Object.values(metafile.outputs))
    for (const [path, input] of Object.entries(output.inputs))
      if (/node_modules\/@(aws-sdk|smithy|aws)\//.test(path)) bytes += input.bytesInOutput;
  return bytes;
}

export async function run(options: { runs?: number } = {}): Promise<BenchResult> {
  const runs = Math.min(Math.max(options.runs ?? 7, 1), 25);
  // Inside the project, so that a bundle's external native modules (jieba, DuckDB) resolve as
  // they do beside the deployed bundle.
  const cache = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url));
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'hotline-bundles-'));
  const rows: {
    key: FunctionKey;
    bytes: number;
    gzipBytes: number;
    /** What the AWS SDK (@aws-sdk, @smithy, @aws) takes of the bundle. */
    sdkBytes: number;
    initMedianMs: number | null;
    initMinMs: number | null;
    /** The three largest contributors (npm package, or the project's folder), KiB in the bundle. */
    largest: string;
    error?: string;
  }[] = [];
  let maps = 0;
  try {
    for (const [key, spec] of Object.entries(FUNCTIONS) as [FunctionKey, FunctionSpec][]) {
      const outfile = join(out, key, 'index.mjs');
      const { metafile } = await build({
        entryPoints: [spec.entry],
        outfile,
        bundle: true,
        platform: 'node',
        format: LAMBDA_BUNDLING.format,
        target: LAMBDA_BUNDLING.target,
        minify: LAMBDA_BUNDLING.minify,
        sourcemap: LAMBDA_BUNDLING.sourceMap,
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        external: externalModules(spec),
        banner: { js: LAMBDA_BUNDLING.banner },
        metafile: true,
        logLevel: 'error',
      });
      maps += readdirSync(join(out, key)).filter((f) => f.endsWith('.map')).length;
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
        largest: largestInputs(metafile),
        sdkBytes: sdkBytes(metafile),
        initMedianMs: times.length ? median(times) : null,
        initMinMs: times.length ? Math.min(...times) : null,
        ...(error ? { error } : {}),
      });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const kib = (n: number) => round(n / 1024, 1);
  const sizes = rows.map((r) => r.bytes);
  const summary = {
    functions: rows.length,
    largestKiB: kib(Math.max(...sizes)),
    smallestKiB: kib(Math.min(...sizes)),
    over400KiB: sizes.filter((b) => b > LIMIT).length,
    over1MiB: sizes.filter((b) => b > 1024 * 1024).length,
    over400KiBWithoutSdk: rows.filter((r) => r.bytes - r.sdkBytes > LIMIT).length,
    maps,
  };
  return {
    name: 'functions',
    title: 'Lambda bundles and cold module initialisation',
    tables: [
      {
        title: `Bundle size and module init time (median of ${runs} fresh node processes, ${process.version})`,
        columns: [
          'function',
          'KiB',
          'gzip KiB',
          'init median ms',
          'init min ms',
          'SDK KiB',
          'largest parts (KiB)',
        ],
        rows: rows.map((r) => [
          r.error ? `${r.key} (failed: ${r.error.slice(0, 60)})` : r.key,
          kib(r.bytes),
          kib(r.gzipBytes),
          r.initMedianMs === null ? null : round(r.initMedianMs, 1),
          r.initMinMs === null ? null : round(r.initMinMs, 1),
          kib(r.sdkBytes),
          r.largest,
        ]),
        notes: [
          'esbuild with infra/bundling.ts’s options, as the CDK app bundles: ESM, node24, minify, no source map, only the native modules external (the SDK is bundled).',
          'Init = `await import(bundle)` in a fresh process (what Lambda’s init phase runs for the module, without the runtime’s own start-up), on this machine’s x86-64, not Lambda’s arm64.',
          'SDK KiB: the AWS SDK v3 (@aws-sdk, @smithy, @aws) in the bundle, which marking it external (the Node 24 runtime ships one) would take out, at the price of the runtime’s SDK version instead of the pinned one.',
        ],
      },
      {
        title: 'Bundles against issue 12’s goal (every bundle ≤ 400 KiB, no maps shipped)',
        columns: [
          'functions',
          'largest KiB',
          'smallest KiB',
          'over 400 KiB',
          'over 1 MiB',
          'over 400 KiB without the SDK',
          '.map files',
        ],
        rows: [
          [
            summary.functions,
            summary.largestKiB,
            summary.smallestKiB,
            summary.over400KiB,
            summary.over1MiB,
            summary.over400KiBWithoutSdk,
            summary.maps,
          ],
        ],
      },
    ],
    data: { runs, functions: rows, summary },
  };
}

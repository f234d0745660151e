import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { readSeedModel, SEED_MODEL_FILE } from '#adapters/seed-dispatch-model';
import { FUNCTIONS, type FunctionSpec } from '#functions/registry';
import { dataBesideBundle, externalModules, LAMBDA_BUNDLING } from '../../infra/bundling.ts';

/** npm packages stay outside: what a bundle reaches of the project, and which packages it names. */
const packagesOutside: Plugin = {
  name: 'packages-outside',
  setup(b) {
    b.onResolve({ filter: /^[^.#/]/ }, (args) => ({ path: args.path, external: true }));
  },
};

async function reached(spec: FunctionSpec): Promise<{ files: string[]; packages: string[] }> {
  const { metafile } = await build({
    entryPoints: [spec.entry],
    bundle: true,
    write: false,
    outdir: 'out',
    platform: 'node',
    format: LAMBDA_BUNDLING.format,
    target: LAMBDA_BUNDLING.target,
    plugins: [packagesOutside],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.values(metafile.inputs);
  return {
    files: Object.keys(metafile.inputs),
    packages: [...new Set(inputs.flatMap((i) => i.imports.filter((m) => m.external)))].map(
      (m) => m.path,
    ),
  };
}

// Issue 12: the Connect client (200 KiB) reached every function through functions/lib/deps.ts;
// only the functions that call it may carry it. The dispatch seed model (2 MB) was in the JS of
// every function that classifies; it is a file beside those bundles now, in none of them.
describe('what each Lambda bundles', () => {
  const entries = Object.entries(FUNCTIONS) as [string, FunctionSpec][];
  it.each(entries)(
    '%s bundles the phone system only if it declares it, and never the dispatch seed model',
    async (_key, spec) => {
      const { files, packages } = await reached(spec);
      expect(packages.includes('@aws-sdk/client-connect')).toBe(Boolean(spec.phone));
      expect(files.filter((f) => f.startsWith('data/dispatch/seed-model'))).toEqual([]);
      expect(dataBesideBundle(spec, 'in', 'out').length > 0).toBe(Boolean(spec.dispatchModel));
    },
    60_000,
  );

  // The code that reads the seed model, bundled as a Lambda is, in a folder outside the checkout
  // with what the bundling commands put beside it: it finds the same model as from source.
  it('finds the dispatch seed model beside a bundle', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const out = mkdtempSync(join(tmpdir(), 'hotline-seed-'));
    try {
      await build({
        stdin: {
          contents: `import { readSeedModel } from '#adapters/seed-dispatch-model';
            process.stdout.write((await readSeedModel()).version);`,
          resolveDir: root,
          loader: 'ts',
        },
        outfile: join(out, 'index.mjs'),
        bundle: true,
        platform: 'node',
        format: LAMBDA_BUNDLING.format,
        target: LAMBDA_BUNDLING.target,
        minify: LAMBDA_BUNDLING.minify,
        logLevel: 'silent',
      });
      const version = () =>
        execFileSync(process.execPath, [join(out, 'index.mjs')], { stdio: 'pipe' }).toString();
      expect(version).toThrow(SEED_MODEL_FILE);
      for (const command of dataBesideBundle(FUNCTIONS['classify-ticket'], root, out))
        execSync(command);
      expect(version()).toBe((await readSeedModel()).version);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('writes no source map beside a bundle', async () => {
    const result = await build({
      entryPoints: [FUNCTIONS.flags.entry],
      bundle: true,
      write: false,
      outdir: 'out',
      platform: 'node',
      format: LAMBDA_BUNDLING.format,
      sourcemap: LAMBDA_BUNDLING.sourceMap,
      plugins: [packagesOutside],
      logLevel: 'silent',
    });
    expect(result.outputFiles.map((f) => f.path.split('/').pop())).toEqual(['flags.js']);
    expect(result.outputFiles[0]!.text).not.toContain('sourceMappingURL');
  });

  // tsx resolves '@node-rs/jieba/dict' locally; beside a deployed bundle Node's ESM loader needs
  // the file's own name ('dict.js'), and the analytics functions failed to start.
  it('imports the modules left out of a bundle by names Node resolves', async () => {
    const specifiers = new Set<string>();
    for (const spec of Object.values(FUNCTIONS) as FunctionSpec[]) {
      const external = externalModules(spec);
      if (external.length === 0) continue;
      const { packages } = await reached(spec);
      for (const p of packages)
        if (external.some((m) => p === m || p.startsWith(`${m}/`))) specifiers.add(p);
    }
    expect(specifiers.size).toBeGreaterThan(0);
    const unresolved = [...specifiers].filter((specifier) => {
      try {
        execFileSync(
          process.execPath,
          ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`],
          { stdio: 'pipe' },
        );
        return false;
      } catch {
        return true;
      }
    });
    expect(unresolved).toEqual([]);
  }, 120_000);
});

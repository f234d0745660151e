import { SEED_MODEL_FILE } from '../adapters/seed-dispatch-model.ts';
import type { FunctionSpec } from '../functions/registry.ts';

/**
 * How every Lambda is bundled (esbuild through NodejsFunction), in one place for the CDK app and
 * for the bundle benchmark (bench/functions.ts), so that what is measured is what ships.
 *
 * No source maps: a map is several times the bundle, Lambda would load it at each cold start
 * (`--enable-source-maps`), and the stack traces it buys are only needed locally, where the
 * handlers run from source under tsx with real line numbers.
 */
export const LAMBDA_BUNDLING = {
  format: 'esm',
  target: 'node24',
  minify: true,
  sourceMap: false,
  mainFields: ['module', 'main'],
  banner: "import{createRequire}from'module';const require=createRequire(import.meta.url);",
} as const;

/**
 * The bulletin's privacy guard and the dispatch model segment Chinese with jieba, a native addon
 * that esbuild cannot bundle (a .node binary, and a dictionary read from its own folder): it ships
 * beside the bundle (infra/stack.ts installs it).
 */
export const JIEBA = '@node-rs/jieba';

/** Functions whose code reaches jieba: the privacy guard, the dispatch model, analytics. */
export const usesJieba = (spec: FunctionSpec) =>
  Boolean(spec.bulletin || spec.dispatchModel || spec.retrain || spec.analytics);

/**
 * Modules left out of the bundle. The runtime ships the AWS SDK v3, but pinning our own keeps
 * local and cloud identical, so only the native modules are external.
 */
export function externalModules(spec: FunctionSpec): string[] {
  return [...(usesJieba(spec) ? [JIEBA] : []), ...(spec.analytics ? ['@duckdb/node-api'] : [])];
}

/**
 * Files a bundle carries beside its code, at the same path as in the checkout, so that the code
 * finds them the same way from source and in Lambda: the dispatch seed model, which was 2 MB of
 * each classifying function's JS (issue 12). Shell commands for NodejsFunction's afterBundling.
 */
export function dataBesideBundle(spec: FunctionSpec, input: string, output: string): string[] {
  if (!spec.dispatchModel) return [];
  const folder = SEED_MODEL_FILE.slice(0, SEED_MODEL_FILE.lastIndexOf('/'));
  return [
    `mkdir -p "${output}/${folder}" && cp "${input}/${SEED_MODEL_FILE}" "${output}/${folder}/"`,
  ];
}

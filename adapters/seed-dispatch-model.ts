import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DispatchModel } from '#core/dispatch-model/model';

/**
 * The model built from the seed corpus alone (npm run dispatch:train): a fresh deployment
 * classifies with it until a retraining run promotes a model to S3. At 2 MB it is the largest
 * thing a function needs, so it is a file beside the code, not a module in the bundle (issue 12):
 * infra/bundling.ts copies it to the same relative path in the bundle's folder.
 */
export const SEED_MODEL_FILE = 'data/dispatch/seed-model.json';

/**
 * The nearest SEED_MODEL_FILE at or above this module: the checkout's when running from source
 * (npm start, the simulator, the tests), the bundle's own folder in Lambda (/var/task).
 */
function locate(): string {
  const from = dirname(fileURLToPath(import.meta.url));
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, SEED_MODEL_FILE);
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) throw new Error(`no ${SEED_MODEL_FILE} at or above ${from}`);
  }
}

const read = async () => JSON.parse(await readFile(locate(), 'utf8')) as DispatchModel;

let loaded: Promise<DispatchModel> | undefined;

/** Read when first asked for (most invocations never need it) and kept for the container. */
export function readSeedModel(): Promise<DispatchModel> {
  loaded ??= read().catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parquetOf } from '#adapters/analytics/duckdb';
import { type AnalyticsRow, batchKey, byPartition } from '#core/analytics/schema';

export const TEST_SALT = 'test-salt-not-secret';

/** Writes rows as the sink lays them out (one file per partition and batch) under `dir`. */
export async function writeDataset(
  dir: string,
  rows: readonly AnalyticsRow[],
  batch = '1',
): Promise<void> {
  for (const [dt, group] of byPartition(rows)) {
    const file = join(dir, batchKey(dt, batch, batch));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, await parquetOf(group));
  }
}

export const datasetGlob = (dir: string) => join(dir, 'tickets', 'dt=*', '*.parquet');

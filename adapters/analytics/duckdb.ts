import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import {
  ANALYTICS_COLUMNS,
  type AnalyticsRow,
  batchKey,
  byPartition,
} from '#core/analytics/schema';
import {
  type AnalyticsQueries,
  bindNamed,
  type QueryName,
  type QueryParams,
  type Row,
} from '#core/analytics/sql';
import { querySql } from './sql-files.ts';

const DUCK_TYPES = { string: 'VARCHAR', int: 'INTEGER', boolean: 'BOOLEAN' } as const;

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function connect(): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  return instance.connect();
}

/** The Parquet writer's in-memory database, one per container: creating one per batch costs more than the batch. */
let writer: Promise<DuckDBInstance> | undefined;

function plain(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string')
    return value;
  return String(value);
}

/**
 * The embedded engine: DuckDB over the data set's Parquet files on disk (locally, the folder the
 * local S3 keeps its objects in). `files` is a glob up to the partition folders, such as
 * `<dir>/tickets/dt=*\/*.parquet`; DuckDB reads `dt` from the path and skips the partitions a
 * query's `dt` range excludes.
 */
export class DuckDbAnalytics implements AnalyticsQueries {
  private connection: Promise<DuckDBConnection> | undefined;

  constructor(private readonly files: string) {}

  private async ready(): Promise<DuckDBConnection> {
    this.connection ??= connect();
    return this.connection;
  }

  /** The view `tickets` over whatever files exist now (a new batch adds files). */
  private async view(c: DuckDBConnection): Promise<void> {
    const found = await c.runAndReadAll(`SELECT count(*) AS n FROM glob(${quote(this.files)})`);
    const n = Number(found.getRowObjectsJS()[0]?.n ?? 0);
    if (n === 0) {
      const cols = ANALYTICS_COLUMNS.map((col) => `NULL::${DUCK_TYPES[col.type]} AS ${col.name}`);
      await c.run(
        `CREATE OR REPLACE VIEW tickets AS SELECT ${cols.join(', ')}, NULL::VARCHAR AS dt WHERE false`,
      );
      return;
    }
    await c.run(
      `CREATE OR REPLACE VIEW tickets AS SELECT * FROM read_parquet(${quote(this.files)}, hive_partitioning = true, hive_types = {'dt': VARCHAR}, union_by_name = true)`,
    );
  }

  async run(name: QueryName, params: QueryParams): Promise<Row[]> {
    const c = await this.ready();
    await this.view(c);
    const { sql, values } = bindNamed(await querySql(name), params);
    const result = await c.runAndReadAll(sql, values as DuckDBValue[]);
    return result.getRowObjectsJS().map((r) => {
      const row: Row = {};
      for (const [k, v] of Object.entries(r)) row[k] = plain(v);
      return row;
    });
  }

  /** For the bench: what DuckDB says a query reads (EXPLAIN ANALYZE's profile). */
  async profile(name: QueryName, params: QueryParams): Promise<string> {
    const c = await this.ready();
    await this.view(c);
    const { sql, values } = bindNamed(await querySql(name), params);
    const result = await c.runAndReadAll(`EXPLAIN ANALYZE ${sql}`, values as DuckDBValue[]);
    return result
      .getRows()
      .map((r) => r.map(String).join('\n'))
      .join('\n');
  }
}

/**
 * Rows to one Parquet file, by DuckDB's own writer: the rows go in as JSON lines read with the
 * schema's exact column types, so a column that is null in every row keeps its type.
 */
export async function parquetOf(rows: readonly AnalyticsRow[]): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'analytics-'));
  try {
    const input = join(dir, 'rows.json');
    const output = join(dir, 'rows.parquet');
    await writeFile(input, rows.map((r) => JSON.stringify(r)).join('\n'));
    const columns = ANALYTICS_COLUMNS.map((c) => `${c.name}: '${DUCK_TYPES[c.type]}'`).join(', ');
    writer ??= DuckDBInstance.create(':memory:', { threads: '2' });
    const c = await (await writer).connect();
    try {
      await c.run(
        `COPY (SELECT * FROM read_json(${quote(input)}, format = 'newline_delimited', columns = {${columns}})) TO ${quote(output)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    } finally {
      c.closeSync();
    }
    return await readFile(output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The data set laid out as the sink lays it out in S3 (one file per partition and batch), on disk. */
export async function writeLocalDataset(
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

/** The glob DuckDbAnalytics reads for a data set written by writeLocalDataset. */
export const localDatasetGlob = (dir: string) => join(dir, 'tickets', 'dt=*', '*.parquet');

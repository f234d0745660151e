import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  type AnalyticsQueries,
  bindNamed,
  type QueryName,
  type QueryParams,
  type Row,
  type SqlValue,
} from '#core/analytics/sql';
import { querySql } from './sql-files.ts';

/** Athena's execution parameters are SQL literals: strings quoted, numbers and booleans bare. */
function literal(value: SqlValue): string {
  return typeof value === 'string' ? `'${value.replaceAll("'", "''")}'` : String(value);
}

function typed(
  value: string | undefined,
  type: string | undefined,
): string | number | boolean | null {
  if (value === undefined) return null;
  if (type === 'boolean') return value === 'true';
  if (type && /^(integer|bigint|double|float|decimal|real|tinyint|smallint)/.test(type))
    return Number(value);
  return value;
}

/**
 * The distributed engine: the same SQL on Athena, over the Glue table `tickets` (partition
 * projection on `dt`, so no crawler and no MSCK REPAIR). The workgroup holds the result bucket
 * and the bytes-scanned limit. A query takes seconds; the wait is inside one invocation.
 */
export class AthenaAnalytics implements AnalyticsQueries {
  constructor(
    private readonly client: AthenaClient,
    private readonly workgroup: string,
    private readonly database: string,
    private readonly pollMs = 500,
  ) {}

  async run(name: QueryName, params: QueryParams): Promise<Row[]> {
    const { sql, values } = bindNamed(await querySql(name), params);
    const started = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.workgroup,
        QueryExecutionContext: { Database: this.database },
        ...(values.length ? { ExecutionParameters: values.map(literal) } : {}),
      }),
    );
    const id = started.QueryExecutionId as string;
    for (;;) {
      const { QueryExecution } = await this.client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
      );
      const state = QueryExecution?.Status?.State;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') {
        throw new Error(
          `Athena query ${name} ${state}: ${QueryExecution?.Status?.StateChangeReason}`,
        );
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
    const rows: Row[] = [];
    let columns: { name: string; type: string | undefined }[] | undefined;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token }),
      );
      columns ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
        name: c.Name as string,
        type: c.Type,
      }));
      const data = page.ResultSet?.Rows ?? [];
      // The first row of the first page repeats the column names.
      for (const [i, r] of data.entries()) {
        if (token === undefined && i === 0) continue;
        const row: Row = {};
        for (const [j, col] of columns.entries())
          row[col.name] = typed(r.Data?.[j]?.VarCharValue, col.type);
        rows.push(row);
      }
      token = page.NextToken;
    } while (token);
    return rows;
  }
}

import type { Counters } from '#core/metrics';
import { METRIC_COUNTERS } from '#core/ticket';
import { documentClient, tableName } from './client.ts';
import { queryAll } from './query.ts';

/** One period's counters for every unit: a Query on one partition (access pattern 12). */
export async function metricsOf(
  period: string,
): Promise<{ unitId: string; counters: Partial<Counters> }[]> {
  const items = await queryAll(documentClient, {
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk',
    ExpressionAttributeValues: { ':pk': `METRICS#${period}` },
  });
  const rows = items.map((item) => ({
    unitId: String(item.unitId),
    counters: Object.fromEntries(
      METRIC_COUNTERS.filter((c) => typeof item[c] === 'number').map((c) => [c, item[c]]),
    ) as Partial<Counters>,
  }));
  return rows;
}

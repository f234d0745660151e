import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Counters } from '#core/metrics';
import { METRIC_COUNTERS } from '#core/ticket';
import { documentClient, tableName } from './client.ts';

/** One period's counters for every unit: a Query on one partition (access pattern 12). */
export async function metricsOf(
  period: string,
): Promise<{ unitId: string; counters: Partial<Counters> }[]> {
  const rows: { unitId: string; counters: Partial<Counters> }[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': `METRICS#${period}` },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const counters = Object.fromEntries(
        METRIC_COUNTERS.filter((c) => typeof item[c] === 'number').map((c) => [c, item[c]]),
      );
      rows.push({ unitId: String(item.unitId), counters });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rows;
}

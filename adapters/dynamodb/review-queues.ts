import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, tableName } from './client.ts';

export interface FlaggedCall {
  ticketId: string;
  topic: string;
  createdAt: string;
}

/** Tickets flagged as a repeat caller without substance in a month, oldest first (pattern 21). */
export async function flaggedCalls(month: string): Promise<FlaggedCall[]> {
  const found: FlaggedCall[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': `FLAGS#${month}` },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      found.push({
        ticketId: String(item.ticketId),
        topic: String(item.topic),
        createdAt: String(item.createdAt),
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found;
}

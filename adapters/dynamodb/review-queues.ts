import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, tableName } from './client.ts';
import { INDEXES } from './keys.ts';

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

export interface QueuedTicket {
  id: string;
  status: string;
  topic: string;
  category: string;
  urgency: string;
  deadlines: Record<string, string>;
}

/** A unit's open tickets by reply deadline, from the sparse unit-queue index (pattern 9). */
export async function openTicketsOf(unitId: string): Promise<QueuedTicket[]> {
  const found: QueuedTicket[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: INDEXES.unitQueue.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEXES.unitQueue.partition, '#status': 'status' },
        ExpressionAttributeValues: { ':pk': `UNIT#${unitId}` },
        // Only what a queue shows: never the caller.
        ProjectionExpression: 'id, #status, topic, category, urgency, deadlines',
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) found.push(item as QueuedTicket);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found;
}

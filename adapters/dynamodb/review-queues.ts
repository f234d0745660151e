import { documentClient, tableName } from './client.ts';
import { CENTRE_QUEUE, INDEXES } from './keys.ts';
import { queryAll } from './query.ts';

export interface FlaggedCall {
  ticketId: string;
  topic: string;
  createdAt: string;
}

/** Tickets flagged as a repeat caller without substance in a month, oldest first (pattern 21). */
export async function flaggedCalls(month: string): Promise<FlaggedCall[]> {
  const items = await queryAll(documentClient, {
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk',
    ExpressionAttributeValues: { ':pk': `FLAGS#${month}` },
  });
  return items.map((item) => ({
    ticketId: String(item.ticketId),
    topic: String(item.topic),
    createdAt: String(item.createdAt),
  }));
}

export interface QueuedTicket {
  id: string;
  status: string;
  topic: string;
  category: string;
  urgency: string;
  leadUnit?: string;
  deadlines: Record<string, string>;
}

/** A unit's open tickets by reply deadline, from the sparse unit-queue index (pattern 9). */
export async function openTicketsOf(unitId: string): Promise<QueuedTicket[]> {
  const items = await queryAll(documentClient, {
    TableName: tableName(),
    IndexName: INDEXES.unitQueue.name,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': INDEXES.unitQueue.partition, '#status': 'status' },
    ExpressionAttributeValues: { ':pk': `UNIT#${unitId}` },
    // Only what a queue shows: never the caller.
    ProjectionExpression: 'id, #status, topic, category, urgency, deadlines',
  });
  return items as unknown as QueuedTicket[];
}

/**
 * The tickets waiting for the hotline centre, soonest time limit first (the overdue ones on top),
 * from the same sparse index under the centre's partition (pattern 9b).
 */
export async function centreQueue(): Promise<QueuedTicket[]> {
  const items = await queryAll(documentClient, {
    TableName: tableName(),
    IndexName: INDEXES.unitQueue.name,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': INDEXES.unitQueue.partition, '#status': 'status' },
    ExpressionAttributeValues: { ':pk': CENTRE_QUEUE },
    ProjectionExpression: 'id, #status, topic, category, urgency, leadUnit, deadlines',
  });
  return items as unknown as QueuedTicket[];
}

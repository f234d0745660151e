import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SYSTEM } from '#core/lifecycle';
import { resumeDelayMs, type StalledTicket, type StallStore } from '#core/stalls';
import type { HistoryEntry, Ticket } from '#core/ticket';
import { INDEXES, keys, STALLED } from './keys.ts';
import { queryAll } from './query.ts';

function toStall(item: Record<string, unknown>): StalledTicket {
  return {
    ticketId: String(item.ticketId),
    stalledAt: String(item.stalledAt),
    failedState: String(item.failedState),
    error: String(item.error),
    resumes: Number(item.resumes ?? 0),
    resumeAt: String(item.resumeAt),
  };
}

/** Pattern 22: the stalled marker of a ticket and the sparse index (GSI4) that lists them. */
export class DynamoStallStore implements StallStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async markStalled(
    stall: Omit<StalledTicket, 'resumes' | 'resumeAt'>,
    ticket: Ticket,
  ): Promise<StalledTicket> {
    // The count of earlier resumptions survives on the marker; a new stall only re-lists it.
    const updated = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.stall(stall.ticketId),
        UpdateExpression:
          'SET ticketId = :id, stalledAt = :at, failedState = :state, #error = :error, ' +
          'resumes = if_not_exists(resumes, :zero), stalls = if_not_exists(stalls, :zero) + :one',
        ExpressionAttributeNames: { '#error': 'error' },
        ExpressionAttributeValues: {
          ':id': stall.ticketId,
          ':at': stall.stalledAt,
          ':state': stall.failedState,
          ':error': stall.error,
          ':zero': 0,
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const resumes = Number(updated.Attributes?.resumes ?? 0);
    const stalls = Number(updated.Attributes?.stalls ?? 1);
    const resumeAt = new Date(Date.parse(stall.stalledAt) + resumeDelayMs(resumes)).toISOString();
    const history: HistoryEntry = {
      version: ticket.version,
      at: stall.stalledAt,
      actor: SYSTEM,
      event: 'stalled',
      from: ticket.status,
      to: ticket.status,
      reason: `workflow step ${stall.failedState} failed (${stall.error}); resumes at ${resumeAt}`,
      details: { failedState: stall.failedState, error: stall.error, resumeAt },
    };
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.table,
              Key: keys.stall(stall.ticketId),
              UpdateExpression: 'SET resumeAt = :resumeAt, #pk = :pk, #sk = :sk',
              ExpressionAttributeNames: {
                '#pk': INDEXES.stalled.partition,
                '#sk': INDEXES.stalled.sort,
              },
              ExpressionAttributeValues: {
                ':resumeAt': resumeAt,
                ':pk': STALLED,
                ':sk': `${resumeAt}#${stall.ticketId}`,
              },
            },
          },
          {
            Put: {
              TableName: this.table,
              Item: { ...keys.stallHistory(stall.ticketId, ticket.version, stalls), ...history },
            },
          },
        ],
      }),
    );
    return { ...stall, resumes, resumeAt };
  }

  async due(atIso: string, limit: number): Promise<StalledTicket[]> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: INDEXES.stalled.name,
        KeyConditionExpression: '#pk = :pk AND #sk <= :until',
        ExpressionAttributeNames: {
          '#pk': INDEXES.stalled.partition,
          '#sk': INDEXES.stalled.sort,
        },
        ExpressionAttributeValues: { ':pk': STALLED, ':until': `${atIso}#~` },
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map(toStall);
  }

  async list(): Promise<StalledTicket[]> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      IndexName: INDEXES.stalled.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': INDEXES.stalled.partition },
      ExpressionAttributeValues: { ':pk': STALLED },
    });
    return items.map(toStall);
  }

  async markResumed(stall: StalledTicket, atIso: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.stall(stall.ticketId),
          UpdateExpression: 'SET resumes = :next, resumedAt = :at REMOVE #pk, #sk',
          ConditionExpression: 'resumes = :resumes AND attribute_exists(#pk)',
          ExpressionAttributeNames: {
            '#pk': INDEXES.stalled.partition,
            '#sk': INDEXES.stalled.sort,
          },
          ExpressionAttributeValues: {
            ':next': stall.resumes + 1,
            ':resumes': stall.resumes,
            ':at': atIso,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

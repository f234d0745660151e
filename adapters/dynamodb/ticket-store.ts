import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { GoneError } from '#core/errors';
import type { Transition } from '#core/lifecycle';
import type { ReplyLink, SaveOptions, TicketDetail, TicketStore, Wait } from '#core/ports';
import type { HistoryEntry, Ticket } from '#core/ticket';
import { VersionConflictError } from '#core/tickets';
import { INDEXES, keys, openShard } from './keys.ts';
import { TTL_ATTRIBUTE } from './schema.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Reply links outlive their use so that a late click gets "already used", not "no such link". */
const REPLY_LINK_RETENTION_SECONDS = 400 * 24 * 3600;

function stripKeys<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const {
    PK,
    SK,
    GSI1PK,
    GSI1SK,
    GSI2PK,
    GSI2SK,
    GSI3PK,
    GSI3SK,
    [TTL_ATTRIBUTE]: _ttl,
    ...rest
  } = item;
  return rest as T;
}

/** The index keys a ticket carries while it is open, so the sparse indexes hold open ones only. */
function indexAttributes(ticket: Ticket): Record<string, string> {
  if (ticket.status === 'closed') return {};
  const attributes: Record<string, string> = {
    [INDEXES.openTickets.partition]: openShard(ticket.id),
    [INDEXES.openTickets.sort]: ticket.id,
  };
  if (ticket.leadUnit) {
    attributes[INDEXES.unitQueue.partition] = `UNIT#${ticket.leadUnit}`;
    attributes[INDEXES.unitQueue.sort] = `${ticket.deadlines.replyBy ?? '9999'}#${ticket.id}`;
  }
  return attributes;
}

export class DynamoTicketStore implements TicketStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async nextTicketId(day: string): Promise<string> {
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.ticketCounter(day),
        UpdateExpression: 'ADD #seq :one',
        ExpressionAttributeNames: { '#seq': 'seq' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const seq = Number(result.Attributes?.seq);
    if (!Number.isInteger(seq) || seq > 999_999)
      throw new Error(`ticket counter for ${day} is exhausted`);
    return `${day}-${String(seq).padStart(6, '0')}`;
  }

  async save(transition: Transition, options: SaveOptions = {}): Promise<void> {
    const { before, ticket, history } = transition;
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.table,
          Item: { ...keys.ticket(ticket.id), ...ticket, ...indexAttributes(ticket) },
          ...(before
            ? {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': before.version },
              }
            : { ConditionExpression: 'attribute_not_exists(PK)' }),
        },
      },
      {
        Put: {
          TableName: this.table,
          Item: { ...keys.history(ticket.id, history.version), ...history },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
    ];
    if (options.consumeWait)
      items.push(...this.consumeWaitItems(ticket.id, options.consumeWait.replyId));
    if (options.openWait) items.push(...this.openWaitItems(options.openWait));
    await this.write(items);
  }

  async openWait(wait: Wait): Promise<void> {
    await this.write(this.openWaitItems(wait));
  }

  async get(id: string): Promise<Ticket | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.table, Key: keys.ticket(id), ConsistentRead: true }),
    );
    return stripKeys<Ticket>(result.Item);
  }

  async getDetail(id: string): Promise<TicketDetail | undefined> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': keys.ticket(id).PK },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const meta = items.find((i) => i.SK === 'META');
    if (!meta) return undefined;
    const wait = items.find((i) => i.SK === 'WAIT');
    return {
      ticket: stripKeys<Ticket>(meta)!,
      history: items
        .filter((i) => String(i.SK).startsWith('HIST#'))
        .map((i) => stripKeys<HistoryEntry>(i)!),
      ...(wait ? { wait: stripKeys<Wait>(wait)! } : {}),
    };
  }

  async getReplyLink(replyId: string): Promise<ReplyLink | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.table, Key: keys.replyLink(replyId), ConsistentRead: true }),
    );
    return stripKeys<ReplyLink>(result.Item);
  }

  private openWaitItems(wait: Wait): TransactItem[] {
    const link: ReplyLink = {
      replyId: wait.replyId,
      ticketId: wait.ticketId,
      unitId: wait.unitId,
      kind: wait.kind,
      status: 'open',
      createdAt: wait.issuedAt,
    };
    const expiresAt = Math.floor(Date.parse(wait.issuedAt) / 1000) + REPLY_LINK_RETENTION_SECONDS;
    return [
      { Put: { TableName: this.table, Item: { ...keys.wait(wait.ticketId), ...wait } } },
      {
        Put: {
          TableName: this.table,
          Item: { ...keys.replyLink(wait.replyId), ...link, [TTL_ATTRIBUTE]: expiresAt },
        },
      },
    ];
  }

  private consumeWaitItems(ticketId: string, replyId: string): TransactItem[] {
    return [
      {
        Delete: {
          TableName: this.table,
          Key: keys.wait(ticketId),
          ConditionExpression: 'replyId = :replyId',
          ExpressionAttributeValues: { ':replyId': replyId },
        },
      },
      {
        Update: {
          TableName: this.table,
          Key: keys.replyLink(replyId),
          UpdateExpression: 'SET #status = :used',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':used': 'used', ':open': 'open' },
        },
      },
    ];
  }

  private async write(items: TransactItem[]): Promise<void> {
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') {
        throw new VersionConflictError('the ticket changed meanwhile', [
          { field: 'version', problem: 'the ticket was changed by someone else' },
        ]);
      }
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) {
        throw new GoneError('this reply link has been used or replaced', [
          { field: 'replyId', problem: 'already used or superseded' },
        ]);
      }
      throw error;
    }
  }
}

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
import type { MetricDelta, Transition } from '#core/lifecycle';
import { metricPeriods } from '#core/metrics';
import type { ReplyLink, SaveOptions, TicketDetail, TicketStore, Wait } from '#core/ports';
import type { HistoryEntry, MetricCounter, Ticket } from '#core/ticket';
import { callerKey, VersionConflictError } from '#core/tickets';
import { approvedCaseItem, INDEXES, keys, openShard } from './keys.ts';
import { queryAll } from './query.ts';
import { TTL_ATTRIBUTE } from './schema.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Links outlive their use so that a late click gets "already used", not "no such link". */
const LINK_RETENTION_SECONDS = 400 * 24 * 3600;
const CONTENTLESS_WINDOW_MS = 30 * 24 * 3600_000;

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

const contentlessPartition = (phone: string) => `CALLER#${callerKey(phone)}`;

const isOpen = (ticket: Ticket) => ticket.status !== 'closed' && ticket.status !== 'merged';

/** The index keys a ticket carries while it is open, so the sparse indexes hold open ones only. */
function indexAttributes(ticket: Ticket): Record<string, string> {
  if (!isOpen(ticket)) return {};
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

/**
 * The keys under which an open ticket can be found as a duplicate (并单): by caller and by place,
 * each within its topic. They exist while the ticket is open and go when it closes.
 */
function matchKeys(ticket: Ticket): string[] {
  const found: string[] = [];
  if (ticket.caller?.phone)
    found.push(`MATCH#${ticket.topic}#caller#${callerKey(ticket.caller.phone)}`);
  if (ticket.place.township && ticket.place.address) {
    const address = ticket.place.address.replace(/\s+/g, '');
    found.push(`MATCH#${ticket.topic}#place#${ticket.place.township}#${address}`);
  }
  return found;
}

/** Sums deltas per unit: a transaction may touch each metrics item only once. */
function mergeDeltas(deltas: MetricDelta[]): Map<string, Partial<Record<MetricCounter, number>>> {
  const merged = new Map<string, Partial<Record<MetricCounter, number>>>();
  for (const { unitId, counters } of deltas) {
    const sum = merged.get(unitId) ?? {};
    for (const [k, n] of Object.entries(counters) as [MetricCounter, number][])
      sum[k] = (sum[k] ?? 0) + n;
    merged.set(unitId, sum);
  }
  return merged;
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
    if (options.requireLink) {
      items.push({
        ConditionCheck: {
          TableName: this.table,
          Key: keys.wait(ticket.id),
          ConditionExpression: 'replyId = :replyId',
          ExpressionAttributeValues: { ':replyId': options.requireLink },
        },
      });
    }
    items.push(
      ...this.matchItems(before, ticket),
      ...this.metricItems(transition),
      ...this.caseItems(before, ticket),
      ...this.flagItems(before, ticket),
      ...this.contentlessItems(before, ticket),
    );
    await this.write(items);
  }

  async putWait(wait: Wait, ticketVersion: number): Promise<boolean> {
    const items: TransactItem[] = [
      {
        ConditionCheck: {
          TableName: this.table,
          Key: keys.ticket(wait.ticketId),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': ticketVersion },
        },
      },
      { Put: { TableName: this.table, Item: { ...keys.wait(wait.ticketId), ...wait } } },
    ];
    if (wait.replyId && wait.unitId) {
      const link: ReplyLink = {
        replyId: wait.replyId,
        ticketId: wait.ticketId,
        unitId: wait.unitId,
        createdAt: wait.issuedAt,
      };
      const expiresAt = Math.floor(Date.parse(wait.issuedAt) / 1000) + LINK_RETENTION_SECONDS;
      items.push({
        Put: {
          TableName: this.table,
          Item: { ...keys.replyLink(wait.replyId), ...link, [TTL_ATTRIBUTE]: expiresAt },
        },
      });
    }
    try {
      await this.write(items);
      return true;
    } catch (error) {
      if (error instanceof VersionConflictError) return false;
      throw error;
    }
  }

  async getWait(ticketId: string): Promise<Wait | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.table, Key: keys.wait(ticketId), ConsistentRead: true }),
    );
    return stripKeys<Wait>(result.Item);
  }

  async takeToken(ticketId: string, token: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.wait(ticketId),
          UpdateExpression: 'REMOVE taskToken',
          ConditionExpression: 'taskToken = :token',
          ExpressionAttributeValues: { ':token': token },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async findOpenDuplicate(ticket: Ticket, sinceIso: string): Promise<string | undefined> {
    for (const pk of matchKeys(ticket)) {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND SK >= :since',
          ExpressionAttributeValues: { ':pk': pk, ':since': sinceIso },
          Limit: 1,
        }),
      );
      const first = page.Items?.[0];
      if (first) return String(first.ticketId);
    }
    return undefined;
  }

  async countContentlessCalls(ticket: Ticket): Promise<number> {
    const pk = contentlessPartition(ticket.caller!.phone!);
    const at = Date.parse(ticket.createdAt);
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk AND SK >= :since',
        ExpressionAttributeValues: {
          ':pk': pk,
          ':since': `NOSUBSTANCE#${new Date(at - CONTENTLESS_WINDOW_MS).toISOString()}`,
        },
        Select: 'COUNT',
      }),
    );
    return page.Count ?? 0;
  }

  async get(id: string): Promise<Ticket | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.table, Key: keys.ticket(id), ConsistentRead: true }),
    );
    return stripKeys<Ticket>(result.Item);
  }

  async getDetail(id: string): Promise<TicketDetail | undefined> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.ticket(id).PK },
      ConsistentRead: true,
    });
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

  private matchItems(before: Ticket | null, ticket: Ticket): TransactItem[] {
    const wasOpen = before ? isOpen(before) : false;
    if (!before && ticket.status === 'received') {
      return matchKeys(ticket).map((pk) => ({
        Put: {
          TableName: this.table,
          Item: { PK: pk, SK: `${ticket.createdAt}#${ticket.id}`, ticketId: ticket.id },
        },
      }));
    }
    if (before && wasOpen && !isOpen(ticket)) {
      return matchKeys(ticket).map((pk) => ({
        Delete: { TableName: this.table, Key: { PK: pk, SK: `${ticket.createdAt}#${ticket.id}` } },
      }));
    }
    return [];
  }

  private metricItems(transition: Transition): TransactItem[] {
    const at = new Date(transition.history.at);
    const items: TransactItem[] = [];
    for (const [unitId, counters] of mergeDeltas(transition.metrics)) {
      const entries = Object.entries(counters).filter(([, n]) => n !== 0);
      if (entries.length === 0) continue;
      const names = Object.fromEntries(entries.map(([k], i) => [`#c${i}`, k]));
      const values = Object.fromEntries(entries.map(([, n], i) => [`:c${i}`, n]));
      const update = `ADD ${entries.map((_, i) => `#c${i} :c${i}`).join(', ')}`;
      for (const period of metricPeriods(at)) {
        items.push({
          Update: {
            TableName: this.table,
            Key: { PK: `METRICS#${period}`, SK: `UNIT#${unitId}` },
            UpdateExpression: `${update} SET unitId = :unit, period = :period`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ':unit': unitId, ':period': period },
          },
        });
      }
    }
    return items;
  }

  /**
   * A call without substance counts towards its caller's threshold in the ticket's own write, so
   * a ticket that is not stored (refused, or filed already by an earlier delivery of the same
   * call) leaves nothing behind.
   */
  private contentlessItems(before: Ticket | null, ticket: Ticket): TransactItem[] {
    if (before || !ticket.noSubstance || !ticket.caller?.phone) return [];
    const at = Date.parse(ticket.createdAt);
    const item = {
      PK: contentlessPartition(ticket.caller.phone),
      SK: `NOSUBSTANCE#${ticket.createdAt}#${ticket.id}`,
      [TTL_ATTRIBUTE]: Math.floor((at + CONTENTLESS_WINDOW_MS) / 1000),
    };
    return [{ Put: { TableName: this.table, Item: item } }];
  }

  /** A flagged repeat caller is listed for a human (GET /flags) in the same write as the ticket. */
  private flagItems(before: Ticket | null, ticket: Ticket): TransactItem[] {
    if (before || !ticket.flaggedRepeatCaller) return [];
    const month = metricPeriods(new Date(ticket.createdAt))[1];
    const item = {
      ...keys.repeatCallerFlag(month, ticket.createdAt, ticket.id),
      ticketId: ticket.id,
      topic: ticket.topic,
      createdAt: ticket.createdAt,
    };
    return [{ Put: { TableName: this.table, Item: item } }];
  }

  /** An approved unreasonable ticket enters the bulletin queue in the same write as its approval. */
  private caseItems(before: Ticket | null, ticket: Ticket): TransactItem[] {
    if (!ticket.unreasonable || before?.unreasonable) return [];
    return [
      {
        Put: {
          TableName: this.table,
          Item: approvedCaseItem(ticket.unreasonable),
          ConditionExpression: 'attribute_not_exists(PK)',
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
        throw new GoneError('this link has been replaced', [
          { field: 'replyId', problem: 'replaced by a newer link' },
        ]);
      }
      throw error;
    }
  }
}

import { createHash } from 'node:crypto';
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
import { metricPeriods } from '#core/metrics';
import type {
  Duplicate,
  ReplyLink,
  SaveOptions,
  TicketDetail,
  TicketStore,
  Wait,
} from '#core/ports';
import { CENTRE_STAGES, type HistoryEntry, type MergeReason, type Ticket } from '#core/ticket';
import { AlongsideRefusedError, callerKey, VersionConflictError } from '#core/tickets';
import { labelItems } from './dispatch-labels.ts';
import { approvedCaseItem, CENTRE_QUEUE, INDEXES, keys, openShard } from './keys.ts';
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
  // Whose turn it is: while the centre must decide, the ticket is in the centre's queue by the
  // centre's own time limit; otherwise in its lead unit's, by the reply deadline.
  if (CENTRE_STAGES.includes(ticket.status)) {
    attributes[INDEXES.unitQueue.partition] = CENTRE_QUEUE;
    attributes[INDEXES.unitQueue.sort] = `${ticket.deadlines.centreBy ?? '9999'}#${ticket.id}`;
  } else if (ticket.leadUnit) {
    attributes[INDEXES.unitQueue.partition] = `UNIT#${ticket.leadUnit}`;
    attributes[INDEXES.unitQueue.sort] = `${ticket.deadlines.replyBy ?? '9999'}#${ticket.id}`;
  }
  return attributes;
}

/** An address as compared for 并单: without spaces, and hashed where it goes into an item. */
const normalAddress = (address: string | undefined) => address?.replace(/\s+/g, '') || undefined;
const addressHash = (address: string) =>
  createHash('sha256').update(address).digest('base64url').slice(0, 16);

interface MatchKey {
  pk: string;
  reason: MergeReason;
  /** The ticket's address (hashed) on a caller key: a candidate at another address is not one. */
  where?: string;
}

/**
 * The keys under which an open ticket can be found as a duplicate (并单), each with why a match
 * means the same matter: the same place (township and address) within its topic, or the same
 * caller in the same district and township whose addresses do not differ (one may be missing).
 * The same caller about the same topic somewhere else is another matter. The keys exist while
 * the ticket is open.
 */
function matchKeys(ticket: Ticket): MatchKey[] {
  const found: MatchKey[] = [];
  // Without a topic yet (智能派单 left it to a dispatcher) there is nothing to match within.
  if (!ticket.topic) return found;
  const { district, township } = ticket.place;
  const address = normalAddress(ticket.place.address);
  if (township && address) {
    found.push({ pk: `MATCH#${ticket.topic}#place#${township}#${address}`, reason: 'same_place' });
  }
  if (ticket.caller?.phone) {
    found.push({
      pk: `MATCH#${ticket.topic}#callerplace#${callerKey(ticket.caller.phone)}#${district}#${township ?? '-'}`,
      reason: 'same_caller_same_place',
      ...(address ? { where: addressHash(address) } : {}),
    });
  }
  return found;
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
      ...labelItems(before, ticket).map((Item) => ({ Put: { TableName: this.table, Item } })),
      ...this.contentlessItems(before, ticket),
    );
    const alongside = (options.alongside?.items ?? []) as TransactItem[];
    await this.write([...items, ...alongside], items.length);
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

  async findOpenDuplicate(ticket: Ticket, sinceIso: string): Promise<Duplicate | undefined> {
    // Both keys at once (one round trip); the first key that matches decides, as in order.
    const found = await Promise.all(
      matchKeys(ticket).map(async ({ pk, reason, where }) => {
        // One caller's open tickets on one topic in one township within the window: a handful.
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'PK = :pk AND SK >= :since',
            ExpressionAttributeValues: { ':pk': pk, ':since': sinceIso },
            Limit: 20,
          }),
        );
        const match = (page.Items ?? []).find((i) => !where || !i.where || i.where === where);
        return match ? { ticketId: String(match.ticketId), reason } : undefined;
      }),
    );
    return found.find(Boolean);
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
    const put = ({ pk, where }: MatchKey): TransactItem => ({
      Put: {
        TableName: this.table,
        Item: {
          PK: pk,
          SK: `${ticket.createdAt}#${ticket.id}`,
          ticketId: ticket.id,
          ...(where ? { where } : {}),
        },
      },
    });
    const remove = ({ pk }: MatchKey): TransactItem => ({
      Delete: { TableName: this.table, Key: { PK: pk, SK: `${ticket.createdAt}#${ticket.id}` } },
    });
    if (!before && ticket.status === 'received') return matchKeys(ticket).map(put);
    if (before && wasOpen && !isOpen(ticket)) return matchKeys(ticket).map(remove);
    // A dispatcher set or changed the topic: the keys move with it.
    if (before && wasOpen && before.topic !== ticket.topic) {
      return [...matchKeys(before).map(remove), ...matchKeys(ticket).map(put)];
    }
    return [];
  }

  private metricItems(transition: Transition): TransactItem[] {
    const today = metricPeriods(new Date(transition.history.at))[0];
    // A delta counts on the transition's own day unless it is a correction, which carries the day
    // it takes back. Deltas are summed per unit and period: a transaction may touch each item once.
    const perPeriod = new Map<
      string,
      { unitId: string; period: string; counters: Map<string, number> }
    >();
    for (const { unitId, counters, day = today } of transition.metrics) {
      for (const period of [day, day.slice(0, 7)]) {
        const key = `${period}#${unitId}`;
        const entry = perPeriod.get(key) ?? { unitId, period, counters: new Map() };
        for (const [k, n] of Object.entries(counters))
          entry.counters.set(k, (entry.counters.get(k) ?? 0) + (n ?? 0));
        perPeriod.set(key, entry);
      }
    }
    const items: TransactItem[] = [];
    for (const { unitId, period, counters } of perPeriod.values()) {
      const entries = [...counters].filter(([, n]) => n !== 0);
      if (entries.length === 0) continue;
      const names = Object.fromEntries(entries.map(([k], i) => [`#c${i}`, k]));
      const values = Object.fromEntries(entries.map(([, n], i) => [`:c${i}`, n]));
      const update = `ADD ${entries.map((_, i) => `#c${i} :c${i}`).join(', ')}`;
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

  /** `alongsideFrom`: where another adapter's items (SaveOptions.alongside) begin. */
  private async write(items: TransactItem[], alongsideFrom = items.length): Promise<void> {
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
      const refused = reasons.findIndex(
        (r, i) => i >= alongsideFrom && r.Code === 'ConditionalCheckFailed',
      );
      if (refused >= 0) throw new AlongsideRefusedError(refused - alongsideFrom);
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) {
        throw new GoneError('this link has been replaced', [
          { field: 'replyId', problem: 'replaced by a newer link' },
        ]);
      }
      throw error;
    }
  }
}

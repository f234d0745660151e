import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
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
import { METRICS_ATTRIBUTE, storedMetrics } from './metric-counter.ts';
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

/**
 * The ticket item carries its newest history line (`lastLine`): a change is then one conditional
 * write of the ticket, and the line becomes its own `HIST#` item in the ticket's next change,
 * written before that change replaces it (so every line is always either an item or the ticket's
 * `lastLine`; reads merge the two). A ticket read here remembers its line, out of sight of
 * spreads, JSON and comparisons, for the save that follows.
 */
const LAST_LINE_ATTRIBUTE = 'lastLine';
const lastLines = new WeakMap<Ticket, HistoryEntry | null>();

function ticketOf(item: Record<string, unknown> | undefined): Ticket | undefined {
  if (!item) return undefined;
  const { [LAST_LINE_ATTRIBUTE]: line, [METRICS_ATTRIBUTE]: _metrics, ...rest } = item;
  const ticket = stripKeys<Ticket>(rest)!;
  lastLines.set(ticket, (line as HistoryEntry | undefined) ?? null);
  return ticket;
}

/** The ticket version a wait belongs to: a wait of an older version never replaces a newer one. */
const WAIT_VERSION = 'ticketVersion';

function waitOf(item: Record<string, unknown> | undefined): Wait | undefined {
  if (!item) return undefined;
  const { [WAIT_VERSION]: _version, ...rest } = item;
  return stripKeys<Wait>(rest);
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
    // The unit counters it moves ride on the ticket: the table's stream counts them, once
    // (metric-counter.ts), so the change itself need not be a transaction with them.
    const metrics = storedMetrics(transition);
    const meta: TransactItem = {
      Put: {
        TableName: this.table,
        Item: {
          ...keys.ticket(ticket.id),
          ...ticket,
          ...indexAttributes(ticket),
          [LAST_LINE_ATTRIBUTE]: history,
          ...(metrics ? { [METRICS_ATTRIBUTE]: metrics } : {}),
        },
        ...(before
          ? {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': before.version },
            }
          : { ConditionExpression: 'attribute_not_exists(PK)' }),
      },
    };
    // The line the stored ticket carries becomes its own item before the ticket is replaced.
    // Rewriting it is harmless (a line never changes), so a retried or losing save may repeat it.
    const previous = before ? await this.lastLineOf(before) : undefined;
    const others: TransactItem[] = [
      ...this.matchItems(before, ticket),
      ...this.caseItems(before, ticket),
      ...this.flagItems(before, ticket),
      ...labelItems(before, ticket).map((Item) => ({ Put: { TableName: this.table, Item } })),
      ...this.contentlessItems(before, ticket),
    ];
    const line = previous
      ? { ...keys.history(ticket.id, previous.version), ...previous }
      : undefined;
    const alongside = (options.alongside?.items ?? []) as TransactItem[];
    if (others.length > 0 || alongside.length > 0) {
      const items = [meta, ...others];
      if (line) items.push({ Put: { TableName: this.table, Item: line } });
      await this.write([...items, ...alongside], items.length);
      return;
    }
    // Nothing else changes with the ticket: one conditional Put instead of a transaction, which
    // DynamoDB charges twice. The version condition orders the changes, and the line's own Put
    // goes first, so a crash between the two leaves the line written, never lost.
    if (line) await this.client.send(new PutCommand({ TableName: this.table, Item: line }));
    try {
      await this.client.send(new PutCommand(meta.Put!));
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') throw versionConflict();
      throw error;
    }
  }

  /** The line the stored ticket carries: remembered from the read, or read again if not. */
  private async lastLineOf(before: Ticket): Promise<HistoryEntry | undefined> {
    const known = lastLines.get(before);
    if (known !== undefined) return known ?? undefined;
    const result = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: keys.ticket(before.id),
        ProjectionExpression: '#line, #version',
        ExpressionAttributeNames: { '#line': LAST_LINE_ATTRIBUTE, '#version': 'version' },
        ConsistentRead: true,
      }),
    );
    // Another version is stored: this save fails its condition anyway.
    if (result.Item?.version !== before.version) return undefined;
    return result.Item?.[LAST_LINE_ATTRIBUTE] as HistoryEntry | undefined;
  }

  /**
   * The wait carries the ticket version it belongs to; no transaction checks the ticket. Instead
   * the wait is written first and the ticket read after: a change saved before that read is seen
   * here (false: the task looks again), and one saved after it finds this wait when it wakes the
   * workflow. A wait never replaces a newer one.
   */
  async putWait(
    wait: Wait,
    ticketVersion: number,
    options: { linkStored?: boolean } = {},
  ): Promise<boolean> {
    if (wait.replyId && wait.unitId && !options.linkStored) {
      const link: ReplyLink = {
        replyId: wait.replyId,
        ticketId: wait.ticketId,
        unitId: wait.unitId,
        createdAt: wait.issuedAt,
      };
      const expiresAt = Math.floor(Date.parse(wait.issuedAt) / 1000) + LINK_RETENTION_SECONDS;
      // Before the wait: a stored wait's link always exists.
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.replyLink(wait.replyId), ...link, [TTL_ATTRIBUTE]: expiresAt },
        }),
      );
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.wait(wait.ticketId), ...wait, [WAIT_VERSION]: ticketVersion },
          ConditionExpression: 'attribute_not_exists(#v) OR #v <= :v',
          ExpressionAttributeNames: { '#v': WAIT_VERSION },
          ExpressionAttributeValues: { ':v': ticketVersion },
        }),
      );
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
    const current = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: keys.ticket(wait.ticketId),
        ProjectionExpression: '#version',
        ExpressionAttributeNames: { '#version': 'version' },
        ConsistentRead: true,
      }),
    );
    if (current.Item?.version === ticketVersion) return true;
    // The ticket moved meanwhile: the task looks again (a second wake-up of one token is refused
    // by Step Functions as stale, harmlessly), and no later change finds this wait's token.
    if (wait.taskToken) await this.takeToken(wait.ticketId, wait.taskToken);
    return false;
  }

  async getWait(ticketId: string): Promise<Wait | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.table, Key: keys.wait(ticketId), ConsistentRead: true }),
    );
    return waitOf(result.Item);
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
    return ticketOf(result.Item);
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
    const lines = items.filter((i) => String(i.SK).startsWith('HIST#'));
    // The ticket's own line, unless already its item, in its place by key (before the stall
    // lines of its version).
    const last = meta[LAST_LINE_ATTRIBUTE] as HistoryEntry | undefined;
    if (last) {
      const item = { ...keys.history(id, last.version), ...last };
      if (!lines.some((i) => i.SK === item.SK)) {
        lines.push(item);
        lines.sort((a, b) => (String(a.SK) < String(b.SK) ? -1 : 1));
      }
    }
    return {
      ticket: ticketOf(meta)!,
      history: lines.map((i) => stripKeys<HistoryEntry>(i)!),
      ...(wait ? { wait: waitOf(wait)! } : {}),
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
      if (reasons[0]?.Code === 'ConditionalCheckFailed') throw versionConflict();
      const refused = reasons.findIndex(
        (r, i) => i >= alongsideFrom && r.Code === 'ConditionalCheckFailed',
      );
      if (refused >= 0) throw new AlongsideRefusedError(refused - alongsideFrom);
      throw error;
    }
  }
}

function versionConflict(): VersionConflictError {
  return new VersionConflictError('the ticket changed meanwhile', [
    { field: 'version', problem: 'the ticket was changed by someone else' },
  ]);
}

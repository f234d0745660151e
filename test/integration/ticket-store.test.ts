import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoCatalogueStore, putCatalogue } from '#adapters/dynamodb/catalogue-store';
import { INDEXES, keys } from '#adapters/dynamodb/keys';
import { DynamoMetricCounter, METRICS_ATTRIBUTE } from '#adapters/dynamodb/metric-counter';
import { ensureTable } from '#adapters/dynamodb/schema';
import { DynamoTicketStore } from '#adapters/dynamodb/ticket-store';
import { catalogueSchema } from '#core/catalogue';
import { parseLifecycleConfig } from '#core/config';
import {
  applyCentreDecision,
  applyUnitAction,
  type Context,
  dispatchTicket,
  openTicket,
  type Transition,
} from '#core/lifecycle';
import type { Wait } from '#core/ports';
import { intakeSchema } from '#core/ticket';
import { VersionConflictError } from '#core/tickets';
import sampleCounty from '#data/sample-county.json' with { type: 'json' };
import { localClientConfig, uniqueTableName } from '../support/dynamodb.ts';

const table = uniqueTableName('store');
let store: DynamoTicketStore;
let counter: DynamoMetricCounter;
let documents: DynamoDBDocumentClient;

const at = new Date('2026-11-21T02:00:00Z');
const intake = intakeSchema.parse({
  content: '路灯不亮',
  category: 'help',
  topic: 'urban-management',
  place: { district: 'qingshan', township: 'nanhu' },
});

beforeAll(async () => {
  const raw = new DynamoDBClient(localClientConfig());
  documents = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true },
  });
  await ensureTable(raw, table);
  store = new DynamoTicketStore(documents, table);
  counter = new DynamoMetricCounter(documents, table);
});

/** What the stream consumer does with a stored ticket version: count the metrics it carries. */
async function countStored(id: string): Promise<boolean | undefined> {
  const { Item } = await documents.send(
    new GetCommand({ TableName: table, Key: keys.ticket(id), ConsistentRead: true }),
  );
  return Item?.[METRICS_ATTRIBUTE] ? counter.count(id, Item[METRICS_ATTRIBUTE]) : undefined;
}

/** A save, then its metrics counted as the table's stream would. */
async function save(transition: Transition): Promise<void> {
  await store.save(transition);
  await countStored(transition.ticket.id);
}

const ctx: Context = {
  at,
  config: parseLifecycleConfig({}),
  add: (from, d) => new Date(from.getTime() + d.amount * 24 * 3600_000),
};
const clerk = { kind: 'unit', id: 'c', unitId: 'urban-management' } as const;

function wait(ticketId: string, replyId: string): Wait {
  return {
    ticketId,
    party: 'unit',
    stage: 'handling',
    unitId: 'urban-management',
    replyId,
    taskToken: `token-${replyId}`,
    issuedAt: at.toISOString(),
  };
}

async function dispatchedTicket(id: string) {
  const opened = openTicket({ id, intake, actor: { kind: 'operator', id: 'op' }, at });
  await save(opened);
  const dispatched = dispatchTicket(
    opened.ticket,
    { lead: 'urban-management', assist: [], actor: clerk, reason: 'test' },
    ctx,
  );
  await save(dispatched);
  const signed = applyUnitAction(
    dispatched.ticket,
    'urban-management',
    { action: 'sign' },
    clerk,
    ctx,
  );
  await save(signed);
  return signed.ticket;
}

describe('the DynamoDB ticket store', () => {
  it('hands out unique, consecutive ticket numbers under concurrency', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, () => store.nextTicketId('20261121')));
    expect(new Set(ids).size).toBe(40);
    expect(ids.sort()).toEqual(
      Array.from({ length: 40 }, (_, i) => `20261121-${String(i + 1).padStart(6, '0')}`),
    );
  });

  it('stores a ticket with its history and refuses a stale write', async () => {
    const ticket = await dispatchedTicket('20261121-100001');
    const detail = await store.getDetail(ticket.id);
    expect(detail?.ticket).toEqual(ticket);
    expect(detail?.history.map((h) => h.event)).toEqual(['received', 'dispatched', 'signed']);

    const staleBase = { ...ticket, version: 2 };
    const stale = applyUnitAction(
      staleBase,
      'urban-management',
      { action: 'note', note: 'x' },
      clerk,
      ctx,
    );
    await expect(store.save(stale)).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.getDetail(ticket.id))?.history).toHaveLength(3);
  });

  it('stores a wait of the current version only, its link once, and hands the token out once', async () => {
    const ticket = await dispatchedTicket('20261121-100002');
    expect(await store.putWait(wait(ticket.id, 'first-link'), ticket.version)).toBe(true);
    // A wait of an older version (a late, repeated task) never replaces the current one.
    expect(await store.putWait(wait(ticket.id, 'old-link'), ticket.version - 1)).toBe(false);
    expect((await store.getWait(ticket.id))?.replyId).toBe('first-link');
    // A wait stored for a version the ticket already left is refused, its token taken back.
    const reply = applyUnitAction(
      ticket,
      'urban-management',
      { action: 'reply', content: '已修复', resolved: true },
      clerk,
      ctx,
    );
    await store.save(reply);
    expect(await store.putWait(wait(ticket.id, 'late-link'), ticket.version)).toBe(false);
    expect((await store.getWait(ticket.id))?.taskToken).toBeUndefined();

    const current = reply.ticket;
    expect(await store.putWait(wait(ticket.id, 'second-link'), current.version)).toBe(true);
    // The same assignment again (a chase, a repeated task): the link is not rewritten.
    const again = { ...wait(ticket.id, 'second-link'), taskToken: 'token-again' };
    expect(await store.putWait(again, current.version, { linkStored: true })).toBe(true);
    expect((await store.getReplyLink('second-link'))?.ticketId).toBe(ticket.id);
    expect(await store.getWait(ticket.id)).toEqual(again);
    expect((await store.getDetail(ticket.id))?.wait).toEqual(again);
    expect(await store.takeToken(ticket.id, 'token-again')).toBe(true);
    expect(await store.takeToken(ticket.id, 'token-again')).toBe(false);
  });

  it('carries the newest history line in the ticket and writes it out with the next change', async () => {
    const ticket = await dispatchedTicket('20261121-100021');
    const lines = async () =>
      (
        await documents.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :h)',
            ExpressionAttributeValues: { ':pk': `TICKET#${ticket.id}`, ':h': 'HIST#' },
          }),
        )
      ).Items?.map((i) => i.SK);
    // received and dispatched are items; signed rides in the ticket until the next change.
    expect(await lines()).toEqual(['HIST#000001', 'HIST#000002']);
    expect((await store.getDetail(ticket.id))?.history.map((h) => h.version)).toEqual([1, 2, 3]);
    // A ticket read from the store remembers its line; one built elsewhere has it read again.
    const read = (await store.get(ticket.id))!;
    expect(read).toEqual(ticket);
    const note = applyUnitAction(
      read,
      'urban-management',
      { action: 'note', note: 'x' },
      clerk,
      ctx,
    );
    await store.save(note);
    expect(await lines()).toEqual(['HIST#000001', 'HIST#000002', 'HIST#000003']);
    const another = applyUnitAction(
      note.ticket,
      'urban-management',
      { action: 'note', note: 'y' },
      clerk,
      ctx,
    );
    await store.save(another);
    expect(await lines()).toEqual(['HIST#000001', 'HIST#000002', 'HIST#000003', 'HIST#000004']);
    const detail = await store.getDetail(ticket.id);
    expect(detail?.history.map((h) => h.version)).toEqual([1, 2, 3, 4, 5]);
    expect(detail?.ticket).toEqual(another.ticket);
    expect(JSON.stringify(detail?.ticket)).not.toContain('lastLine');
  });

  it('counts the metrics a change carries once, per unit, day and month', async () => {
    // Other tests in this file count for the same unit and month: compare before and after.
    const counters = async (period: string) => {
      const { Item } = await documents.send(
        new GetCommand({
          TableName: table,
          Key: { PK: `METRICS#${period}`, SK: 'UNIT#urban-management' },
          ConsistentRead: true,
        }),
      );
      return { received: Item?.received ?? 0, signedOnTime: Item?.signedOnTime ?? 0 };
    };
    const before = { month: await counters('2026-11'), day: await counters('2026-11-21') };
    const ticket = await dispatchedTicket('20261121-100004');
    const once = { month: await counters('2026-11'), day: await counters('2026-11-21') };
    for (const period of ['month', 'day'] as const) {
      expect(once[period], period).toEqual({
        received: before[period].received + 1,
        signedOnTime: before[period].signedOnTime + 1,
      });
    }
    // A redelivered stream record (the same version again) counts nothing more.
    expect(await countStored(ticket.id)).toBe(false);
    expect({ month: await counters('2026-11'), day: await counters('2026-11-21') }).toEqual(once);
  });

  it('counts a stream batch whole, once, or not at all', async () => {
    const unitId = 'batch-unit';
    const delta = (version: number, n: number) => ({
      version,
      deltas: [{ unitId, day: '2026-11-22', counters: { received: n } }],
    });
    const batch = [
      { ticketId: 'B-1', metrics: delta(2, 1) },
      { ticketId: 'B-2', metrics: delta(2, 10) },
      { ticketId: 'B-1', metrics: delta(3, 100) },
    ];
    const received = async (period: string) =>
      (
        await documents.send(
          new GetCommand({
            TableName: table,
            Key: { PK: `METRICS#${period}`, SK: `UNIT#${unitId}` },
            ConsistentRead: true,
          }),
        )
      ).Item?.received;
    expect(await counter.countAll(batch)).toEqual({ counted: true });
    expect(await received('2026-11-22')).toBe(111);
    expect(await received('2026-11')).toBe(111);
    // Redelivered (whole, or bisected), it counts nothing more.
    const countedBefore = { counted: false, why: 'cancelled', reasons: ['ConditionalCheckFailed'] };
    expect(await counter.countAll(batch)).toMatchObject(countedBefore);
    expect(await counter.countAll(batch.slice(1))).toMatchObject(countedBefore);
    expect(await counter.count('B-1', delta(3, 100))).toBe(false);
    // One new version among counted ones: the batch is refused whole, the version counts alone.
    const next = [...batch, { ticketId: 'B-2', metrics: delta(4, 1000) }];
    expect(await counter.countAll(next)).toMatchObject({ counted: false, why: 'cancelled' });
    expect(await received('2026-11')).toBe(111);
    expect(await counter.count('B-2', delta(4, 1000))).toBe(true);
    expect(await received('2026-11')).toBe(1111);
  });

  it('takes a correction back in the day and month the counters were counted in', async () => {
    // Dispatch, sign and apply on 2026-09-29; approve as unreasonable on 2026-10-08.
    const sept = { ...ctx, at: new Date('2026-09-29T02:00:00Z') };
    const oct = { ...ctx, at: new Date('2026-10-08T02:00:00Z') };
    const lead = 'water-supply';
    const unitClerk = { kind: 'unit', id: 'w', unitId: lead } as const;
    const opened = openTicket({ id: '20260929-100001', intake, actor: clerk, at: sept.at });
    await save(opened);
    let t = dispatchTicket(opened.ticket, { lead, assist: [], actor: clerk, reason: 't' }, sept);
    await save(t);
    t = applyUnitAction(t.ticket, lead, { action: 'sign' }, unitClerk, sept);
    await save(t);
    const evidence = { action: 'unreasonable', category: 'other', evidence: 'x' } as const;
    t = applyUnitAction(t.ticket, lead, evidence, unitClerk, sept);
    await save(t);
    const decision = {
      decision: 'approve_unreasonable',
      publicSummary: 's',
      finding: 'f',
      basis: 'b',
      reply: 'r',
    } as const;
    await save(applyCentreDecision(t.ticket, decision, { kind: 'reviewer', id: 'r' }, oct));
    const counters = async (period: string) =>
      (
        await documents.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'PK = :pk AND SK = :sk',
            ExpressionAttributeValues: { ':pk': `METRICS#${period}`, ':sk': `UNIT#${lead}` },
          }),
        )
      ).Items?.[0] ?? {};
    for (const period of ['2026-09', '2026-09-29']) {
      expect(await counters(period)).toMatchObject({
        received: 0,
        signedOnTime: 0,
        unreasonableApplied: 1,
      });
    }
    for (const period of ['2026-10', '2026-10-08']) {
      const c = await counters(period);
      expect(c).toMatchObject({ unreasonableApproved: 1 });
      expect(c.received).toBeUndefined();
      expect(c.signedOnTime).toBeUndefined();
    }
  });

  it('finds an open ticket about the same matter from the same caller, and forgets it once closed', async () => {
    const withCaller = intakeSchema.parse({ ...intake, caller: { phone: '139 1234 5678' } });
    const first = openTicket({
      id: '20261121-100005',
      intake: withCaller,
      actor: { kind: 'operator', id: 'op' },
      at,
    });
    await store.save(first);
    const second = openTicket({
      id: '20261121-100006',
      intake: { ...withCaller, caller: { phone: '13912345678' } },
      actor: { kind: 'operator', id: 'op' },
      at,
    }).ticket;
    expect(await store.findOpenDuplicate(second, '2026-11-20T00:00:00.000Z')).toEqual({
      ticketId: first.ticket.id,
      reason: 'same_caller_same_place',
    });
    expect(await store.findOpenDuplicate(second, '2026-11-22T00:00:00.000Z')).toBeUndefined();
  });

  it('merges only what is plausibly the same matter: the same place, or the same caller there', async () => {
    const actor = { kind: 'operator', id: 'op' } as const;
    const here = { district: 'qingshan', township: 'beiyuan', address: '幸福路 12 号' };
    const first = openTicket({
      id: '20261121-100011',
      intake: intakeSchema.parse({
        ...intake,
        topic: 'environment',
        caller: { phone: '13700001111' },
        place: here,
      }),
      actor,
      at,
    });
    await store.save(first);
    const since = '2026-11-20T00:00:00.000Z';
    // The same caller about the same topic at another township and address: another matter.
    const elsewhere = openTicket({
      id: '20261121-100012',
      intake: intakeSchema.parse({
        ...intake,
        topic: 'environment',
        caller: { phone: '13700001111' },
        place: { district: 'qingshan', township: 'nanhu', address: '湖滨路 3 号' },
      }),
      actor,
      at,
    }).ticket;
    expect(await store.findOpenDuplicate(elsewhere, since)).toBeUndefined();
    // The same caller in the same township: at another address another matter, without one the same.
    const sameCaller = (id: string, address?: string) =>
      openTicket({
        id,
        intake: intakeSchema.parse({
          ...intake,
          topic: 'environment',
          caller: { phone: '137 0000 1111' },
          place: { district: 'qingshan', township: 'beiyuan', ...(address ? { address } : {}) },
        }),
        actor,
        at,
      }).ticket;
    expect(await store.findOpenDuplicate(sameCaller('20261121-100014', '光明路 8 号'), since)).toBe(
      undefined,
    );
    expect(await store.findOpenDuplicate(sameCaller('20261121-100015'), since)).toEqual({
      ticketId: first.ticket.id,
      reason: 'same_caller_same_place',
    });
    // Someone else about the same topic at the same address: the same matter.
    const neighbour = openTicket({
      id: '20261121-100013',
      intake: intakeSchema.parse({
        ...intake,
        topic: 'environment',
        caller: { phone: '13900002222' },
        place: { ...here, address: '幸福路12号' },
      }),
      actor,
      at,
    }).ticket;
    expect(await store.findOpenDuplicate(neighbour, since)).toEqual({
      ticketId: first.ticket.id,
      reason: 'same_place',
    });
    const merged = openTicket({
      id: neighbour.id,
      intake: intakeSchema.parse({ ...intake, topic: 'environment', place: here }),
      actor,
      at,
      mergeInto: { ticketId: first.ticket.id, reason: 'same_place' },
    });
    expect(merged.ticket).toMatchObject({ status: 'merged', mergeReason: 'same_place' });
    expect(merged.history.reason).toContain('同一地点');
    expect(merged.history.details).toMatchObject({
      mergedInto: first.ticket.id,
      mergeReason: 'same_place',
    });
  });

  it('lists open tickets of a unit by deadline from a sparse index', async () => {
    const ticket = await dispatchedTicket('20261121-100003');
    const page = await documents.send(
      new QueryCommand({
        TableName: table,
        IndexName: INDEXES.unitQueue.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEXES.unitQueue.partition },
        ExpressionAttributeValues: { ':pk': 'UNIT#urban-management' },
      }),
    );
    expect(page.Items?.map((i) => i.id)).toContain(ticket.id);
  });

  it('reads the catalogue it was given', async () => {
    await putCatalogue(documents, table, catalogueSchema.parse(sampleCounty));
    const catalogue = new DynamoCatalogueStore(documents, table);
    expect((await catalogue.getTopic('gas'))?.rules[0]?.lead).toBe('gas-supply');
    expect((await catalogue.getArea('baima'))?.kind).toBe('township');
    expect((await catalogue.listUnits()).length).toBe(sampleCounty.units.length);
  });
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoCatalogueStore, putCatalogue } from '#adapters/dynamodb/catalogue-store';
import { INDEXES } from '#adapters/dynamodb/keys';
import { ensureTable } from '#adapters/dynamodb/schema';
import { DynamoTicketStore } from '#adapters/dynamodb/ticket-store';
import { catalogueSchema } from '#core/catalogue';
import { GoneError } from '#core/errors';
import { dispatchTicket, openTicket, recordReply } from '#core/lifecycle';
import type { Wait } from '#core/ports';
import { intakeSchema } from '#core/ticket';
import { VersionConflictError } from '#core/tickets';
import sampleCounty from '#data/sample-county.json' with { type: 'json' };
import { localClientConfig, uniqueTableName } from '../support/dynamodb.ts';

const table = uniqueTableName('store');
let store: DynamoTicketStore;
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
});

function wait(ticketId: string, replyId: string): Wait {
  return {
    ticketId,
    kind: 'unit_reply',
    unitId: 'urban-management',
    replyId,
    taskToken: `token-${replyId}`,
    issuedAt: at.toISOString(),
  };
}

async function dispatchedTicket(id: string) {
  const opened = openTicket({ id, intake, actor: { kind: 'operator', id: 'op' }, at });
  await store.save(opened);
  const dispatched = dispatchTicket(opened.ticket, {
    decision: {
      kind: 'unit',
      lead: 'urban-management',
      assist: [],
      rule: { area: '*', lead: 'urban-management', assist: [] },
    },
    deadlines: { replyBy: '2026-12-01T16:00:00.000Z' },
    at,
  });
  await store.save(dispatched);
  return dispatched.ticket;
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
    expect(detail?.history.map((h) => h.event)).toEqual(['received', 'dispatched']);

    const staleBase = { ...ticket, version: 1 };
    const stale = recordReply(staleBase, {
      reply: { content: 'x', resolved: true },
      unitId: 'urban-management',
      actor: { kind: 'system', id: 't' },
      at,
    });
    await expect(store.save(stale)).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.getDetail(ticket.id))?.history).toHaveLength(2);
  });

  it('consumes a reply link once, and refuses a replaced one, writing nothing', async () => {
    const ticket = await dispatchedTicket('20261121-100002');
    await store.openWait(wait(ticket.id, 'first-link'));
    await store.openWait(wait(ticket.id, 'second-link'));
    const reply = recordReply(ticket, {
      reply: { content: '已修复', resolved: true },
      unitId: 'urban-management',
      actor: { kind: 'unit', id: 'c' },
      at,
    });

    await expect(
      store.save(reply, { consumeWait: { replyId: 'first-link' } }),
    ).rejects.toBeInstanceOf(GoneError);
    expect((await store.get(ticket.id))?.status).toBe('dispatched');

    await store.save(reply, { consumeWait: { replyId: 'second-link' } });
    expect((await store.get(ticket.id))?.status).toBe('replied');
    expect((await store.getReplyLink('second-link'))?.status).toBe('used');
    expect((await store.getDetail(ticket.id))?.wait).toBeUndefined();
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

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { labelledTickets } from '#adapters/dynamodb/dispatch-labels';
import { keys } from '#adapters/dynamodb/keys';
import { ensureTable } from '#adapters/dynamodb/schema';
import { DynamoTicketStore } from '#adapters/dynamodb/ticket-store';
import { parseLifecycleConfig } from '#core/config';
import { type Context, dispatchTicket, openTicket, type Transition } from '#core/lifecycle';
import { intakeSchema, type Ticket } from '#core/ticket';
import { localClientConfig, uniqueTableName } from '../support/dynamodb.ts';

const table = uniqueTableName('labels');
let store: DynamoTicketStore;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  const raw = new DynamoDBClient(localClientConfig());
  documents = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true },
  });
  await ensureTable(raw, table);
  store = new DynamoTicketStore(documents, table);
});

// 00:30 on 1 December in Beijing, still 30 November in UTC: the label is December's.
const at = new Date('2026-11-30T16:30:00Z');
const ctx: Context = {
  at,
  config: parseLifecycleConfig({}),
  add: (from, d) => new Date(from.getTime() + d.amount * 24 * 3600_000),
};
const operator = { kind: 'operator', id: 'op' } as const;

function close(ticket: Ticket): Transition {
  const closedAt = at.toISOString();
  return {
    before: ticket,
    ticket: {
      ...ticket,
      status: 'closed',
      closure: 'no_callback',
      closedAt,
      updatedAt: closedAt,
      version: ticket.version + 1,
    },
    history: {
      version: ticket.version + 1,
      at: closedAt,
      actor: operator,
      event: 'closed',
      from: ticket.status,
      to: 'closed',
      reason: 'test',
    },
    metrics: [],
  };
}

function opened(id: string, content: string, topic?: string) {
  const intake = intakeSchema.parse({
    content,
    category: 'help',
    ...(topic ? { topic } : {}),
    place: { district: 'qingshan', township: 'nanhu' },
    noCallback: true,
  });
  return openTicket({ id, intake, actor: operator, at });
}

describe('the labelled history of dispatch', () => {
  it('records a dispatched ticket when it closes: final topic and text, phone numbers masked', async () => {
    const open = opened('20261130-000101', '楼下饭馆油烟熏人，联系电话13912345678', 'environment');
    await store.save(open);
    const dispatched = dispatchTicket(
      { ...open.ticket, topic: 'environment' },
      { lead: 'ecology-environment', assist: [], actor: operator, reason: 'test' },
      ctx,
    );
    await store.save(dispatched);
    expect(await labelledTickets(documents, table, ['2026-12'])).toEqual([]);
    await store.save(close(dispatched.ticket));
    expect(await labelledTickets(documents, table, ['2026-11'])).toEqual([]);
    expect(await labelledTickets(documents, table, ['2026-12'])).toEqual([
      { text: '楼下饭馆油烟熏人，联系电话#', topic: 'environment', provenance: 'confirmed' },
    ]);
  });

  it("marks who stands behind the topic: a person, a person's correction, or the model alone", async () => {
    const cases = [
      {
        id: '20261130-000103',
        text: '隔壁工地半夜打桩',
        choice: { by: 'model', probability: 0.97 },
      },
      {
        id: '20261130-000104',
        text: '小区门口的井盖没了',
        choice: { by: 'person', replaced: 'water-supply' },
      },
      { id: '20261130-000105', text: '公交站牌被撞倒了', choice: { by: 'person' } },
    ] as const;
    const topics = ['noise', 'roads', 'public-transport'];
    for (const [i, c] of cases.entries()) {
      const open = opened(c.id, c.text, topics[i]);
      const dispatched = dispatchTicket(
        { ...open.ticket, topicChoice: { ...c.choice } },
        { lead: 'ecology-environment', assist: [], actor: operator, reason: 'test' },
        ctx,
      );
      await store.save(open);
      await store.save(dispatched);
      await store.save(close(dispatched.ticket));
    }
    // A label written before provenance was recorded: the model's choice is unreviewed.
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...keys.dispatchLabel('2026-12', at.toISOString(), '20261130-000106'),
          text: '老标签',
          topic: 'noise',
          by: 'model',
        },
      }),
    );
    const labels = await labelledTickets(documents, table, ['2026-12']);
    const of = (text: string) => labels.find((l) => l.text === text)?.provenance;
    expect(of('隔壁工地半夜打桩')).toBe('unreviewed');
    expect(of('小区门口的井盖没了')).toBe('corrected');
    expect(of('公交站牌被撞倒了')).toBe('confirmed');
    expect(of('老标签')).toBe('unreviewed');
  });

  it('leaves no label for a ticket never dispatched on a topic', async () => {
    const open = opened('20261130-000102', '咨询社保转移办理流程', 'social-security');
    await store.save(open);
    await store.save(close(open.ticket));
    const labels = await labelledTickets(documents, table, ['2026-11', '2026-12']);
    expect(labels.map((l) => l.text)).not.toContain('咨询社保转移办理流程');
  });
});

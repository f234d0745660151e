import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack';
import {
  type Api,
  apiClient,
  eventually,
  replyIdFrom,
  startTestStack,
} from '../support/local-stack.ts';

let stack: LocalStack;
let api: Api;
let sfn: SFNClient;

const newTicket = {
  caller: { name: '李四', phone: '13912345678' },
  content: '幸福小区3号楼昨天起停水，至今未恢复。',
  category: '投诉',
  topic: 'water-supply',
  place: { district: 'qingshan', township: 'dongcheng', address: '幸福小区3号楼' },
  // The callback survey has its own tests; this slice ends with the unit's reply.
  noCallback: true,
};

beforeAll(async () => {
  stack = await startTestStack();
  api = apiClient(stack);
  sfn = new SFNClient({
    endpoint: stack.urls.sfn,
    region: 'cn-north-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

let callers = 0;

/** Each ticket from a different caller and building: the same ones would be merged (并单). */
function distinct(ticket: typeof newTicket) {
  callers++;
  return {
    ...ticket,
    caller: { ...ticket.caller, phone: `139${String(10_000_000 + callers).slice(-8)}` },
    place: { ...ticket.place, address: `幸福小区${callers}号楼` },
  };
}

async function fileTicket(body: unknown = distinct(newTicket)) {
  const created = await api('POST', '/tickets', { token: stack.tokens.operator, body });
  expect(created.status, created.text).toBe(201);
  return created.body.id as string;
}

function mailsTo(address: string, ticketId: string) {
  return stack.ses.messages().filter((m) => m.to.includes(address) && m.subject.includes(ticketId));
}

describe('the first ticket, end to end on the local stack', () => {
  it('files, dispatches by mail, takes the unit reply and closes with a complete history', async () => {
    const id = await fileTicket();
    expect(id).toMatch(/^\d{8}-\d{6}$/);

    const mail = await eventually(async () => {
      const [m] = mailsTo('water-supply@qingshan.example.gov.cn', id);
      expect(m).toBeDefined();
      return m!;
    });
    expect(mail.subject).toContain('12345派单');
    expect(mail.text).not.toContain('13912345678');
    const replyId = replyIdFrom(mail.text);

    const page = await api('GET', `/replies/${replyId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('幸福小区3号楼昨天起停水');
    expect(page.text).not.toContain('13912345678');
    // Opening the page (as a mail scanner would) changes nothing.
    expect(
      (await api('GET', `/tickets/${id}`, { token: stack.tokens.supervisor })).body.ticket.status,
    ).toBe('dispatched');

    const signed = await api('POST', `/replies/${replyId}`, { body: { action: 'sign' } });
    expect(signed.status, signed.text).toBe(200);
    const answered = await api('POST', `/replies/${replyId}`, {
      body: {
        action: 'reply',
        content: '已抢修管道，当日恢复供水。',
        resolved: true,
        basis: '《城市供水条例》第二十八条',
      },
    });
    expect(answered.status, answered.text).toBe(200);

    const closed = await eventually(async () => {
      const view = await api('GET', `/tickets/${id}`, { token: stack.tokens.supervisor });
      expect(view.body.ticket.status).toBe('closed');
      return view.body;
    });
    expect(closed.ticket).toMatchObject({ leadUnit: 'water-supply', reply: { resolved: true } });
    expect(closed.history.map((h: { event: string }) => h.event)).toEqual([
      'received',
      'dispatched',
      'signed',
      'replied',
      'closed',
    ]);
    // Who did each step, and the stage it moved the ticket between.
    expect(
      closed.history.map((h: { event: string; actor: object; from: string; to: string }) => [
        h.event,
        h.actor,
        h.from,
        h.to,
      ]),
    ).toEqual([
      ['received', { kind: 'operator', id: 'dev-operator' }, null, 'received'],
      ['dispatched', { kind: 'system', id: 'catalogue' }, 'received', 'dispatched'],
      [
        'signed',
        { kind: 'unit', id: 'link:water-supply', unitId: 'water-supply' },
        'dispatched',
        'handling',
      ],
      [
        'replied',
        { kind: 'unit', id: 'link:water-supply', unitId: 'water-supply' },
        'handling',
        'callback',
      ],
      ['closed', { kind: 'system', id: 'workflow' }, 'callback', 'closed'],
    ]);
    for (const entry of closed.history) {
      expect(entry.at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(entry.reason).toBeTruthy();
    }

    await stack.sfn.waitForIdle();
    const execution = await sfn.send(
      new DescribeExecutionCommand({
        executionArn: `${stack.lifecycleArn.replace(':stateMachine:', ':execution:')}:${id}`,
      }),
    );
    expect(execution.status).toBe('SUCCEEDED');
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: execution.executionArn }),
    );
    expect(history.events?.length).toBeGreaterThan(0);
  });

  it('refuses a reply link that was already used, writing nothing', async () => {
    const id = await fileTicket();
    const mail = await eventually(async () => {
      const [m] = mailsTo('water-supply@qingshan.example.gov.cn', id);
      expect(m).toBeDefined();
      return m!;
    });
    const replyId = replyIdFrom(mail.text);
    const reply = { action: 'reply', content: '已处理', resolved: true };
    expect((await api('POST', `/replies/${replyId}`, { body: { action: 'sign' } })).status).toBe(
      200,
    );
    expect((await api('POST', `/replies/${replyId}`, { body: reply })).status).toBe(200);
    const again = await api('POST', `/replies/${replyId}`, { body: reply });
    expect(again.status).toBe(410);
    expect(again.body.error.fields[0].field).toBe('replyId');
    const view = await api('GET', `/tickets/${id}`, { token: stack.tokens.supervisor });
    expect(view.body.history.filter((h: { event: string }) => h.event === 'replied')).toHaveLength(
      1,
    );
  });

  it('lets a unit see and answer only its own tickets', async () => {
    const id = await fileTicket();
    await eventually(async () =>
      expect(mailsTo('water-supply@qingshan.example.gov.cn', id)).toHaveLength(1),
    );
    const other = stack.tokens.units['power-supply']!;
    const own = stack.tokens.units['water-supply']!;

    const peek = await api('GET', `/tickets/${id}`, { token: other });
    expect(peek.status).toBe(403);
    const meddle = await api('POST', `/tickets/${id}/actions`, {
      token: other,
      body: { action: 'sign' },
    });
    expect(meddle.status).toBe(403);
    expect(meddle.body.error.fields[0].field).toBe('id');

    const queue = await api('GET', '/work-queue', { token: own });
    expect(queue.status).toBe(200);
    expect(queue.body.tickets.map((t: { id: string }) => t.id)).toContain(id);
    expect(JSON.stringify(queue.body)).not.toContain('caller');
    expect((await api('GET', '/work-queue?unit=water-supply', { token: other })).status).toBe(403);
    const supervised = await api('GET', '/work-queue?unit=water-supply', {
      token: stack.tokens.supervisor,
    });
    expect(supervised.body.tickets.map((t: { id: string }) => t.id)).toContain(id);

    const mine = await api('GET', `/tickets/${id}`, { token: own });
    expect(mine.status).toBe(200);
    expect(mine.body.ticket.caller).toEqual({ name: '李四' });

    expect(
      (await api('POST', `/tickets/${id}/actions`, { token: own, body: { action: 'sign' } }))
        .status,
    ).toBe(200);
    const answered = await api('POST', `/tickets/${id}/actions`, {
      token: own,
      body: { action: 'reply', content: '已恢复', resolved: true },
    });
    expect(answered.status, answered.text).toBe(200);
    await eventually(async () => {
      expect((await api('GET', `/tickets/${id}`, { token: own })).body.ticket.status).toBe(
        'closed',
      );
    });
  });
});

describe('bad input gets a 4xx naming the field, and nothing is written', () => {
  async function ticketCount(): Promise<number> {
    // Ticket numbers come from a daily counter: filing a valid ticket reveals how many were made.
    const id = await fileTicket();
    return Number(id.split('-')[1]);
  }

  it.each([
    ['malformed JSON', { raw: '{"content": ' }, 400, '(body)'],
    ['a missing field', { body: { ...newTicket, content: undefined } }, 400, 'content'],
    ['a wrong-typed field', { body: { ...newTicket, confidential: 'yes' } }, 400, 'confidential'],
    ['an unknown category', { body: { ...newTicket, category: '闲聊' } }, 400, 'category'],
    ['an unknown topic', { body: { ...newTicket, topic: 'ufo-sightings' } }, 400, 'topic'],
    [
      'an unknown township',
      { body: { ...newTicket, place: { district: 'qingshan', township: 'atlantis' } } },
      400,
      'place.township',
    ],
    ['an unexpected field', { body: { ...newTicket, priority: 'vip' } }, 400, '(body)'],
    ['an oversized body', { body: { ...newTicket, content: '水'.repeat(30_000) } }, 413, '(body)'],
    [
      'a wrong content type',
      { raw: JSON.stringify(newTicket), type: 'text/plain' },
      415,
      'content-type',
    ],
  ])('%s', async (_, request, status, field) => {
    const before = await ticketCount();
    const response = await api('POST', '/tickets', { token: stack.tokens.operator, ...request });
    expect(response.status, response.text).toBe(status);
    expect(response.body.error.message).toBeTruthy();
    expect(response.body.error.fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(response.text).not.toMatch(/at .*\.ts:\d+/);
    expect(await ticketCount()).toBe(before + 1);
  });

  it('refuses a missing or forged credential and a role that may not file', async () => {
    expect((await api('POST', '/tickets', { body: newTicket })).status).toBe(401);
    expect(
      (await api('POST', '/tickets', { token: 'dev.eyJzdWIiOiJ4In0.forged', body: newTicket }))
        .status,
    ).toBe(401);
    const unit = await api('POST', '/tickets', {
      token: stack.tokens.units['water-supply'],
      body: newTicket,
    });
    expect(unit.status).toBe(403);
    expect(unit.body.error.fields[0].field).toBe('authorization');
  });

  it('refuses reply ids that do not exist or are malformed', async () => {
    const unknown = await api('POST', `/replies/${'A'.repeat(32)}`, {
      body: { action: 'sign' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.fields[0].field).toBe('replyId');
    expect((await api('GET', '/replies/short')).status).toBe(400);
    expect(
      (await api('GET', '/tickets/not-a-ticket', { token: stack.tokens.supervisor })).status,
    ).toBe(400);
    expect(
      (await api('GET', '/tickets/20990101-000001', { token: stack.tokens.supervisor })).status,
    ).toBe(404);
  });
});

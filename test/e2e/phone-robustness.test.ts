/**
 * Issue 10 items 6–10 and issue 11 item 4, driven through HTTP against the local stack: phone
 * deliveries signed by the reference libraries, staff requests with development tokens.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shanghaiDate } from '#core/calendar';
import { STANDARD_WEBHOOK_EXAMPLES } from '#core/phone/events';
import { callerKey } from '#core/tickets';
import type { LocalStack } from '#local/stack';
import { type Api, apiClient, startTestStack } from '../support/local-stack.ts';

let stack: LocalStack;
let api: Api;
let documents: DynamoDBDocumentClient;
let secret: string;
const REPEAT_THRESHOLD = 3;

beforeAll(async () => {
  stack = await startTestStack({ lifecycleConfig: { repeatCallerThreshold: REPEAT_THRESHOLD } });
  api = apiClient(stack);
  secret = stack.phone.config.standard!.secrets[0]!;
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: stack.urls.dynamodb,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
});
afterAll(async () => stack?.close());

const table = () => process.env.TABLE_NAME!;
const newId = () => `msg_${randomBytes(8).toString('hex')}`;
const seconds = (d: Date) => String(Math.floor(d.getTime() / 1000));
let callers = 0;
/** A caller of their own per test, so that nothing is merged (并单) across tests. */
const newCaller = () =>
  `+86137${String(10_000_000 + ++callers + Math.floor(Math.random() * 9e6)).slice(-8)}`;

async function post(body: string, headers: Record<string, string>) {
  const response = await fetch(`${stack.urls.api}/webhooks/phone/standard`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {}
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  return { status: response.status, body: json as any, text };
}

/** Signed by `standardwebhooks`, or by `svix` when asked: both sign the same format. */
function signed(body: string, options: { id?: string; svix?: boolean } = {}) {
  const id = options.id ?? newId();
  const at = stack.clock.now();
  const signer = options.svix ? new SvixWebhook(secret) : new StandardWebhook(secret);
  return {
    'webhook-id': id,
    'webhook-timestamp': seconds(at),
    'webhook-signature': signer.sign(id, at, body),
  };
}

function completedCall(callId: string, callerNumber: string, ticket: Record<string, unknown> = {}) {
  const example = STANDARD_WEBHOOK_EXAMPLES['call.completed'];
  const now = stack.clock.now();
  return JSON.stringify({
    ...example,
    timestamp: now.toISOString(),
    data: {
      ...example.data,
      callId,
      callerNumber,
      startedAt: new Date(now.getTime() - 60_000).toISOString(),
      ticket: {
        ...example.data.ticket,
        callerPhone: callerNumber,
        topic: 'water-supply',
        place: { district: 'qingshan', township: 'dongcheng', address: '幸福小区3号楼' },
        ...ticket,
      },
    },
  });
}

async function contentlessEntries(phone: string): Promise<number> {
  const page = await documents.send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': `CALLER#${callerKey(phone)}`, ':sk': 'NOSUBSTANCE#' },
      ConsistentRead: true,
    }),
  );
  return page.Count ?? 0;
}

async function counter(): Promise<number> {
  const day = shanghaiDate(stack.clock.now()).replaceAll('-', '');
  const item = await documents.send(
    new GetCommand({
      TableName: table(),
      Key: { PK: 'COUNTER', SK: `TICKET#${day}` },
      ConsistentRead: true,
    }),
  );
  return Number(item.Item?.seq ?? 0);
}

describe('repeat callers (issue 10.7)', () => {
  it('counts a redelivered call.completed once: two real calls do not flag the caller', async () => {
    const phone = newCaller();
    const noSubstance = { content: '来电闲聊，无具体诉求', noSubstance: true };
    const first = completedCall(`call_${randomBytes(6).toString('hex')}`, phone, noSubstance);
    const filed = await post(first, signed(first));
    expect(filed.status, filed.text).toBe(200);
    // The sender redelivers the same call under new message ids (once signed by svix).
    for (const svix of [false, true, false]) {
      const again = await post(first, signed(first, { svix }));
      expect(again.status, again.text).toBe(200);
      expect(again.body.ticketIds).toEqual(filed.body.ticketIds);
    }
    expect(await contentlessEntries(phone)).toBe(1);

    const second = completedCall(`call_${randomBytes(6).toString('hex')}`, phone, {
      ...noSubstance,
      place: { district: 'qingshan', township: 'dongcheng', address: '另一处' },
      topic: 'gas',
    });
    const other = await post(second, signed(second));
    expect(other.status, other.text).toBe(200);
    expect(await contentlessEntries(phone)).toBe(2);
    const view = await api('GET', `/tickets/${other.body.ticketIds[0]}`, {
      token: stack.tokens.dispatcher,
    });
    expect(view.status).toBe(200);
    expect(view.body.ticket.flaggedRepeatCaller).toBeUndefined();
  });
});

describe('coordinates (issue 11.4)', () => {
  it('refuses lat/lng outside the region naming the field: no ticket number, no side record', async () => {
    const phone = newCaller().replace('+86', '');
    const before = await counter();
    for (const place of [
      { lat: 1e-131, lng: 120 },
      { lat: 30, lng: -1e-200 },
      { lat: -45, lng: 120 },
      { lat: 30, lng: 0 },
    ]) {
      const refused = await api('POST', '/tickets', {
        token: stack.tokens.operator,
        body: {
          caller: { phone },
          content: '无具体诉求',
          category: 'consultation',
          topic: 'water-supply',
          noSubstance: true,
          place: { district: 'qingshan', ...place },
        },
      });
      expect(refused.status, refused.text).toBe(400);
      const field = place.lat === 30 ? 'place.lng' : 'place.lat';
      expect(refused.body.error.fields.map((f: { field: string }) => f.field)).toEqual([field]);
    }
    expect(await counter()).toBe(before);
    expect(await contentlessEntries(phone)).toBe(0);

    const inside = await api('POST', '/tickets', {
      token: stack.tokens.operator,
      body: {
        caller: { phone },
        content: '停水',
        category: 'complaint',
        topic: 'water-supply',
        place: { district: 'qingshan', lat: 30.27, lng: 120.15 },
      },
    });
    expect(inside.status, inside.text).toBe(201);
  });
});

describe('error messages name the field, never echo the value (issue 10.10)', () => {
  const secretish = '13200000153';

  it('POST /tickets', async () => {
    const base = {
      content: '停水',
      category: 'complaint',
      topic: 'water-supply',
      place: { district: 'qingshan' },
    };
    const cases = [
      { ...base, topic: secretish },
      { ...base, place: { district: secretish } },
      { ...base, place: { district: 'qingshan', township: secretish } },
      { ...base, [secretish]: 'x' },
      { ...base, place: { district: 'qingshan', [secretish]: 1 } },
      { ...base, disposition: { kind: 'dispatch', [secretish]: 1 } },
    ];
    for (const body of cases) {
      const refused = await api('POST', '/tickets', { token: stack.tokens.operator, body });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.text).not.toContain(secretish);
      expect(refused.body.error.fields.length).toBeGreaterThan(0);
    }
    const topic = await api('POST', '/tickets', { token: stack.tokens.operator, body: cases[0] });
    expect(topic.body.error.fields).toEqual([
      { field: 'topic', problem: 'is not a topic in the catalogue' },
    ]);
    const wrongType = await api('POST', '/tickets', {
      token: stack.tokens.operator,
      raw: JSON.stringify(base),
      type: `text/${secretish}`,
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.text).not.toContain(secretish);
  });

  it('phone webhooks', async () => {
    for (const ticket of [
      { topic: secretish },
      { place: { district: secretish } },
      { disposition: { kind: 'dispatch', [secretish]: 1 } },
    ]) {
      const body = completedCall(`call_${randomBytes(6).toString('hex')}`, newCaller(), ticket);
      const refused = await post(body, signed(body));
      expect(refused.status, refused.text).toBe(400);
      expect(refused.text).not.toContain(secretish);
    }
    const unknown = await fetch(`${stack.urls.api}/webhooks/phone/${secretish}`, {
      method: 'POST',
      body: '{}',
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).not.toContain(secretish);
  });
});

describe('concurrent copies of one delivery (issue 10.9)', () => {
  const copies = 20;
  const deliverAll = async (body: string) => {
    const headers = signed(body);
    return Promise.all(Array.from({ length: copies }, () => post(body, headers)));
  };

  it('a call.completed with a ticket: one applies it, the other 19 say duplicate', async () => {
    const body = completedCall(`call_${randomBytes(6).toString('hex')}`, newCaller());
    const replies = await deliverAll(body);
    expect(replies.map((r) => r.status)).toEqual(Array(copies).fill(200));
    expect(replies.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    const applied = replies.find((r) => r.body.duplicate === false)!;
    const named = replies.flatMap((r) => r.body.ticketIds ?? []);
    expect(new Set(named)).toEqual(new Set(applied.body.ticketIds));
  });

  it('a call.missed: one applies it, the other 19 say duplicate', async () => {
    const missed = STANDARD_WEBHOOK_EXAMPLES['call.missed'];
    const body = JSON.stringify({
      ...missed,
      timestamp: stack.clock.now().toISOString(),
      data: { ...missed.data, callId: `call_${randomBytes(6).toString('hex')}` },
    });
    const replies = await deliverAll(body);
    expect(replies.map((r) => r.status)).toEqual(Array(copies).fill(200));
    expect(replies.filter((r) => r.body.duplicate === false)).toHaveLength(1);
  });
});

describe('call-backs (issue 10.8)', () => {
  const missedCall = (callId: string, at: Date) => {
    const missed = STANDARD_WEBHOOK_EXAMPLES['call.missed'];
    return JSON.stringify({
      ...missed,
      timestamp: at.toISOString(),
      data: { ...missed.data, callId },
    });
  };
  const listed = async (callId: string) => {
    const date = shanghaiDate(stack.clock.now());
    const list = await api('GET', `/callbacks?date=${date}`, { token: stack.tokens.operator });
    expect(list.status).toBe(200);
    return list.body.callbacks.filter((c: { callId: string }) => c.callId === callId);
  };

  it('lists one call once, however often it is re-sent under new ids and later times', async () => {
    const callId = `call_${randomBytes(6).toString('hex')}`;
    const at = stack.clock.now();
    for (const offset of [-120_000, -60_000, 0]) {
      const body = missedCall(callId, new Date(at.getTime() + offset));
      const sent = await post(body, signed(body, { svix: offset === -60_000 }));
      expect(sent.status, sent.text).toBe(200);
    }
    const entries = await listed(callId);
    expect(entries).toHaveLength(1);
    expect(entries[0].done).toBeUndefined();
  });

  it('lets an operator mark a call-back done (who, when, outcome), once', async () => {
    const callId = `call_${randomBytes(6).toString('hex')}`;
    const body = missedCall(callId, stack.clock.now());
    expect((await post(body, signed(body))).status).toBe(200);
    const path = `/callbacks/${callId}/done`;

    expect((await api('POST', path, { body: { outcome: 'reached' } })).status).toBe(401);
    const unit = await api('POST', path, {
      token: stack.tokens.units['water-supply'],
      body: { outcome: 'reached' },
    });
    expect(unit.status).toBe(403);
    const bad = await api('POST', path, {
      token: stack.tokens.operator,
      body: { outcome: 'maybe' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].field).toBe('outcome');
    const unknown = await api('POST', '/callbacks/call_nope/done', {
      token: stack.tokens.operator,
      body: { outcome: 'reached' },
    });
    expect(unknown.status).toBe(404);
    expect((await listed(callId))[0].done).toBeUndefined();

    const sentAt = stack.clock.nowMs();
    const done = await api('POST', path, {
      token: stack.tokens.operator,
      body: { outcome: 'reached', note: '已回拨，市民问题已转工单' },
    });
    const answeredAt = stack.clock.nowMs();
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ callId, provider: 'standard', done: { outcome: 'reached' } });
    const [entry] = await listed(callId);
    // Who: the subject of the operator's token; when: while the request ran, on the stack's clock.
    expect(entry.done).toMatchObject({
      by: 'dev-operator',
      outcome: 'reached',
      role: 'operator',
      note: '已回拨，市民问题已转工单',
    });
    expect(Date.parse(entry.done.at)).toBeGreaterThanOrEqual(sentAt);
    expect(Date.parse(entry.done.at)).toBeLessThanOrEqual(answeredAt);

    const again = await api('POST', path, {
      token: stack.tokens.dispatcher,
      body: { outcome: 'no_answer' },
    });
    expect(again.status).toBe(409);
    expect((await listed(callId))[0].done.outcome).toBe('reached');
  });
});

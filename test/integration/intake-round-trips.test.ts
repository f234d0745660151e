import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/dynamodb/client';
import { signStandardWebhook } from '#core/phone/standard-webhooks';
import type { LocalStack } from '#local/stack';
import { watchRequests } from '../../bench/lib/requests.ts';
import { postTicket, startTestStack } from '../support/local-stack.ts';

/**
 * What intake costs in DynamoDB requests (issue 12), counted on the handlers' own document client
 * while they run in this process (the same watch bench:intake uses): the request path of a phone
 * webhook and of POST /tickets, not the workflow the table's stream starts afterwards. Counts,
 * never times.
 */
let stack: LocalStack;
let webhook: ReturnType<typeof watchRequests>;
let create: ReturnType<typeof watchRequests>;

beforeAll(async () => {
  webhook = watchRequests(documentClient as never, 'phone-webhook');
  create = watchRequests(documentClient as never, 'create-ticket');
  stack = await startTestStack({ start: new Date('2026-11-17T02:00:00Z') });
}, 300_000);

afterAll(async () => {
  documentClient.middlewareStack.remove('benchWatch-phone-webhook');
  documentClient.middlewareStack.remove('benchWatch-create-ticket');
  await stack?.close();
});

async function counted<T>(watch: ReturnType<typeof watchRequests>, work: () => Promise<T>) {
  watch.recorded = [];
  watch.start(true);
  try {
    const result = await work();
    return { result, trips: watch.trips, commands: watch.recorded.map((r) => r.command) };
  } finally {
    watch.stop();
  }
}

const writes = (commands: string[]) =>
  commands.filter((c) => /^(PutItem|UpdateItem|DeleteItem|TransactWrite|BatchWrite)/.test(c));

let n = 0;
async function callCompleted(deliveryId = `msg_${randomBytes(6).toString('hex')}`) {
  n++;
  const body = JSON.stringify({
    type: 'call.completed',
    timestamp: stack.clock.now().toISOString(),
    data: {
      callId: `rt-${deliveryId}`,
      durationSeconds: 90,
      ticket: {
        // A caller and an address of their own: both duplicate searches run and find nothing.
        callerPhone: `+86135${String(n).padStart(8, '0')}`,
        content: '小区停水至今未恢复，请尽快处理。',
        category: 'complaint',
        topic: 'water-supply',
        place: { district: 'qingshan', township: 'dongcheng', address: `往返路${n}号` },
      },
    },
  });
  const headers = signStandardWebhook({
    id: deliveryId,
    timestamp: stack.clock.now(),
    body,
    secret: stack.phone.config.standard!.secrets[0]!,
  });
  const response = await fetch(stack.phone.webhooks.standard, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: (await response.json()) as { ticketIds?: string[] } };
}

describe('a phone webhook with the operator’s ticket', () => {
  it('answers after at most 3 sequential round trips and one transaction', async () => {
    // The first call also loads the catalogue into the container's cache.
    const cold = await counted(webhook, () => callCompleted());
    expect(cold.result.status).toBe(200);
    const warm = await counted(webhook, () => callCompleted());
    expect(warm.result.status).toBe(200);
    expect(warm.result.body.ticketIds).toHaveLength(1);
    console.log(
      `webhook: cold ${cold.trips.sequential} round trips (${cold.trips.calls} requests), warm ${warm.trips.sequential} (${warm.commands.join(' ')})`,
    );
    expect(warm.trips.sequential).toBeLessThanOrEqual(3);
    expect(cold.trips.sequential).toBeLessThanOrEqual(3);
    expect(warm.trips.transactions).toBe(1);
    expect(cold.trips.transactions).toBe(1);
  });

  it('writes nothing for a redelivery and answers after one round trip', async () => {
    const id = `msg_${randomBytes(6).toString('hex')}`;
    const first = await callCompleted(id);
    const again = await counted(webhook, () => callCompleted(id));
    expect(again.result.status).toBe(200);
    expect(again.result.body).toMatchObject({ duplicate: true });
    expect(first.body.ticketIds).toHaveLength(1);
    expect(writes(again.commands)).toEqual([]);
    expect(again.trips.sequential).toBe(1);
  });
});

describe('POST /tickets', () => {
  const intake = () => ({
    caller: { name: '钱七', phone: `136${String(10_000_000 + n++).slice(-8)}` },
    content: '小区门口路灯不亮',
    category: '求助',
    topic: 'heating',
    place: { district: 'qingshan', township: 'beiyuan', address: `北苑东路${n}号` },
  });
  const post = (body: unknown, key?: string) => postTicket(stack, body, key);

  it('stores a ticket with its Idempotency-Key in one transaction and no other write', async () => {
    await post(intake()); // the catalogue into the container's cache
    const keyed = await counted(create, () =>
      post(intake(), `rt-${randomBytes(6).toString('hex')}`),
    );
    expect(keyed.result.status).toBe(201);
    console.log(
      `POST /tickets with a key: ${keyed.trips.sequential} round trips (${keyed.commands.join(' ')})`,
    );
    expect(keyed.trips.transactions).toBe(1);
    // The ticket number's counter is the one write besides the transaction.
    expect(writes(keyed.commands)).toEqual(['UpdateItemCommand', 'TransactWriteItemsCommand']);
  });
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/dynamodb/client';
import { currentFunction } from '#adapters/function-env';
import { signStandardWebhook } from '#core/phone/standard-webhooks';
import type { LocalStack } from '#local/stack';
import { startTestStack } from '../support/local-stack.ts';

/**
 * What intake costs in DynamoDB requests (issue 12), counted on the handlers' own document client
 * while they run in this process: the request path of a phone webhook and of POST /tickets, not
 * the workflow the table's stream starts afterwards. Counts, never times.
 */
interface Call {
  command: string;
  /** Requests that start while none of this function's is in flight begin a new round trip. */
  round: number;
}

let stack: LocalStack;
let recording: string | undefined;
let calls: Call[] = [];
let inFlight = 0;
let rounds = 0;

beforeAll(async () => {
  documentClient.middlewareStack.add(
    (next, context) => async (args) => {
      if (!recording || currentFunction() !== recording) return next(args);
      if (inFlight === 0) rounds++;
      inFlight++;
      calls.push({ command: String(context.commandName), round: rounds });
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: 'initialize', name: 'countIntakeRoundTrips' },
  );
  stack = await startTestStack({ start: new Date('2026-11-17T02:00:00Z') });
}, 300_000);

afterAll(async () => {
  documentClient.middlewareStack.remove('countIntakeRoundTrips');
  await stack?.close();
});

async function counted<T>(fn: string, work: () => Promise<T>) {
  calls = [];
  rounds = 0;
  inFlight = 0;
  recording = fn;
  try {
    const result = await work();
    return { result, calls, rounds };
  } finally {
    recording = undefined;
  }
}

const transactions = (list: Call[]) => list.filter((c) => c.command.startsWith('TransactWrite'));
const writes = (list: Call[]) =>
  list.filter((c) => /^(PutItem|UpdateItem|DeleteItem|TransactWrite|BatchWrite)/.test(c.command));

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
    const cold = await counted('phone-webhook', () => callCompleted());
    expect(cold.result.status).toBe(200);
    const warm = await counted('phone-webhook', () => callCompleted());
    expect(warm.result.status).toBe(200);
    expect(warm.result.body.ticketIds).toHaveLength(1);
    console.log(
      `webhook: cold ${cold.rounds} round trips (${cold.calls.length} requests), warm ${warm.rounds} (${warm.calls.map((c) => `${c.round}:${c.command}`).join(' ')})`,
    );
    expect(warm.rounds).toBeLessThanOrEqual(3);
    expect(cold.rounds).toBeLessThanOrEqual(3);
    expect(transactions(warm.calls)).toHaveLength(1);
    expect(transactions(cold.calls)).toHaveLength(1);
  });

  it('writes nothing for a redelivery and answers after one round trip', async () => {
    const id = `msg_${randomBytes(6).toString('hex')}`;
    const first = await callCompleted(id);
    const again = await counted('phone-webhook', () => callCompleted(id));
    expect(again.result.status).toBe(200);
    expect(again.result.body).toMatchObject({ duplicate: true });
    expect(first.body.ticketIds).toHaveLength(1);
    expect(writes(again.calls)).toEqual([]);
    expect(again.rounds).toBe(1);
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
  const post = (body: unknown, key?: string) =>
    fetch(`${stack.urls.api}/tickets`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.tokens.operator}`,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));

  it('stores a ticket with its Idempotency-Key in one transaction and no other write', async () => {
    await post(intake()); // the catalogue into the container's cache
    const keyed = await counted('create-ticket', () =>
      post(intake(), `rt-${randomBytes(6).toString('hex')}`),
    );
    expect(keyed.result.status).toBe(201);
    console.log(
      `POST /tickets with a key: ${keyed.rounds} round trips (${keyed.calls.map((c) => `${c.round}:${c.command}`).join(' ')})`,
    );
    expect(transactions(keyed.calls)).toHaveLength(1);
    // The ticket number's counter is the one write besides the transaction.
    expect(writes(keyed.calls).map((c) => c.command)).toEqual([
      'UpdateItemCommand',
      'TransactWriteItemsCommand',
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticketDeps } from '#functions/lib/deps';
import { limitsOf } from '#functions/registry';
import { asFunction } from '#local/functions';
import type { LocalStack } from '#local/stack';
import { Throttle } from '#local/throttle';
import { type Api, apiClient, postTicket, startTestStack } from '../support/local-stack.ts';

/**
 * Overload levels off (issue #11, item 2): a client retry with the same Idempotency-Key files
 * nothing new, and the gateway answers 429 with Retry-After beyond the route's limits instead of
 * queueing into timeouts. Both fail before this change (every POST filed a ticket; no 429).
 */
let stack: LocalStack;
let api: Api;

beforeAll(async () => {
  stack = await startTestStack({ start: new Date('2026-11-16T02:00:00Z') });
  api = apiClient(stack);
}, 300_000);

afterAll(async () => {
  await stack?.close();
});

let callers = 0;
const intake = () => {
  callers++;
  return {
    caller: { name: '钱七', phone: `137${String(50_000_000 + callers).slice(-8)}` },
    content: '小区门口路灯不亮',
    category: '求助',
    topic: 'heating',
    place: { district: 'qingshan', township: 'beiyuan', address: `北苑东路${callers}号` },
  };
};

const post = (body: unknown, key?: string) => postTicket(stack, body, key);
/** A ticket id is its day and the day's sequence number: 20261116-000042. */
const seq = (id: string) => Number(id.slice(-6));
const withSeq = (id: string, n: number) => `${id.slice(0, -6)}${String(n).padStart(6, '0')}`;

describe('Idempotency-Key on POST /tickets', () => {
  it('answers a retry with the first 201 and files one ticket', async () => {
    const body = intake();
    const first = await post(body, 'retry-test-0001');
    expect(first.status).toBe(201);
    const again = await post(body, 'retry-test-0001');
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // The next ticket filed gets the very next number: the retry drew none and stored none.
    const next = await post(intake(), 'retry-test-0002');
    expect(Number(next.body.id.slice(-6))).toBe(Number(first.body.id.slice(-6)) + 1);
    await stack.sfn.waitForIdle();
    const view = await api('GET', `/tickets/${first.body.id}`, { token: stack.tokens.supervisor });
    expect(view.body.ticket.status).toBe('dispatched');
    expect(stack.ses.messages().filter((m) => m.subject.includes(first.body.id))).toHaveLength(1);
  });

  it('refuses the same key with another body, and a malformed key, naming the header', async () => {
    const first = await post(intake(), 'reuse-test-0001');
    expect(first.status).toBe(201);
    const other = await post(intake(), 'reuse-test-0001');
    expect(other.status).toBe(422);
    expect(other.body.error.fields[0].field).toBe('Idempotency-Key');
    const malformed = await post(intake(), 'bad key!');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.fields[0].field).toBe('Idempotency-Key');
  });

  it('stores the key with the ticket: a retry after the answer was lost replays it, files none', async () => {
    // The ticket and its key were written, then the function died before answering.
    const { store } = asFunction('create-ticket', () => ticketDeps());
    const save = store.save;
    store.save = async (...args) => {
      await save.apply(store, args);
      throw new Error('the function died after the write');
    };
    const body = intake();
    try {
      expect((await post(body, 'lost-answer-0001')).status).toBe(500);
    } finally {
      store.save = save;
    }
    const retry = await post(body, 'lost-answer-0001');
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const next = await post(intake(), 'lost-answer-0002');
    expect(Number(next.body.id.slice(-6))).toBe(Number(retry.body.id.slice(-6)) + 1);
  });

  it('answers two requests with one key at once with the same 201, one ticket', async () => {
    const before = await post(intake(), 'twice-before-0001');
    const body = intake();
    const both = await Promise.all([post(body, 'twice-test-0001'), post(body, 'twice-test-0001')]);
    expect(both.map((r) => r.status)).toEqual([201, 201]);
    expect(both[1]!.body).toEqual(both[0]!.body);
    // The request that lost the race drew a number and burnt it; nothing is stored under it. So
    // of the numbers drawn between the tickets filed before and after, only the answered one is
    // a ticket.
    const after = await post(intake(), 'twice-after-0001');
    const drawn = Array.from({ length: seq(after.body.id) - seq(before.body.id) - 1 }, (_, i) =>
      withSeq(before.body.id, seq(before.body.id) + 1 + i),
    );
    const found = [];
    for (const id of drawn) {
      const view = await api('GET', `/tickets/${id}`, { token: stack.tokens.supervisor });
      if (view.status !== 404) found.push({ id, status: view.status });
    }
    expect(found).toEqual([{ id: both[0]!.body.id, status: 200 }]);
  });

  it('frees the key of a refused request, so the corrected retry files the ticket', async () => {
    const refused = await post({ ...intake(), topic: 'no-such-topic' }, 'fix-test-0001');
    expect(refused.status).toBe(400);
    const fixed = await post(intake(), 'fix-test-0001');
    expect(fixed.status).toBe(201);
  });
});

describe('load shedding', () => {
  it('writes nothing and answers 429 when too little of the function time is left to store', async () => {
    const { handler } = await import('#functions/api/create-ticket');
    const event = {
      version: '2.0',
      routeKey: 'POST /tickets',
      rawPath: '/tickets',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(intake()),
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'POST', path: '/tickets' },
        authorizer: { jwt: { claims: { sub: 'op-late', 'hotline:role': 'operator' }, scopes: [] } },
      },
    };
    const late = { getRemainingTimeInMillis: () => 1_000, functionName: 'create-ticket' };
    // biome-ignore lint/suspicious/noExplicitAny: a hand-built API Gateway event and Lambda context
    const shed = (await handler(event as any, late as any)) as {
      statusCode: number;
      headers: Record<string, string>;
    };
    expect(shed.statusCode).toBe(429);
    expect(shed.headers['retry-after']).toBe('2');
    // The shed request drew a number but stored nothing under it.
    const next = await post(intake(), 'after-shed-0001');
    expect(next.status).toBe(201);
    const burnt = `${next.body.id.slice(0, 9)}${String(Number(next.body.id.slice(-6)) - 1).padStart(6, '0')}`;
    const view = await api('GET', `/tickets/${burnt}`, { token: stack.tokens.supervisor });
    expect(view.status).toBe(404);
  });
});

describe('throttling', () => {
  it('answers 429 with Retry-After beyond the route limits, and never a 5xx', async () => {
    const { rate, burst, concurrency } = limitsOf('POST /tickets');
    // Nothing posted for burst / rate seconds: the route's bucket is full again.
    await new Promise((resolve) => setTimeout(resolve, Math.ceil((burst / rate) * 1000)));
    // Bodies the handler refuses at once (400, nothing written): only the gateway's limits
    // count. Waves of half the reserved concurrency, each answered before the next, so only the
    // bucket refuses; they go on until it does.
    const wave = Math.floor(concurrency / 2);
    const statuses: number[] = [];
    const retryAfter = new Set<string | null>();
    const from = Date.now();
    while (!statuses.includes(429) && statuses.length < burst * 10) {
      const answers = await Promise.all(Array.from({ length: wave }, () => post({ content: '' })));
      for (const r of answers) {
        statuses.push(r.status);
        if (r.status === 429) retryAfter.add(r.headers.get('retry-after'));
      }
    }
    const seconds = (Date.now() - from) / 1000;
    expect(statuses.filter((s) => s !== 429 && s !== 400)).toEqual([]);
    expect(statuses).toContain(429);
    // A full bucket admits the whole burst; past it, only what refilled while the waves ran.
    const admitted = statuses.filter((s) => s === 400).length;
    expect(admitted).toBeGreaterThanOrEqual(burst);
    expect(admitted).toBeLessThanOrEqual(Math.floor(burst + rate * seconds));
    expect([...retryAfter]).toEqual([String(Math.max(1, Math.ceil(1 / rate)))]);
  });

  it('refills at the route rate and caps the burst (token bucket, as the HTTP API stage)', () => {
    let now = 0;
    const throttle = new Throttle(() => now);
    const admitted = () => {
      let n = 0;
      for (let i = 0; i < 1000; i++) {
        const a = throttle.admit('POST /tickets');
        if ('done' in a) {
          n++;
          a.done();
        }
      }
      return n;
    };
    expect(admitted()).toBe(80); // the burst
    now += 1000;
    expect(admitted()).toBe(40); // one second at 40/s
    now += 60_000;
    expect(admitted()).toBe(80); // never more than the burst
    const held = Array.from({ length: 25 }, () => throttle.admit('GET /stalled'));
    now += 60_000;
    // Reserved concurrency: the 51st at once is refused even with tokens left.
    const many = Array.from({ length: 60 }, () => throttle.admit('GET /metrics'));
    expect(many.filter((a) => 'retryAfter' in a)).toHaveLength(10);
    expect(held.every((a) => 'done' in a)).toBe(true);
  });
});

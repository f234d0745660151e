import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticketDeps } from '#functions/lib/deps';
import { asFunction, invocationCounts } from '#local/functions';
import type { LocalStack } from '#local/stack';
import { type Api, apiClient, startTestStack } from '../support/local-stack.ts';

/**
 * A step that keeps failing after its retries must not strand the ticket (issue #11, item 1): the
 * synthesized ASL's catch records it (history line, stalled index), GET /stalled lists it, and the
 * scheduled resume-stalled function starts a fresh execution that takes it to its dispatch mail.
 */
let stack: LocalStack;
let api: Api;
let sfn: SFNClient;
/** What Route's catalogue read does meanwhile: fail, hang, or work. */
let routing: 'fail' | 'hang' | 'work' = 'work';
/** Releases the attempts that hang: they fail, as a Lambda that ran out of time would. */
const hung: Array<() => void> = [];

beforeAll(async () => {
  stack = await startTestStack({ start: new Date('2026-11-16T02:00:00Z') });
  api = apiClient(stack);
  sfn = new SFNClient({
    endpoint: stack.urls.sfn,
    region: 'cn-north-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // The Route function's own container (each function has its own clients, as in Lambda).
  const catalogue = asFunction('route-ticket', () => ticketDeps().catalogue);
  const listUnits = catalogue.listUnits.bind(catalogue);
  // Only Route lists every unit: a fault here is a fault in that one step.
  catalogue.listUnits = async () => {
    if (routing === 'fail') throw new TypeError('catalogue item without a unit');
    if (routing === 'hang') {
      await new Promise<void>((_, reject) => hung.push(() => reject(new Error('Task timed out'))));
    }
    return listUnits();
  };
}, 120_000);

afterAll(async () => {
  for (const release of hung.splice(0)) release();
  await stack?.close();
});

const executionArn = (name: string) =>
  `${stack.lifecycleArn.replace(':stateMachine:', ':execution:')}:${name}`;
const statusOf = async (name: string) =>
  (await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(name) }))).status;

let callers = 0;
async function file(): Promise<string> {
  callers++;
  const created = await api('POST', '/tickets', {
    token: stack.tokens.operator,
    body: {
      caller: { name: '赵六', phone: `139${String(30_000_000 + callers).slice(-8)}` },
      content: '路灯不亮',
      category: '求助',
      topic: 'heating',
      place: { district: 'qingshan', township: 'beiyuan', address: `北苑路${callers}号` },
    },
  });
  expect(created.status, created.text).toBe(201);
  return created.body.id;
}

const stalledList = async () => {
  const listed = await api('GET', '/stalled', { token: stack.tokens.dispatcher });
  expect(listed.status, listed.text).toBe(200);
  return listed.body.tickets as Array<{ ticketId: string; failedState: string; error: string }>;
};
const history = async (id: string) =>
  (await api('GET', `/tickets/${id}`, { token: stack.tokens.supervisor })).body.history as Array<{
    event: string;
    reason: string;
  }>;
const dispatchMails = (id: string) =>
  stack.ses.messages().filter((m) => m.subject.includes(id) && m.subject.includes('派单'));

/** Until everything that can finish has finished: only the hanging attempt (if any) runs on. */
async function settle(): Promise<void> {
  for (;;) {
    if (hung.length > 0) return;
    try {
      return await stack.sfn.waitForIdle(300);
    } catch {
      // Still busy: look again.
    }
  }
}

/**
 * Moves the virtual clock a minute at a time until `check` passes: retries back off on that
 * clock, and a hanging attempt times out on it. The clock moves only while nothing but a hanging
 * attempt runs, so no working step is timed out by the test itself. A timed-out attempt's Lambda
 * is then released with an error, as its result is ignored anyway.
 */
async function advanceUntil<T>(check: () => Promise<T>): Promise<T> {
  for (let step = 0; ; step++) {
    try {
      return await check();
    } catch (error) {
      if (step > 60) throw error;
    }
    await settle();
    // Only the attempts hanging now time out with this step; one that starts meanwhile (the clock
    // also runs in real time) waits for the next.
    const timingOut = hung.splice(0);
    stack.clock.advance(61_000);
    await new Promise((r) => setTimeout(r, 20));
    for (const release of timingOut) release();
  }
}

async function expectStalledThenResumed(id: string, error: string) {
  const stall = await advanceUntil(async () => {
    const found = (await stalledList()).find((s) => s.ticketId === id);
    expect(found).toBeDefined();
    return found!;
  });
  expect(stall).toMatchObject({ failedState: 'Route', error });
  expect(await statusOf(id)).toBe('FAILED');
  const stalledLine = (await history(id)).find((h) => h.event === 'stalled');
  expect(stalledLine?.reason).toContain(`Route failed (${error})`);
  expect(dispatchMails(id)).toHaveLength(0);
  // A unit is not shown the centre's stalled list.
  const asUnit = await api('GET', '/stalled', { token: stack.tokens.units['water-supply'] });
  expect(asUnit.status).toBe(403);

  routing = 'work';
  // The schedule (every five minutes) resumes it once due: a new execution, a fresh name.
  await advanceUntil(async () => {
    expect(dispatchMails(id)).toHaveLength(1);
  });
  await stack.sfn.waitForIdle();
  expect(await statusOf(`${id}-r1`)).toBe('RUNNING');
  expect((await stalledList()).map((s) => s.ticketId)).not.toContain(id);
  const events = (await history(id)).map((h) => h.event);
  expect(events).toEqual(['received', 'stalled', 'dispatched']);
}

describe('a step that fails after its retries', () => {
  it('stalls the ticket on a handler error, lists it, and resumes it to its dispatch', async () => {
    routing = 'fail';
    const id = await file();
    await expectStalledThenResumed(id, 'TypeError');
  });

  it('stalls the ticket when the step times out, lists it, and resumes it to its dispatch', async () => {
    routing = 'hang';
    const id = await file();
    await expectStalledThenResumed(id, 'States.Timeout');
  });
});

describe('the schedule on the virtual clock', () => {
  it('runs resume-stalled once for each due time the clock passes: idle waits for the run', async () => {
    routing = 'work';
    await stack.sfn.waitForIdle();
    const runs = () => invocationCounts().get('resume-stalled') ?? 0;
    const before = runs();
    // A run still in flight when the clock moves on would miss the next due time.
    for (let step = 0; step < 10; step++) {
      stack.clock.advance(5 * 60_000);
      await stack.sfn.waitForIdle();
    }
    expect(runs() - before).toBe(10);
  });
});

import {
  DescribeExecutionCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '#local/clock';
import { type LocalStepFunctions, startLocalStepFunctions } from '#local/stepfunctions/server';
import { LOCAL_REGION, synthesizeLocal } from '#local/synth';

/**
 * The synthesized lifecycle ASL on the local engine with stand-in functions (the Lambda port
 * only), checked against what AWS documents for Retry and Catch (issue #10, items 12 and 13):
 * the n-th retry waits IntervalSeconds × BackoffRate^(n-1), capped by MaxDelaySeconds, and with
 * JitterStrategy FULL a random time up to that; MaxAttempts retries per retrier, then the Catch;
 * TimeoutSecondsPath read from the state input; a Choice with no match stalling at UnknownStep;
 * each task's output (the next step) deciding the next state.
 */
type Fake = (payload: Record<string, unknown>) => unknown;
const fakes = new Map<string, Fake>();
const calls: Array<{ key: string; at: number; payload: Record<string, unknown> }> = [];
const clock = new VirtualClock({ start: new Date('2026-11-16T02:00:00Z'), speed: 0 });
let sfn: LocalStepFunctions;
let client: SFNClient;
let lifecycleArn: string;

beforeAll(async () => {
  const assembly = synthesizeLocal();
  const lifecycle = assembly.stateMachines.find((m) => m.logicalId === 'TicketLifecycle')!;
  lifecycleArn = lifecycle.arn;
  sfn = await startLocalStepFunctions({
    clock,
    region: LOCAL_REGION,
    stateMachines: [{ name: lifecycle.name, arn: lifecycle.arn, definition: lifecycle.definition }],
    invokeLambda: async (arn, payload) => {
      const key = assembly.functionsByArn.get(arn)!;
      calls.push({ key, at: clock.nowMs(), payload: payload as Record<string, unknown> });
      const fake = fakes.get(key);
      if (!fake) throw new Error(`no stand-in for ${key}`);
      return fake(payload as Record<string, unknown>) as never;
    },
  });
  client = new SFNClient({
    endpoint: sfn.url,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}, 120_000);

afterAll(async () => {
  await sfn?.close();
});

beforeEach(() => {
  fakes.clear();
  calls.length = 0;
});

const failing = (name: string) => {
  const error = new Error('stand-in failure');
  error.name = name;
  return error;
};
let runs = 0;
async function run(): Promise<string> {
  const { executionArn } = await client.send(
    new StartExecutionCommand({
      stateMachineArn: lifecycleArn,
      name: `asl-${++runs}`,
      input: JSON.stringify({ ticketId: `20261116-${String(runs).padStart(6, '0')}` }),
    }),
  );
  return executionArn!;
}
/** Moves the clock a second at a time until the execution ends (retries wait on this clock). */
async function finish(arn: string, maxSeconds = 2_000) {
  for (let s = 0; s < maxSeconds; s++) {
    await sfn.waitForIdle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (described.status !== 'RUNNING') return described;
    clock.advance(1000);
  }
  throw new Error('still running');
}
const times = (key: string) => calls.filter((c) => c.key === key).map((c) => c.at);
const gaps = (at: number[]) => at.slice(1).map((t, i) => (t - at[i]!) / 1000);
const stepIs = (kind: string, extra: object = {}) => ({ kind, ...extra });

describe('the lifecycle ASL as AWS documents Retry and Catch', () => {
  it('stalls the ticket at UnknownStep when a step comes back that no branch knows', async () => {
    fakes.set('next-step', () => stepIs('teleport'));
    fakes.set('stall-ticket', (p) => ({ ticketId: p.ticketId }));
    const ended = await finish(await run());
    expect(ended.status).toBe('FAILED');
    expect(ended.error).toBe('TicketStalled');
    expect(calls.find((c) => c.key === 'stall-ticket')!.payload).toMatchObject({
      failedState: 'WhichStep',
      failure: { Error: 'UnknownStep' },
    });
  });

  it("retries NextStep's States.TaskFailed after 2 s and 4 s (interval 2, back-off 2), then goes on", async () => {
    let n = 0;
    fakes.set('next-step', () => {
      if (++n <= 2) throw failing('TypeError');
      return stepIs('done');
    });
    const ended = await finish(await run());
    expect(ended.status).toBe('SUCCEEDED');
    expect(gaps(times('next-step'))).toEqual([2, 4]);
  });

  it('gives a step error MaxAttempts 4 jittered retries capped as documented, then catches into MarkStalled', async () => {
    let next = 0;
    fakes.set('next-step', () => (next++ === 0 ? stepIs('route') : stepIs('done')));
    fakes.set('route-ticket', () => {
      throw failing('TypeError');
    });
    fakes.set('stall-ticket', (p) => ({ ticketId: p.ticketId }));
    const ended = await finish(await run());
    expect(ended.status).toBe('FAILED');
    expect(ended.error).toBe('TicketStalled');
    const waits = gaps(times('route-ticket'));
    expect(waits).toHaveLength(4);
    // FULL jitter: the n-th wait is random in [0, min(5 × 3^(n-1), 300)] seconds (±1 s of steps).
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(0);
      expect(w).toBeLessThanOrEqual(Math.min(5 * 3 ** i, 300) + 1);
    });
    const stall = calls.find((c) => c.key === 'stall-ticket')!;
    expect(stall.payload).toMatchObject({
      failedState: 'Route',
      failure: { Error: 'TypeError' },
    });
  });

  it('retries throttling (Lambda.TooManyRequestsException) eight times before the catch', async () => {
    fakes.set('next-step', () => stepIs('chase'));
    fakes.set('chase-ticket', () => {
      throw failing('Lambda.TooManyRequestsException');
    });
    fakes.set('stall-ticket', (p) => ({ ticketId: p.ticketId }));
    const ended = await finish(await run());
    expect(ended.error).toBe('TicketStalled');
    expect(times('chase-ticket')).toHaveLength(9);
    gaps(times('chase-ticket')).forEach((w, i) => {
      expect(w).toBeLessThanOrEqual(Math.min(2 ** i, 60) + 1);
    });
    expect(calls.find((c) => c.key === 'stall-ticket')!.payload).toMatchObject({
      failedState: 'Chase',
      failure: { Error: 'Lambda.TooManyRequestsException' },
    });
  });

  it('times a callback out after TimeoutSecondsPath seconds of its input and catches it into Chase', async () => {
    let next = 0;
    fakes.set('next-step', () =>
      next++ === 0 ? stepIs('await_unit', { timeoutSeconds: 3600, version: 3 }) : stepIs('done'),
    );
    fakes.set('await-unit', () => ({})); // stores the token; nobody answers
    fakes.set('chase-ticket', () => stepIs('done'));
    const arn = await run();
    await sfn.waitForIdle();
    const started = clock.nowMs();
    clock.advance(3599_000);
    await sfn.waitForIdle();
    expect(times('chase-ticket')).toHaveLength(0);
    const ended = await finish(arn);
    expect(ended.status).toBe('SUCCEEDED');
    // The deadline is what the timeout was set to: Chase records it, no NextStep in between.
    expect((times('chase-ticket')[0]! - started) / 1000).toBe(3600);
    expect(times('next-step')).toHaveLength(1);
    // A deadline is not a failure: no retry of the callback, no stall.
    expect(times('await-unit')).toHaveLength(1);
    expect(times('stall-ticket')).toHaveLength(0);
    // The waiting task is told the step it was sent with (the version it was decided on).
    expect(calls.find((c) => c.key === 'await-unit')!.payload).toMatchObject({
      step: { kind: 'await_unit', version: 3 },
    });
  });
});

describe('the next step travels with the execution', () => {
  it('goes from each task to the step it returns, without NextStep', async () => {
    fakes.set('route-ticket', () => stepIs('chase'));
    fakes.set('chase-ticket', () => stepIs('close'));
    fakes.set('close-ticket', () => stepIs('done'));
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn: lifecycleArn,
        name: `asl-${++runs}`,
        input: JSON.stringify({ ticketId: '20261116-000900', step: stepIs('route') }),
      }),
    );
    const ended = await finish(executionArn!);
    expect(ended.status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.key)).toEqual(['route-ticket', 'chase-ticket', 'close-ticket']);
    // WhichStep, Route, WhichStep, Chase, WhichStep, Close, WhichStep, Closed.
    expect(sfn.stats(executionArn!)).toEqual({ stateTransitions: 8, lambdaInvocations: 3 });
  });

  it('reads the ticket (NextStep) when an execution starts without a step or a waker sends none', async () => {
    let next = 0;
    fakes.set('next-step', () =>
      next++ === 0 ? stepIs('await_centre', { timeoutSeconds: 3600, version: 1 }) : stepIs('done'),
    );
    let token = '';
    fakes.set('await-centre', (p) => {
      token = String(p.taskToken);
      return {};
    });
    const arn = await run();
    await sfn.waitForIdle();
    // An older waker answers with no step: the workflow reads the ticket again.
    await client.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ ticketId: 'x' }) }),
    );
    const ended = await finish(arn);
    expect(ended.status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.key)).toEqual(['next-step', 'await-centre', 'next-step']);
  });
});

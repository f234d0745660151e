import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeLocal } from '#local/synth';

/**
 * The bulletin run's Retry and Choice rules as synthesized from the CDK app, with each Lambda task
 * replaced by a local handler at the task boundary (aws-local-stepfunctions overrides), so that the
 * failures no local service can be made to produce on cue are executed: Notify's TaskFailed retry,
 * and Publish's refusal to retry IssueNumberTakenError and ConflictError.
 */
let definition: Record<string, unknown>;

beforeAll(() => {
  const machine = synthesizeLocal().stateMachines.find((m) => m.logicalId === 'BulletinRun');
  if (!machine) throw new Error('no BulletinRun state machine in the CDK app');
  definition = machine.definition;
}, 120_000);

class NamedError extends Error {
  constructor(name: string, message = name) {
    super(message);
    this.name = name;
  }
}

type Handler = (input: unknown) => unknown;

async function execute(overrides: Record<string, Handler>) {
  const calls: Record<string, number> = {};
  const counted = (name: string, fn: Handler) => async (input: unknown) => {
    calls[name] = (calls[name] ?? 0) + 1;
    return fn(input);
  };
  const handlers: Record<string, Handler> = {
    Collect: () => ({ count: 2, ticketIds: ['20261110-000001', '20261110-000002'] }),
    Draft: () => ({ draftId: 'd'.repeat(32), issueNumber: 5, totalCases: 2, held: 0 }),
    CheckPrivacy: () => ({ clean: true }),
    AwaitApproval: () => ({ decision: 'approve' }),
    Publish: () => ({ issueNumber: 5, totalCases: 2, url: 'https://example.gov.cn/5.html' }),
    Notify: () => ({ notified: 1 }),
    ...overrides,
  };
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: false },
  });
  const run = machine.run(
    {},
    {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(
          Object.entries(handlers).map(([name, fn]) => [name, counted(name, fn)]),
        ) as never,
        retryIntervalOverrides: { Publish: 0, Notify: 0 },
      },
      // AwaitApproval passes its task token to the handler; the override answers for the reviewer.
      context: { Task: { Token: 'local-task-token' } } as never,
    },
  );
  const events: { type: string; state?: { name: string } }[] = [];
  const consumed = (async () => {
    for await (const e of run.eventLogs) events.push(e);
  })();
  let outcome: { ok: true; output: unknown } | { ok: false; error: Error };
  try {
    outcome = { ok: true, output: await run.result };
  } catch (error) {
    outcome = { ok: false, error: error as Error };
  }
  await consumed;
  const entered = events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name);
  return { outcome, calls, entered };
}

describe('the bulletin ASL: retries and held cases', () => {
  it('retries a failed Notify and mails once the retry succeeds', async () => {
    let attempts = 0;
    const { outcome, calls } = await execute({
      Notify: () => {
        attempts++;
        if (attempts === 1) throw new NamedError('Error', 'SES endpoint unreachable');
        return { notified: 1 };
      },
    });
    expect(outcome.ok).toBe(true);
    expect(calls.Notify).toBe(2);
    expect(calls.Publish).toBe(1);
  });

  it('gives up on Notify after its retries (1 + 3 attempts)', async () => {
    const { outcome, calls } = await execute({
      Notify: () => {
        throw new NamedError('Error', 'SES endpoint unreachable');
      },
    });
    expect(outcome.ok).toBe(false);
    expect(calls.Notify).toBe(4);
  });

  it.each(['IssueNumberTakenError', 'ConflictError'])(
    'never retries Publish on %s: the run stops and nobody is notified',
    async (name) => {
      const { outcome, calls } = await execute({
        Publish: () => {
          throw new NamedError(name);
        },
      });
      expect(outcome.ok).toBe(false);
      const cause = outcome.ok ? undefined : (outcome.error.cause as Error | undefined);
      expect(cause?.name).toBe(name);
      expect(calls.Publish).toBe(1);
      expect(calls.Notify).toBeUndefined();
    },
  );

  it('retries Publish on any other failure', async () => {
    let attempts = 0;
    const { outcome, calls } = await execute({
      Publish: () => {
        if (++attempts < 3) throw new NamedError('S3ServiceException');
        return { issueNumber: 5, totalCases: 2, url: 'https://example.gov.cn/5.html' };
      },
    });
    expect(outcome.ok).toBe(true);
    expect(calls.Publish).toBe(3);
    expect(calls.Notify).toBe(1);
  });

  it('ends without a privacy check or an approval when the Draft step held every case', async () => {
    const { outcome, entered } = await execute({
      Draft: () => ({ totalCases: 0, held: 2 }),
    });
    expect(outcome.ok).toBe(true);
    expect(entered).toContain('AllHeld');
    expect(entered).not.toContain('CheckPrivacy');
    expect(entered).not.toContain('AwaitApproval');
  });
});

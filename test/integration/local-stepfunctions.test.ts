import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  InvalidOutput,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '#local/clock';
import {
  DefinitionError,
  type LocalStateMachine,
  type LocalStepFunctions,
  startLocalStepFunctions,
} from '#local/stepfunctions/server';

const REGION = 'cn-north-1';
const ACCOUNT = '111122223333';
const HOUR = 3600_000;
const fn = (name: string) => `arn:aws-cn:lambda:${REGION}:${ACCOUNT}:function:${name}`;
const machineArn = (name: string) => `arn:aws-cn:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;

/** A reply step as CDK's LambdaInvoke with IntegrationPattern.WAIT_FOR_TASK_TOKEN writes it. */
const awaitReply = (stage: string, extra: object) => ({
  Type: 'Task',
  Resource: 'arn:aws-cn:states:::lambda:invoke.waitForTaskToken',
  Parameters: {
    FunctionName: fn('notify'),
    Payload: { 'ticketId.$': '$.ticketId', 'token.$': '$$.Task.Token', stage },
  },
  ResultPath: '$.reply',
  ...extra,
});

const machines: LocalStateMachine[] = [
  {
    name: 'Greeting',
    arn: machineArn('Greeting'),
    definition: {
      StartAt: 'Greet',
      States: {
        Greet: { Type: 'Task', Resource: fn('greet'), ResultPath: '$.greeting', Next: 'Done' },
        Done: { Type: 'Pass', End: true },
      },
    },
  },
  {
    name: 'Invoke',
    arn: machineArn('Invoke'),
    definition: {
      StartAt: 'Greet',
      States: {
        Greet: {
          Type: 'Task',
          Resource: 'arn:aws-cn:states:::lambda:invoke',
          Parameters: { FunctionName: 'greet', 'Payload.$': '$' },
          End: true,
        },
      },
    },
  },
  {
    name: 'Ticket',
    arn: machineArn('Ticket'),
    definition: {
      StartAt: 'AwaitReply',
      States: {
        AwaitReply: awaitReply('first', {
          TimeoutSecondsPath: '$.replySeconds',
          Catch: [
            {
              ErrorEquals: ['States.Timeout'],
              ResultPath: '$.timeout',
              Next: 'AwaitAfterReminder',
            },
            { ErrorEquals: ['Rejected'], ResultPath: '$.failure', Next: 'Rejected' },
          ],
          Next: 'Done',
        }),
        AwaitAfterReminder: awaitReply('reminder', {
          TimeoutSeconds: 72 * 3600,
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.escalation', Next: 'Escalated' }],
          Next: 'Done',
        }),
        Done: { Type: 'Succeed' },
        Rejected: { Type: 'Pass', End: true },
        Escalated: { Type: 'Pass', End: true },
      },
    },
  },
  {
    name: 'Heartbeat',
    arn: machineArn('Heartbeat'),
    definition: {
      StartAt: 'AwaitReply',
      States: {
        AwaitReply: awaitReply('first', {
          HeartbeatSeconds: 60,
          TimeoutSeconds: 3600,
          Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'Late' }],
          End: true,
        }),
        Late: { Type: 'Pass', End: true },
      },
    },
  },
  {
    name: 'TaskFailedOnly',
    arn: machineArn('TaskFailedOnly'),
    definition: {
      StartAt: 'AwaitReply',
      States: {
        AwaitReply: awaitReply('first', {
          TimeoutSeconds: 10,
          Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }],
          End: true,
        }),
        Caught: { Type: 'Pass', End: true },
      },
    },
  },
  {
    name: 'Flaky',
    arn: machineArn('Flaky'),
    definition: {
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: fn('flaky'),
          Retry: [
            {
              ErrorEquals: ['Lambda.ServiceException'],
              IntervalSeconds: 60,
              MaxAttempts: 3,
              BackoffRate: 2,
            },
          ],
          Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Failed' }],
          End: true,
        },
        Failed: { Type: 'Pass', End: true },
      },
    },
  },
  {
    name: 'Sleepy',
    arn: machineArn('Sleepy'),
    definition: {
      StartAt: 'Which',
      States: {
        Which: {
          Type: 'Choice',
          Choices: [{ Variable: '$.until', IsPresent: true, Next: 'WaitUntil' }],
          Default: 'WaitFor',
        },
        WaitFor: { Type: 'Wait', SecondsPath: '$.delay', Next: 'Woken' },
        WaitUntil: { Type: 'Wait', TimestampPath: '$.until', Next: 'Woken' },
        Woken: {
          Type: 'Pass',
          Parameters: {
            'state.$': '$$.State.Name',
            'enteredTime.$': '$$.State.EnteredTime',
            'startTime.$': '$$.Execution.StartTime',
            'executionName.$': '$$.Execution.Name',
            'machine.$': '$$.StateMachine.Name',
          },
          End: true,
        },
      },
    },
  },
  {
    name: 'Deadline',
    arn: machineArn('Deadline'),
    definition: {
      TimeoutSeconds: 600,
      StartAt: 'Nap',
      States: { Nap: { Type: 'Wait', Seconds: 3600, End: true } },
    },
  },
  {
    name: 'Fanout',
    arn: machineArn('Fanout'),
    definition: {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ResultPath: '$.doubled',
          ItemProcessor: {
            StartAt: 'Double',
            States: {
              Double: { Type: 'Task', Resource: fn('double'), End: true },
            },
          },
          Next: 'Both',
        },
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Left', States: { Left: awaitReply('left', { End: true }) } },
            { StartAt: 'Right', States: { Right: awaitReply('right', { End: true }) } },
          ],
          End: true,
        },
      },
    },
  },
];

type Lambda = (payload: unknown) => unknown;
interface Notification {
  ticketId: string;
  token: string;
  stage: string;
}

let server: LocalStepFunctions;
let sfn: SFNClient;
const clock = new VirtualClock({ start: new Date('2026-03-02T01:00:00Z') });
const lambdas = new Map<string, Lambda>();
const invoked: { arn: string; payload: unknown }[] = [];
let notifications: Notification[] = [];
let notificationWaiters: (() => void)[] = [];

beforeAll(async () => {
  server = await startLocalStepFunctions({
    clock,
    stateMachines: machines,
    region: REGION,
    accountId: ACCOUNT,
    invokeLambda: async (arn, payload) => {
      invoked.push({ arn, payload });
      const lambda = lambdas.get(arn.split(':')[6] ?? '');
      if (!lambda) throw new Error(`no fake for ${arn}`);
      return lambda(payload);
    },
  });
  sfn = new SFNClient({
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  sfn?.destroy();
  await server?.close();
  clock.stop();
});

beforeEach(() => {
  lambdas.clear();
  invoked.length = 0;
  notifications = [];
  notificationWaiters = [];
  lambdas.set('greet', (payload) => `你好, ${(payload as { name: string }).name}`);
  lambdas.set('double', (payload) => (payload as number) * 2);
  lambdas.set('notify', (payload) => {
    notifications.push(payload as Notification);
    for (const wake of notificationWaiters.splice(0)) wake();
    return { sent: true };
  });
});

/** Resolves with the `count`-th notification of this test (1-based). */
async function notification(count: number): Promise<Notification> {
  while (notifications.length < count) {
    await new Promise<void>((resolve) => notificationWaiters.push(resolve));
  }
  return notifications[count - 1]!;
}

async function start(machine: string, input: object, name?: string) {
  const { executionArn, startDate } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: machineArn(machine),
      input: JSON.stringify(input),
      ...(name ? { name } : {}),
    }),
  );
  return { executionArn: executionArn!, startDate: startDate! };
}

async function describeSettled(executionArn: string) {
  await server.waitForIdle();
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const { events } = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
  );
  return events ?? [];
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('local Step Functions endpoint', () => {
  it('runs a Lambda task and reports it through Describe, History and List', async () => {
    const { executionArn, startDate } = await start('Greeting', { name: '王女士' }, 'greet-1');

    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!)).toEqual({ name: '王女士', greeting: '你好, 王女士' });
    expect(described.startDate).toEqual(startDate);
    expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(startDate.getTime());
    expect(described.name).toBe('greet-1');
    expect(invoked).toEqual([{ arn: fn('greet'), payload: { name: '王女士' } }]);

    const events = await history(executionArn);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events[1]!.stateEnteredEventDetails).toMatchObject({ name: 'Greet' });
    expect(events[2]!.lambdaFunctionScheduledEventDetails).toMatchObject({ resource: fn('greet') });
    expect(JSON.parse(events[4]!.lambdaFunctionSucceededEventDetails!.output!)).toBe(
      '你好, 王女士',
    );
    expect(events[0]!.timestamp).toBeInstanceOf(Date);

    const page1 = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 4, reverseOrder: true }),
    );
    expect(page1.events!.map((e) => e.id)).toEqual([9, 8, 7, 6]);
    const page2 = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 4,
        reverseOrder: true,
        nextToken: page1.nextToken!,
      }),
    );
    expect(page2.events!.map((e) => e.id)).toEqual([5, 4, 3, 2]);

    const listed = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: machineArn('Greeting'),
        statusFilter: 'SUCCEEDED',
      }),
    );
    expect(listed.executions!.map((e) => e.executionArn)).toContain(executionArn);
    expect(server.stats(executionArn)).toEqual({ stateTransitions: 2, lambdaInvocations: 1 });
  });

  it('wraps a lambda:invoke result as the Invoke API response', async () => {
    const { executionArn } = await start('Invoke', { name: '李先生' });
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!)).toMatchObject({
      ExecutedVersion: '$LATEST',
      Payload: '你好, 李先生',
      StatusCode: 200,
    });
    // A bare function name resolves in the endpoint's region, account and partition.
    expect(invoked[0]!.arn).toBe(fn('greet'));
    expect((await history(executionArn)).map((e) => e.type)).toContain('TaskSucceeded');
  });

  it('starts idempotently by name, like a Standard workflow', async () => {
    const first = await start('Ticket', { ticketId: 'T-1', replySeconds: 3600 }, 'ticket-T-1');
    const again = await start('Ticket', { replySeconds: 3600, ticketId: 'T-1' }, 'ticket-T-1');
    expect(again).toEqual(first);

    const clash = await rejection(
      start('Ticket', { ticketId: 'T-2', replySeconds: 60 }, 'ticket-T-1'),
    );
    expect(clash).toBeInstanceOf(ExecutionAlreadyExists);

    const { token } = await notification(1);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
    expect((await describeSettled(first.executionArn)).status).toBe('SUCCEEDED');
    // A closed execution's name stays taken.
    const closed = await rejection(
      start('Ticket', { ticketId: 'T-1', replySeconds: 3600 }, 'ticket-T-1'),
    );
    expect(closed.name).toBe('ExecutionAlreadyExists');
    expect(notifications).toHaveLength(1);
  });

  it('resumes a waitForTaskToken task with the output of SendTaskSuccess', async () => {
    const { executionArn } = await start('Ticket', { ticketId: 'T-3', replySeconds: 3600 });
    const sent = await notification(1);
    expect(sent).toMatchObject({ ticketId: 'T-3', stage: 'first' });
    expect(sent.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);

    await server.waitForIdle();
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
    await sfn.send(
      new SendTaskSuccessCommand({
        taskToken: sent.token,
        output: JSON.stringify({ reply: '已处理' }),
      }),
    );

    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!).reply).toEqual({ reply: '已处理' });
    const types = (await history(executionArn)).map((e) => e.type);
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);

    // The token died with its task.
    const late = await rejection(
      sfn.send(new SendTaskSuccessCommand({ taskToken: sent.token, output: '{}' })),
    );
    expect(late).toBeInstanceOf(TaskTimedOut);
  });

  it('routes SendTaskFailure to the Catch that names its error', async () => {
    const { executionArn } = await start('Ticket', { ticketId: 'T-4', replySeconds: 3600 });
    const { token } = await notification(1);
    await sfn.send(
      new SendTaskFailureCommand({ taskToken: token, error: 'Rejected', cause: '不属于本单位' }),
    );
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!).failure).toEqual({
      Error: 'Rejected',
      Cause: '不属于本单位',
    });
    const failed = (await history(executionArn)).find((e) => e.type === 'TaskFailed');
    expect(failed?.taskFailedEventDetails).toMatchObject({
      error: 'Rejected',
      cause: '不属于本单位',
    });
  });

  it('times out on the virtual clock: TimeoutSecondsPath, then a 72-hour TimeoutSeconds', async () => {
    const { executionArn } = await start('Ticket', { ticketId: 'T-5', replySeconds: 7200 });
    const first = await notification(1);

    await server.waitForIdle();
    clock.advance(7200_000 - 5_000);
    await server.waitForIdle();
    expect(notifications).toHaveLength(1);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    clock.advance(5_000);
    const reminder = await notification(2);
    expect(reminder.stage).toBe('reminder');
    expect(reminder.token).not.toBe(first.token);

    const late = await rejection(
      sfn.send(new SendTaskSuccessCommand({ taskToken: first.token, output: '{"late":true}' })),
    );
    expect(late).toBeInstanceOf(TaskTimedOut);
    expect(late.name).toBe('TaskTimedOut');

    await server.waitForIdle();
    clock.advance(72 * HOUR);
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output!);
    expect(output.timeout.Error).toBe('States.Timeout');
    expect(output.escalation.Error).toBe('States.Timeout');

    const events = await history(executionArn);
    const timedOut = events.filter((e) => e.type === 'TaskTimedOut');
    expect(timedOut).toHaveLength(2);
    expect(timedOut[0]!.taskTimedOutEventDetails?.error).toBe('States.Timeout');
    const scheduled = events.filter((e) => e.type === 'TaskScheduled');
    expect(scheduled.map((e) => e.taskScheduledEventDetails?.timeoutInSeconds)).toEqual([
      7200, 259200,
    ]);
    const entered = events.filter((e) => e.type === 'PassStateEntered');
    expect(entered.map((e) => e.stateEnteredEventDetails?.name)).toEqual(['Escalated']);
  });

  it('does not let States.TaskFailed catch a timeout', async () => {
    const { executionArn } = await start('TaskFailedOnly', { ticketId: 'T-6' });
    await notification(1);
    await server.waitForIdle();
    clock.advance(10_000);
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('States.Timeout');
  });

  it('keeps a task alive while heartbeats arrive and times it out when they stop', async () => {
    const { executionArn } = await start('Heartbeat', { ticketId: 'T-7' });
    const { token } = await notification(1);
    for (let i = 0; i < 3; i += 1) {
      await server.waitForIdle();
      clock.advance(50_000);
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    expect((await describeSettled(executionArn)).status).toBe('RUNNING');
    clock.advance(61_000);
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!).timeout.Error).toBe('States.HeartbeatTimeout');
    const heartbeat = await rejection(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })));
    expect(heartbeat).toBeInstanceOf(TaskTimedOut);
  });

  it('answers InvalidToken for tokens it never issued and InvalidOutput for non-JSON output', async () => {
    const garbage = await rejection(
      sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })),
    );
    expect(garbage).toBeInstanceOf(InvalidToken);
    const forged = await rejection(
      sfn.send(new SendTaskFailureCommand({ taskToken: 'A'.repeat(54), error: 'x' })),
    );
    expect(forged.name).toBe('InvalidToken');

    const { executionArn } = await start('Ticket', { ticketId: 'T-8', replySeconds: 3600 });
    const { token } = await notification(1);
    const notJson = await rejection(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{oops' })),
    );
    expect(notJson).toBeInstanceOf(InvalidOutput);
    // A rejected call leaves the task waiting.
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '"ok"' }));
    expect((await describeSettled(executionArn)).status).toBe('SUCCEEDED');
  });

  it('stops an execution: ABORTED, and its token is dead', async () => {
    const { executionArn } = await start('Ticket', { ticketId: 'T-9', replySeconds: 3600 });
    const { token } = await notification(1);
    const { stopDate } = await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Withdrawn', cause: '市民撤回' }),
    );
    expect(stopDate).toBeInstanceOf(Date);

    const described = await describeSettled(executionArn);
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Withdrawn', cause: '市民撤回' });
    const late = await rejection(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    );
    expect(late).toBeInstanceOf(TaskTimedOut);
    const events = await history(executionArn);
    expect(events.at(-1)?.type).toBe('ExecutionAborted');
    expect(events.at(-1)?.executionAbortedEventDetails).toEqual({
      error: 'Withdrawn',
      cause: '市民撤回',
    });
    expect(clock.pendingTimers).toBe(0);
  });

  it('retries a throwing Lambda with back-off on the virtual clock', async () => {
    let calls = 0;
    lambdas.set('flaky', () => {
      calls += 1;
      if (calls < 3) {
        const error = new Error('Rate exceeded');
        error.name = 'Lambda.ServiceException';
        throw error;
      }
      return { ok: calls };
    });
    const { executionArn } = await start('Flaky', {});
    await server.waitForIdle();
    expect(calls).toBe(1);
    clock.advance(60_000);
    await server.waitForIdle();
    expect(calls).toBe(2);
    // The clock also runs at real speed, so stop well short of the 120-second back-off.
    clock.advance(100_000);
    await server.waitForIdle();
    expect(calls).toBe(2);
    clock.advance(20_000);
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!)).toEqual({ ok: 3 });
    const types = (await history(executionArn)).map((e) => e.type);
    expect(types.filter((t) => t === 'LambdaFunctionFailed')).toHaveLength(2);
    expect(types.filter((t) => t === 'TaskStateEntered')).toHaveLength(1);
    expect(server.stats(executionArn)).toEqual({ stateTransitions: 3, lambdaInvocations: 3 });
  });

  it('catches a function error by its name, with Lambda-style cause', async () => {
    class TicketNotFound extends Error {
      override name = 'TicketNotFound';
    }
    lambdas.set('flaky', () => {
      throw new TicketNotFound('no ticket T-404');
    });
    const { executionArn } = await start('Flaky', {});
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    const { error } = JSON.parse(described.output!);
    expect(error.Error).toBe('TicketNotFound');
    expect(JSON.parse(error.Cause)).toEqual({
      errorMessage: 'no ticket T-404',
      errorType: 'TicketNotFound',
    });
    expect(server.stats(executionArn).lambdaInvocations).toBe(1);
  });

  it('runs Wait states on the virtual clock and fills the context object', async () => {
    const startedAt = clock.nowMs();
    const { executionArn, startDate } = await start('Sleepy', { delay: 86_400 }, 'sleepy-1');
    await server.waitForIdle();
    expect(clock.pendingTimers).toBe(1);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
    clock.advance(86_400_000);
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output!);
    expect(output).toMatchObject({ state: 'Woken', executionName: 'sleepy-1', machine: 'Sleepy' });
    expect(Date.parse(output.startTime)).toBe(startDate.getTime());
    expect(Date.parse(output.enteredTime) - startedAt).toBeGreaterThanOrEqual(86_400_000);
    expect(Date.parse(output.enteredTime) - startedAt).toBeLessThan(86_400_000 + 60_000);
    const types = (await history(executionArn)).map((e) => e.type);
    expect(types).toContain('WaitStateEntered');
    expect(types).toContain('ChoiceStateExited');

    const until = new Date(clock.nowMs() + 2 * HOUR).toISOString();
    const second = await start('Sleepy', { until });
    await server.waitForIdle();
    clock.advance(2 * HOUR);
    expect((await describeSettled(second.executionArn)).status).toBe('SUCCEEDED');
  });

  it('times out a whole execution after its TimeoutSeconds', async () => {
    const { executionArn } = await start('Deadline', {});
    await server.waitForIdle();
    clock.advance(600_000);
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('TIMED_OUT');
    expect((await history(executionArn)).at(-1)?.type).toBe('ExecutionTimedOut');
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs Map iterations and Parallel branches, each callback with its own token', async () => {
    const { executionArn } = await start('Fanout', { ticketId: 'T-10', items: [1, 2, 3] });
    const left = await notification(1);
    const right = await notification(2);
    expect(new Set([left.stage, right.stage])).toEqual(new Set(['left', 'right']));
    expect(left.token).not.toBe(right.token);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: right.token, output: '"R"' }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: left.token, output: '"L"' }));
    const described = await describeSettled(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    const branches = JSON.parse(described.output!) as { reply: string; doubled: number[] }[];
    expect(branches.map((branch) => branch.reply)).toEqual(['L', 'R']);
    expect(branches[0]!.doubled).toEqual([2, 4, 6]);
    // Map state + 3 iterations, Parallel state + 2 branches.
    expect(server.stats(executionArn)).toEqual({ stateTransitions: 7, lambdaInvocations: 5 });
    const types = (await history(executionArn)).map((e) => e.type);
    expect(types.filter((t) => t === 'MapIterationSucceeded')).toHaveLength(3);
  });

  it('holds a thousand executions waiting on tokens without polling', async () => {
    const count = 1000;
    const began = Date.now();
    const arns = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        start('Ticket', { ticketId: `B-${i}`, replySeconds: 3600 }).then((r) => r.executionArn),
      ),
    );
    await server.waitForIdle(20_000);
    expect(notifications).toHaveLength(count);
    expect(clock.pendingTimers).toBe(count);
    await Promise.all(
      notifications.map((n) =>
        sfn.send(new SendTaskSuccessCommand({ taskToken: n.token, output: '{}' })),
      ),
    );
    await server.waitForIdle(20_000);
    const sample = await sfn.send(new DescribeExecutionCommand({ executionArn: arns[count - 1]! }));
    expect(sample.status).toBe('SUCCEEDED');
    expect(clock.pendingTimers).toBe(0);
    expect(Date.now() - began).toBeLessThan(15_000);
  });

  it('answers with the service error names', async () => {
    const noMachine = await rejection(start('Missing', {}));
    expect(noMachine).toBeInstanceOf(StateMachineDoesNotExist);
    const badArn = await rejection(
      sfn.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })),
    );
    expect(badArn).toBeInstanceOf(InvalidArn);
    const noExecution = await rejection(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `arn:aws-cn:states:${REGION}:${ACCOUNT}:execution:Greeting:nope`,
        }),
      ),
    );
    expect(noExecution).toBeInstanceOf(ExecutionDoesNotExist);
    const badName = await rejection(start('Greeting', {}, 'has space'));
    expect(badName).toBeInstanceOf(InvalidName);
    const badInput = await rejection(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('Greeting'), input: '{' })),
    );
    expect(badInput).toBeInstanceOf(InvalidExecutionInput);
    expect(badInput.message).not.toMatch(/at .*\.ts/);

    const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
    expect(stateMachines!.map((m) => m.name)).toContain('Ticket');
    const described = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: machineArn('Ticket') }),
    );
    expect(JSON.parse(described.definition!).StartAt).toBe('AwaitReply');
  });

  it('refuses definitions it cannot run faithfully', async () => {
    await expect(
      startLocalStepFunctions({
        clock,
        invokeLambda: async () => null,
        stateMachines: [
          {
            name: 'Jsonata',
            arn: machineArn('Jsonata'),
            definition: {
              QueryLanguage: 'JSONata',
              StartAt: 'A',
              States: { A: { Type: 'Pass', End: true } },
            },
          },
        ],
      }),
    ).rejects.toBeInstanceOf(DefinitionError);
  });
});

describe('local Lambda concurrency', () => {
  it('runs at most lambdaConcurrency tasks at once and the rest after them, none lost', async () => {
    const ownClock = new VirtualClock({ start: new Date('2026-03-02T01:00:00Z') });
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const limited = await startLocalStepFunctions({
      clock: ownClock,
      stateMachines: machines,
      region: REGION,
      accountId: ACCOUNT,
      lambdaConcurrency: 3,
      invokeLambda: async (_arn, payload) => {
        running += 1;
        most = Math.max(most, running);
        // Real time, so that every started task overlaps the others if the engine lets it.
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
        const name = (payload as { name: string }).name;
        order.push(name);
        return `你好, ${name}`;
      },
    });
    const client = new SFNClient({
      endpoint: limited.url,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const names = Array.from({ length: 10 }, (_, i) => `市民${i}`);
      const arns: string[] = [];
      for (const name of names) {
        const { executionArn } = await client.send(
          new StartExecutionCommand({
            stateMachineArn: machineArn('Greeting'),
            input: JSON.stringify({ name }),
          }),
        );
        arns.push(executionArn!);
      }
      await limited.waitForIdle();
      const described = await Promise.all(
        arns.map((executionArn) => client.send(new DescribeExecutionCommand({ executionArn }))),
      );
      expect(described.map((d) => d.status)).toEqual(names.map(() => 'SUCCEEDED'));
      expect(described.map((d) => JSON.parse(d.output!).greeting)).toEqual(
        names.map((name) => `你好, ${name}`),
      );
      expect(most).toBe(3);
      // First come, first served: the waiting tasks ran in the order their executions started.
      expect(order).toEqual(names);
    } finally {
      client.destroy();
      await limited.close();
      ownClock.stop();
    }
  });
});

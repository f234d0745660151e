import type { VirtualClock } from '#local/clock';
import {
  type Retrier,
  type StateInfo,
  TASK_TOKEN_PLACEHOLDER,
  type TaskStateInfo,
  type WaitStateInfo,
  WRAPPED_INPUT,
  WRAPPED_PARAMETERS,
} from './definition.ts';
import { abortedFailure, runtimeFailure, StateFailure } from './errors.ts';
import { PathSyntaxError, readReferencePath } from './paths.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type CallbackOutcome =
  | { ok: true; output: Json; raw: string }
  | { ok: false; error: string; cause: string };

/** One waiting `.waitForTaskToken` attempt, addressed by its token. */
export interface CallbackSlot {
  readonly token: string;
  readonly outcome: Promise<CallbackOutcome>;
  onHeartbeat?: () => void;
  /** The token dies: later SendTask* calls with it get TaskTimedOut. */
  close(): void;
}

/** What the handlers of one execution need to know about it. */
export interface ExecutionRun {
  readonly signal: AbortSignal;
  /** The context object, for `$$` reference paths. */
  readonly context: object;
  readonly stats: { stateTransitions: number; lambdaInvocations: number };
  /** Sleepers and callback waits in progress: the execution waits on time or on a caller. */
  parked: number;
  /** Resolves once the history holds the entry of `stateName` that invoked this handler. */
  entered(stateName: string): Promise<void>;
}

export interface TaskHost {
  readonly clock: VirtualClock;
  readonly region: string;
  functionArn(functionName: string, qualifier?: string): string;
  /** Counts the invocation and returns the result as JSON; throws a TaskAttemptError. */
  invokeLambda(run: ExecutionRun, functionArn: string, payload: Json): Promise<Json>;
  record(run: ExecutionRun, type: string, detailsKey?: string, details?: object): void;
  openCallback(run: ExecutionRun): CallbackSlot;
  /** An error the interpreter treats as its own States.Timeout (not matched by TaskFailed). */
  timeoutError(name: string, cause: string): Error;
}

type FailureKind = 'task' | 'timeout' | 'runtime' | 'aborted';

/** How one attempt of a task ended when it did not succeed. */
export class TaskAttemptError extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
    readonly kind: FailureKind,
  ) {
    super(causeText);
  }
}

const ABORTED = new TaskAttemptError('States.Aborted', '', 'aborted');

export type LocalHandler = (input: Json) => Promise<Json>;

/** The interpreter's local handlers for one execution: every Task and every (rewritten) Wait. */
export function buildHandlers(
  host: TaskHost,
  run: ExecutionRun,
  states: Map<string, StateInfo>,
): Record<string, LocalHandler> {
  const handlers: Record<string, LocalHandler> = {};
  for (const info of states.values()) {
    if (info.type === 'Task') handlers[info.name] = (input) => runTask(host, run, info, input);
    if (info.type === 'Wait') handlers[info.name] = (input) => runWait(host, run, info, input);
  }
  return handlers;
}

async function runTask(
  host: TaskHost,
  run: ExecutionRun,
  task: TaskStateInfo,
  input: Json,
): Promise<Json> {
  await enter(run, task.name);
  let params = input;
  let stateInput = input;
  if (task.wrapsInput && isObject(input)) {
    params = input[WRAPPED_PARAMETERS] ?? null;
    stateInput = input[WRAPPED_INPUT] ?? null;
  }
  const limits = {
    timeoutSeconds: seconds(task.timeoutSeconds, task.timeoutSecondsPath, stateInput, run),
    heartbeatSeconds: seconds(task.heartbeatSeconds, task.heartbeatSecondsPath, stateInput, run),
  };
  // Retry lives here rather than in the interpreter so that the back-off runs on the virtual
  // clock; every attempt gets its own token, as in AWS.
  const attempts = task.retry.map(() => 0);
  for (;;) {
    let failure: TaskAttemptError;
    try {
      return await attempt(host, run, task, params, limits);
    } catch (error) {
      failure = asAttemptError(error);
    }
    if (run.signal.aborted) throw abortedFailure();
    const index = matchRetrier(task.retry, failure);
    const retrier = task.retry[index];
    const used = attempts[index] ?? 0;
    if (!retrier || used >= (retrier.MaxAttempts ?? 3)) throw toStateError(host, failure);
    attempts[index] = used + 1;
    // AWS bills each retry as a state transition.
    run.stats.stateTransitions += 1;
    try {
      await park(run, host.clock.sleep(backoffMs(retrier, used), run.signal));
    } catch {
      throw abortedFailure();
    }
  }
}

async function attempt(
  host: TaskHost,
  run: ExecutionRun,
  task: TaskStateInfo,
  params: Json,
  limits: { timeoutSeconds: number | undefined; heartbeatSeconds: number | undefined },
): Promise<Json> {
  if (task.kind === 'unsupported') {
    throw new TaskAttemptError(
      'States.Runtime',
      `The resource '${task.resource}' is not supported by the local Step Functions endpoint`,
      'runtime',
    );
  }
  const scope = linkedController(run.signal);
  const deadline =
    limits.timeoutSeconds === undefined
      ? undefined
      : host.clock.nowMs() + limits.timeoutSeconds * 1000;
  const guard = guardPromise(host.clock, scope.signal, deadline);
  const timing: Record<string, number> = {};
  if (limits.timeoutSeconds !== undefined) timing.timeoutInSeconds = limits.timeoutSeconds;
  try {
    if (task.kind === 'lambda') return await invokeFunction(host, run, task, params, guard, timing);
    if (task.kind === 'invoke') return await invokeIntegration(host, run, params, guard, timing);
    if (limits.heartbeatSeconds !== undefined) timing.heartbeatInSeconds = limits.heartbeatSeconds;
    return await invokeCallback(host, run, params, guard, timing, limits.heartbeatSeconds, scope);
  } finally {
    scope.dispose();
  }
}

/** A plain Lambda function ARN as the resource: the output is the function's result. */
async function invokeFunction(
  host: TaskHost,
  run: ExecutionRun,
  task: TaskStateInfo,
  params: Json,
  guard: Promise<never>,
  timing: Record<string, number>,
): Promise<Json> {
  rejectStrayToken(params);
  host.record(run, 'LambdaFunctionScheduled', 'lambdaFunctionScheduledEventDetails', {
    resource: task.resource,
    input: JSON.stringify(params),
    inputDetails: { truncated: false },
    ...timing,
  });
  host.record(run, 'LambdaFunctionStarted');
  try {
    const output = await Promise.race([host.invokeLambda(run, task.resource, params), guard]);
    host.record(run, 'LambdaFunctionSucceeded', 'lambdaFunctionSucceededEventDetails', {
      output: JSON.stringify(output),
      outputDetails: { truncated: false },
    });
    return output;
  } catch (error) {
    const failure = asAttemptError(error);
    const details = { error: failure.error, cause: failure.causeText };
    if (failure.kind === 'timeout') {
      host.record(run, 'LambdaFunctionTimedOut', 'lambdaFunctionTimedOutEventDetails', details);
    } else if (failure.kind === 'task') {
      host.record(run, 'LambdaFunctionFailed', 'lambdaFunctionFailedEventDetails', details);
    }
    throw failure;
  }
}

/** `arn:aws:states:::lambda:invoke`: the output is the Lambda Invoke API response. */
async function invokeIntegration(
  host: TaskHost,
  run: ExecutionRun,
  params: Json,
  guard: Promise<never>,
  timing: Record<string, number>,
): Promise<Json> {
  rejectStrayToken(params);
  const resource = { resourceType: 'lambda', resource: 'invoke' };
  const request = invokeRequest(host, params);
  recordTaskStart(host, run, resource, params, timing);
  try {
    const result = await Promise.race([
      host.invokeLambda(run, request.functionArn, request.payload),
      guard,
    ]);
    const output = invokeResponse(result);
    host.record(run, 'TaskSucceeded', 'taskSucceededEventDetails', {
      ...resource,
      output: JSON.stringify(output),
      outputDetails: { truncated: false },
    });
    return output;
  } catch (error) {
    throw recordTaskFailure(host, run, resource, error);
  }
}

/**
 * `arn:aws:states:::lambda:invoke.waitForTaskToken`: invoke the function with a fresh token,
 * then wait, without polling, for SendTaskSuccess/SendTaskFailure, the timeout or a missed
 * heartbeat, whichever comes first.
 */
async function invokeCallback(
  host: TaskHost,
  run: ExecutionRun,
  params: Json,
  guard: Promise<never>,
  timing: Record<string, number>,
  heartbeatSeconds: number | undefined,
  scope: { signal: AbortSignal },
): Promise<Json> {
  const resource = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
  const slot = host.openCallback(run);
  run.parked += 1;
  try {
    const effective = replacePlaceholder(params, slot.token);
    const request = invokeRequest(host, effective);
    recordTaskStart(host, run, resource, effective, timing);
    const racers: Promise<Json>[] = [guard];
    if (heartbeatSeconds !== undefined) {
      racers.push(heartbeatPromise(host.clock, scope.signal, heartbeatSeconds, slot));
    }
    let settled = false;
    racers.push(
      slot.outcome.then((outcome) => {
        if (!outcome.ok) throw new TaskAttemptError(outcome.error, outcome.cause, 'task');
        settled = true;
        host.record(run, 'TaskSucceeded', 'taskSucceededEventDetails', {
          ...resource,
          output: outcome.raw,
          outputDetails: { truncated: false },
        });
        return outcome.output;
      }),
    );
    racers.push(
      host.invokeLambda(run, request.functionArn, request.payload).then((result) => {
        if (!settled && !scope.signal.aborted) {
          host.record(run, 'TaskSubmitted', 'taskSubmittedEventDetails', {
            ...resource,
            output: JSON.stringify(invokeResponse(result)),
            outputDetails: { truncated: false },
          });
        }
        return new Promise<never>(() => {});
      }),
    );
    return await Promise.race(racers);
  } catch (error) {
    throw recordTaskFailure(host, run, resource, error);
  } finally {
    slot.close();
    run.parked -= 1;
  }
}

async function runWait(
  host: TaskHost,
  run: ExecutionRun,
  wait: WaitStateInfo,
  input: Json,
): Promise<Json> {
  await enter(run, wait.name);
  const dueMs = waitDueMs(host.clock.nowMs(), wait, input, run);
  try {
    await park(run, host.clock.sleepUntil(dueMs, run.signal));
  } catch {
    throw abortedFailure();
  }
  return input;
}

function waitDueMs(nowMs: number, wait: WaitStateInfo, input: Json, run: ExecutionRun): number {
  if (wait.seconds !== undefined) return nowMs + wait.seconds * 1000;
  if (wait.secondsPath !== undefined) {
    const value = readPath(wait.secondsPath, input, run);
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw runtimeFailure(
        `The SecondsPath parameter does not reference a valid integer: '${wait.secondsPath}'`,
      );
    }
    return nowMs + (value as number) * 1000;
  }
  const timestamp =
    wait.timestamp ?? (wait.timestampPath ? readPath(wait.timestampPath, input, run) : undefined);
  const dueMs = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(dueMs)) {
    throw runtimeFailure(
      `The TimestampPath parameter does not reference a valid ISO-8601 timestamp: '${wait.timestampPath}'`,
    );
  }
  // AWS honours seconds and truncates milliseconds.
  return Math.floor(dueMs / 1000) * 1000;
}

function seconds(
  fixed: number | undefined,
  path: string | undefined,
  input: Json,
  run: ExecutionRun,
): number | undefined {
  if (fixed !== undefined) return fixed;
  if (path === undefined) return undefined;
  const value = readPath(path, input, run);
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw runtimeFailure(`The path '${path}' does not reference a positive integer`);
  }
  return value as number;
}

function readPath(path: string, input: Json, run: ExecutionRun): unknown {
  try {
    const result = readReferencePath(path, input, run.context);
    if (!result.found) throw runtimeFailure(`Invalid path '${path}': No results for path`);
    return result.value;
  } catch (error) {
    if (error instanceof PathSyntaxError) throw runtimeFailure(error.message);
    throw error;
  }
}

function matchRetrier(retriers: Retrier[], failure: TaskAttemptError): number {
  if (failure.kind === 'runtime' || failure.kind === 'aborted') return -1;
  return retriers.findIndex((retrier) =>
    retrier.ErrorEquals.some(
      (name) =>
        name === 'States.ALL' ||
        name === failure.error ||
        (name === 'States.TaskFailed' && failure.kind === 'task') ||
        (name === 'States.Timeout' && failure.kind === 'timeout'),
    ),
  );
}

function backoffMs(retrier: Retrier, previousAttempts: number): number {
  let delay = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** previousAttempts;
  if (retrier.MaxDelaySeconds !== undefined) delay = Math.min(delay, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') delay = Math.random() * delay;
  return delay * 1000;
}

function toStateError(host: TaskHost, failure: TaskAttemptError): Error {
  switch (failure.kind) {
    case 'timeout':
      return host.timeoutError(failure.error, failure.causeText);
    case 'task':
      return new StateFailure(failure.error, failure.causeText);
    case 'runtime':
      return runtimeFailure(failure.causeText);
    default:
      return abortedFailure();
  }
}

function asAttemptError(error: unknown): TaskAttemptError {
  if (error instanceof TaskAttemptError) return error;
  if (error instanceof StateFailure && error.name === 'States.Runtime') {
    return new TaskAttemptError(error.name, error.message, 'runtime');
  }
  return new TaskAttemptError('States.Runtime', 'Internal error in the local endpoint', 'runtime');
}

function recordTaskStart(
  host: TaskHost,
  run: ExecutionRun,
  resource: { resourceType: string; resource: string },
  params: Json,
  timing: Record<string, number>,
): void {
  host.record(run, 'TaskScheduled', 'taskScheduledEventDetails', {
    ...resource,
    region: host.region,
    parameters: JSON.stringify(params),
    ...timing,
  });
  host.record(run, 'TaskStarted', 'taskStartedEventDetails', resource);
}

function recordTaskFailure(
  host: TaskHost,
  run: ExecutionRun,
  resource: { resourceType: string; resource: string },
  error: unknown,
): TaskAttemptError {
  const failure = asAttemptError(error);
  const details = { ...resource, error: failure.error, cause: failure.causeText };
  if (failure.kind === 'timeout') {
    host.record(run, 'TaskTimedOut', 'taskTimedOutEventDetails', details);
  } else if (failure.kind === 'task' || failure.kind === 'runtime') {
    host.record(run, 'TaskFailed', 'taskFailedEventDetails', details);
  }
  return failure;
}

function invokeRequest(host: TaskHost, params: Json): { functionArn: string; payload: Json } {
  if (!isObject(params) || typeof params.FunctionName !== 'string') {
    throw new TaskAttemptError(
      'States.Runtime',
      'lambda:invoke needs a string FunctionName parameter',
      'runtime',
    );
  }
  const qualifier = typeof params.Qualifier === 'string' ? params.Qualifier : undefined;
  return {
    functionArn: host.functionArn(params.FunctionName, qualifier),
    payload: params.Payload === undefined ? {} : params.Payload,
  };
}

/** What Lambda's Invoke API answers and CDK's LambdaInvoke (without payloadResponseOnly) reads. */
function invokeResponse(result: Json): Json {
  return {
    ExecutedVersion: '$LATEST',
    Payload: result,
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: crypto.randomUUID() },
    StatusCode: 200,
  };
}

/** `$$.Task.Token` exists only in callback tasks; AWS fails the path elsewhere. */
function rejectStrayToken(params: Json): void {
  if (JSON.stringify(params).includes(TASK_TOKEN_PLACEHOLDER)) {
    throw new TaskAttemptError(
      'States.Runtime',
      "The JSONPath '$$.Task.Token' could not be found: only .waitForTaskToken tasks have a token",
      'runtime',
    );
  }
}

function replacePlaceholder(value: Json, token: string): Json {
  if (typeof value === 'string') return value.replaceAll(TASK_TOKEN_PLACEHOLDER, token);
  if (Array.isArray(value)) return value.map((item) => replacePlaceholder(item, token));
  if (isObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) out[key] = replacePlaceholder(item, token);
    return out;
  }
  return value;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

async function enter(run: ExecutionRun, stateName: string): Promise<void> {
  if (run.signal.aborted) throw abortedFailure();
  try {
    await run.entered(stateName);
  } catch {
    throw abortedFailure();
  }
}

async function park<T>(run: ExecutionRun, promise: Promise<T>): Promise<T> {
  run.parked += 1;
  try {
    return await promise;
  } finally {
    run.parked -= 1;
  }
}

/** A child of `parent` that can be disposed without leaving a listener on the parent. */
function linkedController(parent: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const forward = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', forward, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      parent.removeEventListener('abort', forward);
      controller.abort();
    },
  };
}

/** Never resolves; rejects when the attempt is aborted or when virtual time reaches the deadline. */
function guardPromise(
  clock: VirtualClock,
  signal: AbortSignal,
  deadlineMs: number | undefined,
): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (signal.aborted) return reject(ABORTED);
    signal.addEventListener('abort', () => reject(ABORTED), { once: true });
    if (deadlineMs !== undefined) {
      clock.sleepUntil(deadlineMs, signal).then(
        () => reject(new TaskAttemptError('States.Timeout', '', 'timeout')),
        () => {},
      );
    }
  });
}

/** Rejects when no heartbeat arrives for `seconds`; each SendTaskHeartbeat re-arms it. */
function heartbeatPromise(
  clock: VirtualClock,
  signal: AbortSignal,
  seconds: number,
  slot: CallbackSlot,
): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    let current: AbortController | undefined;
    const arm = () => {
      current?.abort();
      if (signal.aborted) return;
      const timer = new AbortController();
      current = timer;
      const forward = () => timer.abort();
      signal.addEventListener('abort', forward, { once: true });
      clock.sleep(seconds * 1000, timer.signal).then(
        () => {
          signal.removeEventListener('abort', forward);
          reject(new TaskAttemptError('States.HeartbeatTimeout', '', 'timeout'));
        },
        () => signal.removeEventListener('abort', forward),
      );
    };
    slot.onHeartbeat = arm;
    arm();
  });
}

import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  ExecutionError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import type { VirtualClock } from '#local/clock';
import { Semaphore } from '#local/semaphore';
import {
  CONTEXT_INPUT,
  CONTEXT_START_TIME,
  type PreparedDefinition,
  prepareDefinition,
  TASK_TOKEN_PLACEHOLDER,
} from './definition.ts';
import { ApiError, DefinitionError } from './errors.ts';
import {
  buildHandlers,
  type CallbackOutcome,
  type CallbackSlot,
  type ExecutionRun,
  type Json,
  TaskAttemptError,
  type TaskHost,
} from './tasks.ts';
import { TokenMint } from './tokens.ts';

export interface LocalStateMachine {
  name: string;
  arn: string;
  /** The ASL definition, as synthesized (JSONPath query language). */
  definition: object;
}

export type LambdaInvoker = (functionArn: string, payload: unknown) => Promise<unknown>;

export interface ExecutionStats {
  /** States entered, plus task retries: what AWS bills as state transitions. */
  stateTransitions: number;
  lambdaInvocations: number;
}

export interface EngineOptions {
  clock: VirtualClock;
  stateMachines: LocalStateMachine[];
  invokeLambda: LambdaInvoker;
  region: string;
  accountId: string;
  /**
   * Lambda tasks running at once; the rest wait their turn. In AWS the account's concurrency and
   * the tasks' retries of `Lambda.TooManyRequestsException` shape a burst of due timers; locally
   * nothing did, and a Beijing day's thousands of reminders falling due together queued ~7,000
   * DynamoDB requests behind the phone webhooks. Defaults to {@link DEFAULT_LAMBDA_CONCURRENCY}.
   */
  lambdaConcurrency?: number;
}

/** Enough to keep DynamoDB Local busy on a small machine, few enough to leave room for webhooks. */
export const DEFAULT_LAMBDA_CONCURRENCY = 32;

type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
type Body = Record<string, unknown>;
type InterpreterRun = ReturnType<StateMachine['run']>;
type InterpreterEvent = InterpreterRun['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

interface Machine {
  name: string;
  arn: string;
  definition: object;
  prepared: PreparedDefinition;
  interpreter: StateMachine;
  createdMs: number;
  executions: Execution[];
}

interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestampMs: number;
  type: string;
  detailsKey?: string;
  details?: object;
}

interface PendingCallback extends CallbackSlot {
  settle(outcome: CallbackOutcome): void;
}

const STATUSES = new Set(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
const STATE_MACHINE_ARN = /^arn:[\w-]+:states:[\w-]+:[^:]+:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:[\w-]+:states:[\w-]+:[^:]+:execution:[^:]+:[^:]+$/;
// Whitespace, brackets, wildcards and these specials are not allowed; nor are control characters.
const INVALID_NAME_CHARACTER = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;

function isValidName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || INVALID_NAME_CHARACTER.test(name)) return false;
  for (const char of name) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return false;
  }
  return true;
}

/** A waitForIdle that sleeps looks again after this long even if nothing told it to. */
const IDLE_FALLBACK_MS = 50;

class Execution implements ExecutionRun {
  status: ExecutionStatus = 'RUNNING';
  stopMs?: number;
  output?: string;
  error?: string;
  cause?: string;
  readonly history: HistoryEvent[] = [];
  readonly stats = { stateTransitions: 0, lambdaInvocations: 0 };
  /** Called when the execution parks or resumes: the engine's idle check depends on it. */
  onMove: () => void = () => {};
  private parkedCount = 0;
  finished: Promise<void> = Promise.resolve();
  readonly controller = new AbortController();
  private readonly entries = new Map<
    string,
    { issued: number; seen: number; waiters: { k: number; resolve: () => void }[] }
  >();
  private readonly gateRejections = new Set<(reason: unknown) => void>();

  constructor(
    readonly seq: number,
    readonly arn: string,
    readonly name: string,
    readonly machine: Machine,
    readonly input: string,
    readonly inputValue: Json,
    readonly startMs: number,
    readonly context: object,
  ) {
    // Every waiting attempt, sleeper and Map iteration listens to this signal; that is expected.
    setMaxListeners(0, this.controller.signal);
    this.controller.signal.addEventListener(
      'abort',
      () => {
        for (const reject of this.gateRejections) reject(this.controller.signal.reason);
        this.gateRejections.clear();
      },
      { once: true },
    );
  }

  /** Waits in progress on the clock or a task token (the execution cannot move by itself). */
  get parked(): number {
    return this.parkedCount;
  }

  set parked(count: number) {
    const was = this.parkedCount;
    this.parkedCount = count;
    if ((was === 0) !== (count === 0)) this.onParkedChange(count > 0);
    this.onMove();
  }

  /** Called when the execution starts or stops waiting (on the clock or a task token). */
  onParkedChange: (parked: boolean) => void = () => {};

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * The interpreter calls a task handler in the same tick as it logs the state's entry, but we
   * read its log asynchronously: handlers wait for the entry before writing task events, so the
   * history keeps AWS's order.
   */
  entered(stateName: string): Promise<void> {
    const entry = this.entry(stateName);
    entry.issued += 1;
    const k = entry.issued;
    if (entry.seen >= k) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.gateRejections.add(reject);
      entry.waiters.push({
        k,
        resolve: () => {
          this.gateRejections.delete(reject);
          resolve();
        },
      });
    });
  }

  markEntered(stateName: string): void {
    const entry = this.entry(stateName);
    entry.seen += 1;
    const ready = entry.waiters.filter((waiter) => waiter.k <= entry.seen);
    entry.waiters = entry.waiters.filter((waiter) => waiter.k > entry.seen);
    for (const waiter of ready) waiter.resolve();
  }

  private entry(stateName: string) {
    let entry = this.entries.get(stateName);
    if (!entry) {
      entry = { issued: 0, seen: 0, waiters: [] };
      this.entries.set(stateName, entry);
    }
    return entry;
  }
}

/** Step Functions' control plane and interpreter glue; the HTTP layer only translates. */
export class Engine implements TaskHost {
  readonly clock: VirtualClock;
  readonly region: string;
  private readonly accountId: string;
  private readonly partition: string;
  private readonly invoker: LambdaInvoker;
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, Execution>();
  private readonly callbacks = new Map<string, PendingCallback>();
  private readonly mint = new TokenMint();
  private seq = 0;
  private lambdasInFlight = 0;
  private readonly lambdaSlots: Semaphore;
  private progress = 0;
  /** Executions still RUNNING: the idle check looks at these, not at every finished one. */
  /**
   * Running executions that are not parked: the idle check reads its size instead of walking
   * every running execution, which a simulated city made quadratic (tens of thousands wait).
   */
  private readonly moving = new Set<Execution>();
  /** waitForIdle callers sleeping until something moves. */
  private readonly movers = new Set<() => void>();

  private constructor(
    options: EngineOptions,
    private readonly timeoutErrorClass: new () => Error,
  ) {
    this.clock = options.clock;
    this.region = options.region;
    this.accountId = options.accountId;
    this.partition = partitionOf(options.region);
    this.invoker = options.invokeLambda;
    this.lambdaSlots = new Semaphore(options.lambdaConcurrency ?? DEFAULT_LAMBDA_CONCURRENCY);
    const createdMs = options.clock.nowMs();
    for (const machine of options.stateMachines) {
      if (!STATE_MACHINE_ARN.test(machine.arn)) {
        throw new DefinitionError(`'${machine.arn}' is not a state machine ARN`);
      }
      if (this.machines.has(machine.arn)) {
        throw new DefinitionError(`state machine ${machine.arn} is registered twice`);
      }
      const prepared = prepareDefinition(machine.definition, machine.name);
      this.machines.set(machine.arn, {
        ...machine,
        prepared,
        interpreter: new StateMachine(prepared.interpreterDefinition, {
          validationOptions: { noValidate: true },
        }),
        createdMs,
        executions: [],
      });
    }
  }

  static async create(options: EngineOptions): Promise<Engine> {
    return new Engine(options, await timeoutErrorClass());
  }

  // --- API operations -------------------------------------------------------------------------

  startExecution(body: Body): Body {
    const machine = this.machine(requireArn(body, 'stateMachineArn', 'stateMachine'));
    const name = optionalString(body, 'name') ?? randomUUID();
    if (!isValidName(name)) {
      throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
    }
    const input = optionalString(body, 'input') ?? '{}';
    let inputValue: Json;
    try {
      inputValue = JSON.parse(input) as Json;
    } catch {
      throw new ApiError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: the input is not valid JSON',
      );
    }
    const arn = `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(arn);
    if (existing) {
      // Standard workflows: the same name and input while running is the same start.
      if (existing.status === 'RUNNING' && sameJson(existing.inputValue, inputValue)) {
        return { executionArn: arn, startDate: seconds(existing.startMs) };
      }
      throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const execution = this.start(machine, arn, name, input, inputValue);
    return { executionArn: arn, startDate: seconds(execution.startMs) };
  }

  describeExecution(body: Body): Body {
    const execution = this.execution(requireArn(body, 'executionArn', 'execution'));
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.machine.arn,
      name: execution.name,
      status: execution.status,
      startDate: seconds(execution.startMs),
      stopDate: execution.stopMs === undefined ? undefined : seconds(execution.stopMs),
      input: execution.input,
      inputDetails: { included: true },
      output: execution.output,
      outputDetails: execution.output === undefined ? undefined : { included: true },
      error: execution.error,
      cause: execution.cause,
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    };
  }

  describeStateMachineForExecution(body: Body): Body {
    const execution = this.execution(requireArn(body, 'executionArn', 'execution'));
    const machine = execution.machine;
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      definition: JSON.stringify(machine.definition),
      roleArn: this.roleArn(),
      updateDate: seconds(machine.createdMs),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  listExecutions(body: Body): Body {
    if (body.mapRunArn !== undefined) {
      throw new ApiError('ValidationException', 'Distributed Map runs are not supported locally');
    }
    const machine = this.machine(requireArn(body, 'stateMachineArn', 'stateMachine'));
    const statusFilter = optionalString(body, 'statusFilter');
    if (statusFilter !== undefined && !STATUSES.has(statusFilter)) {
      throw new ApiError('ValidationException', `Invalid statusFilter: '${statusFilter}'`);
    }
    const limit = maxResults(body);
    const before = decodeCursor(body.nextToken, 'before') ?? Number.POSITIVE_INFINITY;
    const page: Execution[] = [];
    let more = false;
    // Newest first, as the service lists them.
    for (let i = machine.executions.length - 1; i >= 0; i -= 1) {
      const execution = machine.executions[i]!;
      if (execution.seq >= before) continue;
      if (statusFilter !== undefined && execution.status !== statusFilter) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(execution);
    }
    const last = page.at(-1);
    return {
      executions: page.map((execution) => ({
        executionArn: execution.arn,
        stateMachineArn: machine.arn,
        name: execution.name,
        status: execution.status,
        startDate: seconds(execution.startMs),
        stopDate: execution.stopMs === undefined ? undefined : seconds(execution.stopMs),
        redriveCount: 0,
      })),
      nextToken: more && last ? encodeCursor({ before: last.seq }) : undefined,
    };
  }

  stopExecution(body: Body): Body {
    const execution = this.execution(requireArn(body, 'executionArn', 'execution'));
    this.terminate(
      execution,
      'ABORTED',
      optionalString(body, 'error'),
      optionalString(body, 'cause'),
    );
    return { stopDate: seconds(execution.stopMs ?? this.clock.nowMs()) };
  }

  getExecutionHistory(body: Body): Body {
    const execution = this.execution(requireArn(body, 'executionArn', 'execution'));
    const limit = maxResults(body);
    const reverse = body.reverseOrder === true;
    const includeData = body.includeExecutionData !== false;
    const events = execution.history;
    const from = decodeCursor(body.nextToken, 'from') ?? (reverse ? events.length : 1);
    const page = reverse
      ? events.slice(Math.max(0, from - limit), from).reverse()
      : events.slice(from - 1, from - 1 + limit);
    const last = page.at(-1);
    const more = last !== undefined && (reverse ? last.id > 1 : last.id < events.length);
    return {
      events: page.map((event) => serializeEvent(event, includeData)),
      nextToken:
        more && last ? encodeCursor({ from: reverse ? last.id - 1 : last.id + 1 }) : undefined,
    };
  }

  sendTaskSuccess(body: Body): Body {
    const callback = this.liveCallback(requireString(body, 'taskToken'));
    const raw = requireString(body, 'output');
    let output: Json;
    try {
      output = JSON.parse(raw) as Json;
    } catch {
      throw new ApiError('InvalidOutput', 'Invalid Output: the output is not valid JSON');
    }
    callback.close();
    callback.settle({ ok: true, output, raw });
    return {};
  }

  sendTaskFailure(body: Body): Body {
    const callback = this.liveCallback(requireString(body, 'taskToken'));
    callback.close();
    callback.settle({
      ok: false,
      error: optionalString(body, 'error') ?? '',
      cause: optionalString(body, 'cause') ?? '',
    });
    return {};
  }

  sendTaskHeartbeat(body: Body): Body {
    this.liveCallback(requireString(body, 'taskToken')).onHeartbeat?.();
    return {};
  }

  describeStateMachine(body: Body): Body {
    const machine = this.machine(requireArn(body, 'stateMachineArn', 'stateMachine'));
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: JSON.stringify(machine.definition),
      roleArn: this.roleArn(),
      type: 'STANDARD',
      creationDate: seconds(machine.createdMs),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  listStateMachines(body: Body): Body {
    const all = [...this.machines.values()];
    const limit = maxResults(body);
    const from = decodeCursor(body.nextToken, 'from') ?? 0;
    const page = all.slice(from, from + limit);
    return {
      stateMachines: page.map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: 'STANDARD',
        creationDate: seconds(machine.createdMs),
      })),
      nextToken: from + limit < all.length ? encodeCursor({ from: from + limit }) : undefined,
    };
  }

  // --- Local helpers for tests and benchmarks ---------------------------------------------------

  stats(executionArn: string): ExecutionStats {
    const execution = this.executions.get(executionArn);
    if (!execution) throw new Error(`no execution ${executionArn}`);
    return { ...execution.stats };
  }

  /**
   * Resolves once every running execution waits on the clock or on a task token, no Lambda is
   * running and nothing moved during one turn of the event loop.
   */
  async waitForIdle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const before = this.progress;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (before === this.progress && this.isIdle()) return;
      if (Date.now() > deadline) {
        throw new Error(`the local Step Functions endpoint was still busy after ${timeoutMs} ms`);
      }
      // Busy (a Lambda runs, an execution moves): sleep until something moves instead of
      // turning the event loop round and round, which took a core from DynamoDB Local.
      if (!this.isIdle()) await this.nextMove(deadline);
    }
  }

  /** Resolves when the engine next moves, or after a short real-time fallback. */
  private nextMove(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        this.movers.delete(wake);
        resolve();
      };
      timer = setTimeout(wake, Math.max(0, Math.min(IDLE_FALLBACK_MS, deadline - Date.now())));
      this.movers.add(wake);
    });
  }

  /** Something happened: an event, a Lambda started or ended, an execution parked or resumed. */
  private moved(): void {
    this.progress += 1;
    if (this.movers.size > 0) for (const wake of [...this.movers]) wake();
  }

  async close(): Promise<void> {
    const running = [...this.executions.values()].filter((e) => e.status === 'RUNNING');
    for (const execution of running) {
      this.terminate(execution, 'ABORTED', undefined, 'The local Step Functions endpoint closed');
    }
    await Promise.all(running.map((execution) => execution.finished));
  }

  // --- TaskHost ---------------------------------------------------------------------------------

  functionArn(functionName: string, qualifier?: string): string {
    let arn: string;
    if (functionName.startsWith('arn:')) arn = functionName;
    else if (/^[^:]+:function:/.test(functionName)) {
      arn = `arn:${this.partition}:lambda:${this.region}:${functionName}`;
    } else {
      arn = `arn:${this.partition}:lambda:${this.region}:${this.accountId}:function:${functionName}`;
    }
    return qualifier && arn.split(':').length === 7 ? `${arn}:${qualifier}` : arn;
  }

  async invokeLambda(run: ExecutionRun, functionArn: string, payload: Json): Promise<Json> {
    run.stats.lambdaInvocations += 1;
    this.lambdasInFlight += 1;
    this.moved();
    try {
      // A copy, so that a function cannot change the interpreter's data behind its back.
      const result = await this.lambdaSlots.run(() =>
        this.invoker(functionArn, structuredClone(payload)),
      );
      return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as Json);
    } catch (thrown) {
      throw lambdaFailure(thrown);
    } finally {
      this.lambdasInFlight -= 1;
      this.moved();
    }
  }

  record(run: ExecutionRun, type: string, detailsKey?: string, details?: object): void {
    const execution = run as Execution;
    if (execution.status === 'RUNNING') this.append(execution, type, detailsKey, details);
  }

  openCallback(_run: ExecutionRun): CallbackSlot {
    const token = this.mint.issue();
    let settle: (outcome: CallbackOutcome) => void = () => {};
    const outcome = new Promise<CallbackOutcome>((resolve) => {
      settle = resolve;
    });
    const callback: PendingCallback = {
      token,
      outcome,
      settle,
      close: () => {
        this.callbacks.delete(token);
      },
    };
    this.callbacks.set(token, callback);
    return callback;
  }

  timeoutError(name: string, cause: string): Error {
    const error = new this.timeoutErrorClass();
    error.name = name;
    error.message = cause;
    return error;
  }

  // --- Executions -------------------------------------------------------------------------------

  private start(
    machine: Machine,
    arn: string,
    name: string,
    input: string,
    inputValue: Json,
  ): Execution {
    const startMs = this.clock.nowMs();
    const clock = this.clock;
    const startTime = new Date(startMs).toISOString();
    const context = {
      Execution: {
        Id: arn,
        Name: name,
        Input: inputValue,
        StartTime: startTime,
        RoleArn: this.roleArn(),
        RedriveCount: 0,
        [CONTEXT_INPUT]: inputValue,
        [CONTEXT_START_TIME]: startTime,
      },
      StateMachine: { Id: machine.arn, Name: machine.name },
      // Shared by reference with the interpreter's copy, so the getter answers at read time.
      State: {
        get EnteredTime() {
          return clock.now().toISOString();
        },
        RetryCount: 0,
      },
      Task: { Token: TASK_TOKEN_PLACEHOLDER },
    };
    this.seq += 1;
    const execution = new Execution(
      this.seq,
      arn,
      name,
      machine,
      input,
      inputValue,
      startMs,
      context,
    );
    this.executions.set(arn, execution);
    this.moving.add(execution);
    execution.onMove = () => this.moved();
    execution.onParkedChange = (parked) => {
      if (execution.status !== 'RUNNING') return;
      if (parked) this.moving.delete(execution);
      else this.moving.add(execution);
    };
    machine.executions.push(execution);
    this.append(execution, 'ExecutionStarted', 'executionStartedEventDetails', {
      input,
      inputDetails: { truncated: false },
      roleArn: this.roleArn(),
    });

    const running = machine.interpreter.run(inputValue as Parameters<StateMachine['run']>[0], {
      overrides: {
        taskResourceLocalHandlers: buildHandlers(
          this,
          execution,
          machine.prepared.states,
        ) as unknown as LocalHandlers,
        retryIntervalOverrides: machine.prepared.retryIntervalOverrides,
      },
      context: context as RunOptions['context'],
    });
    const abortRun = () => running.abort();
    execution.signal.addEventListener('abort', abortRun, { once: true });
    const consumed = this.consume(execution, running.eventLogs);
    execution.finished = (async () => {
      let outcome: { ok: true; output: unknown } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, output: await running.result };
      } catch (error) {
        outcome = { ok: false, error };
      }
      await consumed;
      execution.signal.removeEventListener('abort', abortRun);
      this.complete(execution, outcome);
    })();

    const timeoutSeconds = machine.prepared.timeoutSeconds;
    if (timeoutSeconds !== undefined) {
      this.clock.sleepUntil(startMs + timeoutSeconds * 1000, execution.signal).then(
        () => this.terminate(execution, 'TIMED_OUT', 'States.Timeout', undefined),
        () => {},
      );
    }
    return execution;
  }

  private async consume(
    execution: Execution,
    events: AsyncGenerator<InterpreterEvent>,
  ): Promise<void> {
    try {
      for await (const event of events) {
        this.moved();
        this.onInterpreterEvent(execution, event);
      }
    } catch {
      // The log only ends early if the interpreter breaks; the result promise reports that.
    }
  }

  private onInterpreterEvent(execution: Execution, event: InterpreterEvent): void {
    switch (event.type) {
      case 'StateEntered': {
        const name = event.state.name;
        if (execution.status === 'RUNNING') {
          execution.stats.stateTransitions += 1;
          this.append(
            execution,
            `${this.stateType(execution, name)}StateEntered`,
            'stateEnteredEventDetails',
            {
              name,
              input: JSON.stringify(event.state.input ?? null),
              inputDetails: { truncated: false },
            },
          );
        }
        execution.markEntered(name);
        break;
      }
      case 'StateExited': {
        const name = event.state.name;
        this.record(
          execution,
          `${this.stateType(execution, name)}StateExited`,
          'stateExitedEventDetails',
          {
            name,
            output: JSON.stringify(event.state.output ?? null),
            outputDetails: { truncated: false },
          },
        );
        break;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `mapIteration${event.type.slice('MapIteration'.length)}EventDetails`;
        this.record(execution, event.type, key, {
          name: event.parentState.name,
          index: event.index,
        });
        break;
      }
      default:
        break;
    }
  }

  private complete(
    execution: Execution,
    outcome: { ok: true; output: unknown } | { ok: false; error: unknown },
  ): void {
    if (execution.status !== 'RUNNING') return;
    this.moving.delete(execution);
    execution.stopMs = this.clock.nowMs();
    if (outcome.ok) {
      execution.status = 'SUCCEEDED';
      execution.output = JSON.stringify(outcome.output ?? null);
      this.append(execution, 'ExecutionSucceeded', 'executionSucceededEventDetails', {
        output: execution.output,
        outputDetails: { truncated: false },
      });
    } else {
      const { error, cause } = failureOf(outcome.error);
      execution.status = 'FAILED';
      execution.error = error;
      execution.cause = cause;
      this.append(execution, 'ExecutionFailed', 'executionFailedEventDetails', { error, cause });
    }
    // Releases the execution's timers (its TimeoutSeconds) and anything still parked.
    execution.controller.abort();
  }

  private terminate(
    execution: Execution,
    status: 'ABORTED' | 'TIMED_OUT',
    error: string | undefined,
    cause: string | undefined,
  ): void {
    if (execution.status !== 'RUNNING') return;
    this.moving.delete(execution);
    execution.status = status;
    execution.stopMs = this.clock.nowMs();
    execution.error = error;
    execution.cause = cause;
    if (status === 'ABORTED') {
      this.append(execution, 'ExecutionAborted', 'executionAbortedEventDetails', { error, cause });
    } else {
      this.append(execution, 'ExecutionTimedOut', 'executionTimedOutEventDetails', {
        error,
        cause,
      });
    }
    execution.controller.abort();
  }

  private append(execution: Execution, type: string, detailsKey?: string, details?: object): void {
    const id = execution.history.length + 1;
    const event: HistoryEvent = {
      id,
      previousEventId: id - 1,
      timestampMs: this.clock.nowMs(),
      type,
    };
    if (detailsKey && details) {
      event.detailsKey = detailsKey;
      event.details = details;
    }
    execution.history.push(event);
    this.moved();
  }

  private stateType(execution: Execution, stateName: string): string {
    return execution.machine.prepared.states.get(stateName)?.type ?? 'Task';
  }

  private isIdle(): boolean {
    return this.lambdasInFlight === 0 && this.moving.size === 0;
  }

  private liveCallback(token: string): PendingCallback {
    if (!this.mint.isGenuine(token)) throw new ApiError('InvalidToken', 'Invalid Token');
    const callback = this.callbacks.get(token);
    if (!callback) {
      // What AWS answers for a token whose task already ended, however it ended.
      throw new ApiError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    }
    return callback;
  }

  private machine(arn: string): Machine {
    const machine = this.machines.get(arn);
    if (!machine) {
      throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
    return machine;
  }

  private execution(arn: string): Execution {
    const execution = this.executions.get(arn);
    if (!execution) {
      throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    }
    return execution;
  }

  private roleArn(): string {
    return `arn:${this.partition}:iam::${this.accountId}:role/local-stepfunctions`;
  }
}

/**
 * The interpreter's own States.Timeout class is not exported, and only an instance of it escapes
 * its `States.TaskFailed` wildcard (AWS: TaskFailed matches everything but timeouts). One task
 * that times out after a millisecond hands us the class.
 */
let timeoutErrorClassPromise: Promise<new () => Error> | undefined;

function timeoutErrorClass(): Promise<new () => Error> {
  timeoutErrorClassPromise ??= (async () => {
    const probe = new StateMachine(
      {
        StartAt: 'Probe',
        States: {
          Probe: { Type: 'Task', Resource: 'local-sfn:probe', TimeoutSeconds: 0.001, End: true },
        },
      } as unknown as StateMachineDefinition,
      { validationOptions: { noValidate: true } },
    );
    const { result } = probe.run(null, {
      overrides: { taskResourceLocalHandlers: { Probe: () => new Promise(() => {}) } },
    });
    try {
      await result;
    } catch (error) {
      if (
        error instanceof ExecutionError &&
        error.cause instanceof Error &&
        error.cause.name === 'States.Timeout'
      ) {
        return error.cause.constructor as new () => Error;
      }
    }
    throw new Error('aws-local-stepfunctions no longer reports task timeouts as expected');
  })();
  return timeoutErrorClassPromise;
}

function failureOf(thrown: unknown): { error?: string; cause?: string } {
  const inner = thrown instanceof ExecutionError ? thrown.cause : thrown;
  if (inner instanceof Error) {
    return { error: inner.name || undefined, cause: inner.message || undefined };
  }
  return { error: 'States.Runtime', cause: undefined };
}

/** Like Lambda's function errors: the error type is the thrown error's name. */
function lambdaFailure(thrown: unknown): TaskAttemptError {
  let errorType = 'Error';
  let errorMessage = '';
  if (thrown instanceof Error) {
    errorType = thrown.name || 'Error';
    errorMessage = thrown.message;
  } else if (thrown !== null && typeof thrown === 'object') {
    const shaped = thrown as { errorType?: unknown; errorMessage?: unknown };
    if (typeof shaped.errorType === 'string') errorType = shaped.errorType;
    if (typeof shaped.errorMessage === 'string') errorMessage = shaped.errorMessage;
  } else {
    errorMessage = String(thrown);
  }
  // Lambda's own service errors carry a plain message; function errors the JSON error payload.
  const cause = errorType.startsWith('Lambda.')
    ? errorMessage
    : JSON.stringify({ errorMessage, errorType });
  return new TaskAttemptError(errorType, cause, 'task');
}

function serializeEvent(event: HistoryEvent, includeData: boolean): Body {
  const out: Body = {
    timestamp: seconds(event.timestampMs),
    type: event.type,
    id: event.id,
    previousEventId: event.previousEventId,
  };
  if (event.detailsKey && event.details) {
    let details = event.details as Body;
    if (!includeData) {
      const { input: _input, output: _output, ...rest } = details;
      details = rest;
    }
    out[event.detailsKey] = details;
  }
  return out;
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The service's JSON protocol sends timestamps as epoch seconds. */
function seconds(ms: number): number {
  return ms / 1000;
}

function sameJson(a: Json, b: Json): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical(value[key] as Json)]),
  );
}

function requireString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') {
    throw new ApiError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new ApiError('ValidationException', `Value at '${field}' must be a string`);
  }
  return value;
}

function requireArn(body: Body, field: string, kind: 'stateMachine' | 'execution'): string {
  const arn = requireString(body, field);
  if (!(kind === 'stateMachine' ? STATE_MACHINE_ARN : EXECUTION_ARN).test(arn)) {
    throw new ApiError('InvalidArn', `Invalid Arn: '${arn}'`);
  }
  return arn;
}

function maxResults(body: Body): number {
  const value = body.maxResults;
  if (value === undefined || value === null || value === 0) return 100;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 1000) {
    throw new ApiError('ValidationException', 'maxResults must be between 0 and 1000');
  }
  return value as number;
}

function encodeCursor(cursor: Record<string, number>): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** AWS answers a page token it cannot read with InvalidToken. */
function decodeCursor(token: unknown, field: string): number | undefined {
  if (token === undefined || token === null) return undefined;
  try {
    const value = (JSON.parse(Buffer.from(String(token), 'base64url').toString()) as Body)[field];
    if (Number.isInteger(value)) return value as number;
  } catch {
    // Reported below.
  }
  throw new ApiError('InvalidToken', 'Invalid Token: the page token is not valid');
}

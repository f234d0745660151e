import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { DefinitionError } from './errors.ts';

/**
 * Rewrites an ASL definition into the one the interpreter runs, and indexes what we enforce
 * ourselves. The interpreter measures time with the wall clock (task timeouts, Wait states, retry
 * back-off, the execution timeout) and knows no task tokens; the local endpoint takes those over
 * so that they follow the virtual clock and the callback protocol:
 *
 * - every Task runs through a local handler; its Retry, TimeoutSeconds(Path) and
 *   HeartbeatSeconds(Path) move into the handler, and the interpreter's own task timer is set to
 *   the longest a Node timer can wait, so that it never fires first;
 * - every Wait becomes a Task whose handler sleeps on the virtual clock (same input and output
 *   processing: InputPath, then OutputPath);
 * - `$$.Execution.Input`/`StartTime` point at copies the interpreter cannot overwrite (it resets
 *   both inside Parallel branches and Map iterations, and stamps wall-clock time);
 * - `$$.State.Name` becomes a literal, since the context object is shared by all states.
 */

export type Retrier = {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
};

export type TaskKind =
  /** `arn:aws:lambda:<region>:<account>:function:<name>`: output is the function's result. */
  | 'lambda'
  /** `arn:aws:states:::lambda:invoke`: output wraps the result in `Payload`. */
  | 'invoke'
  /** `arn:aws:states:::lambda:invoke.waitForTaskToken`: output comes from SendTaskSuccess. */
  | 'invoke-callback'
  | 'unsupported';

export interface TaskStateInfo {
  type: 'Task';
  name: string;
  resource: string;
  kind: TaskKind;
  retry: Retrier[];
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
  heartbeatSeconds?: number;
  heartbeatSecondsPath?: string;
  /** Parameters were wrapped so that the handler also sees the input before Parameters. */
  wrapsInput: boolean;
}

export interface WaitStateInfo {
  type: 'Wait';
  name: string;
  seconds?: number;
  timestamp?: string;
  secondsPath?: string;
  timestampPath?: string;
}

export interface OtherStateInfo {
  type: 'Pass' | 'Choice' | 'Succeed' | 'Fail' | 'Parallel' | 'Map';
  name: string;
}

export type StateInfo = TaskStateInfo | WaitStateInfo | OtherStateInfo;

export interface PreparedDefinition {
  interpreterDefinition: StateMachineDefinition;
  states: Map<string, StateInfo>;
  /** Parallel and Map states keep their Retry in the interpreter; its back-off is skipped. */
  retryIntervalOverrides: Record<string, number>;
  /** The top-level TimeoutSeconds, enforced on the virtual clock. */
  timeoutSeconds?: number;
}

/** Where `$$.Task.Token` is read; the task handler swaps in the token of each attempt. */
export const TASK_TOKEN_PLACEHOLDER = 'local-sfn:task-token:3f6c1a9e0b7d4e2f';
export const WAIT_RESOURCE = 'local-sfn:wait';
export const WRAPPED_PARAMETERS = 'localSfnParameters';
export const WRAPPED_INPUT = 'localSfnStateInput';
export const CONTEXT_INPUT = 'LocalSfnInput';
export const CONTEXT_START_TIME = 'LocalSfnStartTime';

/** setTimeout's ceiling (2^31 - 1 ms), in whole seconds. */
const INTERPRETER_TASK_TIMEOUT_SECONDS = 2_147_483;

const LAMBDA_FUNCTION_ARN = /^arn:[\w-]+:lambda:[\w-]+:[^:]+:function:[^:]+(:[^:]+)?$/;
const LAMBDA_INVOKE = /^arn:[\w-]+:states:::lambda:invoke$/;
const LAMBDA_INVOKE_CALLBACK = /^arn:[\w-]+:states:::lambda:invoke\.waitForTaskToken$/;

type JsonObject = Record<string, unknown>;

export function prepareDefinition(definition: object, machineName: string): PreparedDefinition {
  try {
    // Validates like CreateStateMachine would, so a broken definition fails at start-up.
    new StateMachine(definition as StateMachineDefinition);
  } catch (error) {
    throw new DefinitionError(
      `state machine ${machineName}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const root = definition as JsonObject;
  if (root.QueryLanguage === 'JSONata') {
    throw new DefinitionError(`state machine ${machineName}: JSONata is not supported locally`);
  }
  const prepared: PreparedDefinition = {
    interpreterDefinition: undefined as unknown as StateMachineDefinition,
    states: new Map(),
    retryIntervalOverrides: {},
  };
  const { TimeoutSeconds, ...rest } = root;
  if (typeof TimeoutSeconds === 'number') prepared.timeoutSeconds = TimeoutSeconds;
  prepared.interpreterDefinition = {
    ...rest,
    States: prepareStates(rest.States as JsonObject, prepared, machineName),
  } as unknown as StateMachineDefinition;
  return prepared;
}

function prepareStates(
  states: JsonObject,
  prepared: PreparedDefinition,
  machineName: string,
): JsonObject {
  const out: JsonObject = {};
  for (const [name, raw] of Object.entries(states)) {
    if (prepared.states.has(name)) {
      throw new DefinitionError(`state machine ${machineName}: state name '${name}' is not unique`);
    }
    const state = rewriteContextPaths(raw, name) as JsonObject;
    if (state.QueryLanguage === 'JSONata') {
      throw new DefinitionError(`state machine ${machineName}: JSONata is not supported locally`);
    }
    switch (state.Type) {
      case 'Task':
        out[name] = prepareTask(name, state, prepared);
        break;
      case 'Wait':
        out[name] = prepareWait(name, state, prepared);
        break;
      case 'Parallel':
        prepared.states.set(name, { type: 'Parallel', name });
        if (state.Retry) prepared.retryIntervalOverrides[name] = 0;
        out[name] = {
          ...state,
          Branches: (state.Branches as JsonObject[]).map((branch) => ({
            ...branch,
            States: prepareStates(branch.States as JsonObject, prepared, machineName),
          })),
        };
        break;
      case 'Map': {
        prepared.states.set(name, { type: 'Map', name });
        if (state.Retry) prepared.retryIntervalOverrides[name] = 0;
        const key = state.ItemProcessor ? 'ItemProcessor' : 'Iterator';
        const processor = state[key] as JsonObject;
        out[name] = {
          ...state,
          [key]: {
            ...processor,
            States: prepareStates(processor.States as JsonObject, prepared, machineName),
          },
        };
        break;
      }
      case 'Fail': {
        prepared.states.set(name, { type: 'Fail', name });
        // The interpreter invents an error name and cause when a Fail state gives none; AWS
        // reports none, so give it empty ones to report.
        const fail = { ...state };
        if (fail.Error === undefined && fail.ErrorPath === undefined) fail.Error = '';
        if (fail.Cause === undefined && fail.CausePath === undefined) fail.Cause = '';
        out[name] = fail;
        break;
      }
      default:
        prepared.states.set(name, { type: state.Type as OtherStateInfo['type'], name });
        out[name] = state;
    }
  }
  return out;
}

function prepareTask(name: string, state: JsonObject, prepared: PreparedDefinition): JsonObject {
  const {
    Retry,
    TimeoutSeconds,
    TimeoutSecondsPath,
    HeartbeatSeconds,
    HeartbeatSecondsPath,
    Credentials: _credentials,
    ...rest
  } = state;
  const resource = String(rest.Resource);
  const info: TaskStateInfo = {
    type: 'Task',
    name,
    resource,
    kind: taskKind(resource),
    retry: (Retry as Retrier[] | undefined) ?? [],
    wrapsInput: false,
  };
  if (typeof TimeoutSeconds === 'number') info.timeoutSeconds = TimeoutSeconds;
  if (typeof TimeoutSecondsPath === 'string') info.timeoutSecondsPath = TimeoutSecondsPath;
  if (typeof HeartbeatSeconds === 'number') info.heartbeatSeconds = HeartbeatSeconds;
  if (typeof HeartbeatSecondsPath === 'string') info.heartbeatSecondsPath = HeartbeatSecondsPath;
  const out: JsonObject = { ...rest, TimeoutSeconds: INTERPRETER_TASK_TIMEOUT_SECONDS };
  // The timeout paths read the state input (after InputPath, before Parameters), as AWS does;
  // the handler only receives the input after Parameters, so pass both along.
  if ((info.timeoutSecondsPath || info.heartbeatSecondsPath) && 'Parameters' in rest) {
    info.wrapsInput = true;
    out.Parameters = { [WRAPPED_PARAMETERS]: rest.Parameters, [`${WRAPPED_INPUT}.$`]: '$' };
  }
  // A catcher for States.Timeout also catches heartbeat timeouts; the interpreter matches names
  // literally.
  if ((info.heartbeatSeconds || info.heartbeatSecondsPath) && Array.isArray(rest.Catch)) {
    out.Catch = (rest.Catch as JsonObject[]).map((catcher) => {
      const errors = catcher.ErrorEquals as string[];
      return errors.includes('States.Timeout') && !errors.includes('States.HeartbeatTimeout')
        ? { ...catcher, ErrorEquals: [...errors, 'States.HeartbeatTimeout'] }
        : catcher;
    });
  }
  prepared.states.set(name, info);
  return out;
}

function prepareWait(name: string, state: JsonObject, prepared: PreparedDefinition): JsonObject {
  const info: WaitStateInfo = { type: 'Wait', name };
  if (typeof state.Seconds === 'number') info.seconds = state.Seconds;
  if (typeof state.Timestamp === 'string') info.timestamp = state.Timestamp;
  if (typeof state.SecondsPath === 'string') info.secondsPath = state.SecondsPath;
  if (typeof state.TimestampPath === 'string') info.timestampPath = state.TimestampPath;
  prepared.states.set(name, info);
  const out: JsonObject = {
    Type: 'Task',
    Resource: WAIT_RESOURCE,
    TimeoutSeconds: INTERPRETER_TASK_TIMEOUT_SECONDS,
  };
  for (const key of ['Comment', 'InputPath', 'OutputPath', 'Next', 'End']) {
    if (key in state) out[key] = state[key];
  }
  return out;
}

function taskKind(resource: string): TaskKind {
  if (LAMBDA_INVOKE.test(resource)) return 'invoke';
  if (LAMBDA_INVOKE_CALLBACK.test(resource)) return 'invoke-callback';
  if (LAMBDA_FUNCTION_ARN.test(resource)) return 'lambda';
  return 'unsupported';
}

const NESTED_MACHINES = new Set(['Branches', 'ItemProcessor', 'Iterator']);
const LITERALS = new Set(['Result', 'Comment']);
const EXECUTION_FIELD = /\$\$\.Execution\.(Input|StartTime)(?![\w])/g;

/** Deep copy of one state with the context paths rewritten (nested machines are left alone). */
function rewriteContextPaths(state: unknown, stateName: string): unknown {
  const visit = (value: unknown, key: string | undefined): unknown => {
    if (typeof value === 'string') {
      let text = value.replace(EXECUTION_FIELD, (_match, field: string) =>
        field === 'Input' ? `$$.Execution.${CONTEXT_INPUT}` : `$$.Execution.${CONTEXT_START_TIME}`,
      );
      if (key?.endsWith('.$') && text.startsWith('States.') && /^[\w .-]*$/.test(stateName)) {
        text = text.replaceAll('$$.State.Name', `'${stateName}'`);
      }
      return text;
    }
    if (Array.isArray(value)) return value.map((item) => visit(item, undefined));
    if (value === null || typeof value !== 'object') return value;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (k.endsWith('.$') && v === '$$.State.Name') out[k.slice(0, -2)] = stateName;
      else out[k] = visit(v, k);
    }
    return out;
  };
  if (state === null || typeof state !== 'object') return state;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(state)) {
    out[k] = NESTED_MACHINES.has(k) || LITERALS.has(k) ? v : visit(v, k);
  }
  return out;
}

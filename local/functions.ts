import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { currentFunction, runAsFunction } from '#adapters/function-env';
import { FUNCTIONS, type FunctionKey } from '#functions/registry';
import { addSendHook } from '#local/sdk-send';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const loaded = new Map<FunctionKey, Promise<Handler>>();
const invocations = new Map<FunctionKey, number>();

/**
 * What each function gets, as the synthesized template gives it: its own environment (plus the
 * local endpoints and dummy credentials) and the IAM actions its role allows.
 */
export interface FunctionRuntime {
  environment(key: FunctionKey): Readonly<Record<string, string>>;
  actions(key: FunctionKey): readonly string[];
}

let runtime: FunctionRuntime | undefined;
const environments = new Map<FunctionKey, Readonly<Record<string, string>>>();

/** From now on every function runs with exactly its own environment and permissions. */
export function configureFunctions(next: FunctionRuntime | undefined): void {
  runtime = next;
  environments.clear();
  allowed.clear();
}

function load(key: FunctionKey): Promise<Handler> {
  let handler = loaded.get(key);
  if (!handler) {
    // The same module the CDK app bundles for Lambda, imported as it is.
    handler = import(/* @vite-ignore */ `../${FUNCTIONS[key].entry}`).then(
      (m: { handler: Handler }) => m.handler,
    );
    loaded.set(key, handler);
  }
  return handler;
}

/** The context Lambda hands an invocation of `key` (tests calling a handler directly use it too). */
export function lambdaContext(key: FunctionKey): Context {
  const deadline = Date.now() + 20_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: key,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${key}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${key}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Runs `work` inside the function `key`'s container: its environment, its grants and its
 * module-level clients. Tests use it to replace a port of one function, as a unit test would.
 */
export function asFunction<T>(key: FunctionKey, work: () => T): T {
  if (!runtime) return work();
  let env = environments.get(key);
  if (!env) {
    env = runtime.environment(key);
    environments.set(key, env);
  }
  if (override) {
    const merged = override.environments;
    env = merged.get(key) ?? merged.set(key, { ...env, ...override.variables }).get(key)!;
  }
  return runAsFunction({ name: key, env }, work);
}

let override:
  | {
      variables: Readonly<Record<string, string>>;
      environments: Map<FunctionKey, Readonly<Record<string, string>>>;
    }
  | undefined;
const overrides = new WeakMap<object, NonNullable<typeof override>>();

/**
 * Every function invoked while `work` runs sees `variables` in its environment (a benchmark
 * pointing the same handlers at a second table). A function whose environment changes gets a fresh
 * container (its per-container clients and stores built again), as after a deployment; the modules
 * stay loaded.
 */
export async function withEnvironment<T>(
  variables: Readonly<Record<string, string>>,
  work: () => Promise<T>,
): Promise<T> {
  let next = overrides.get(variables);
  if (!next) {
    next = { variables, environments: new Map() };
    overrides.set(variables, next);
  }
  const previous = override;
  override = next;
  try {
    return await work();
  } finally {
    override = previous;
  }
}

/** Invokes a handler in this process, as the Lambda runtime would: one event, one context. */
export async function invokeFunction(key: FunctionKey, event: unknown): Promise<unknown> {
  invocations.set(key, (invocations.get(key) ?? 0) + 1);
  const handler = await load(key);
  const started = performance.now();
  try {
    return await asFunction(key, () => handler(event, lambdaContext(key)));
  } finally {
    // Lambda bills each invocation's duration rounded up to the millisecond (init apart).
    const ms = Math.ceil(performance.now() - started);
    billedMillis.set(key, (billedMillis.get(key) ?? 0) + ms);
  }
}

export function invocationCounts(): ReadonlyMap<FunctionKey, number> {
  return invocations;
}

const billedMillis = new Map<FunctionKey, number>();

/**
 * Each function's handler time so far, per invocation rounded up to the millisecond as Lambda
 * bills it; module loading (Lambda's init) is left out. Measured here, not in Lambda: the handlers
 * share this machine's cores with the local services, and wait on DynamoDB Local, not DynamoDB.
 */
export function invocationMillis(): ReadonlyMap<FunctionKey, number> {
  return billedMillis;
}

// ─── IAM, locally ────────────────────────────────────────────────────────────────────────────

const SERVICE_PREFIXES: Record<string, string> = {
  DynamoDB: 'dynamodb',
  SFN: 'states',
  SES: 'ses',
  S3: 's3',
  'Secrets Manager': 'secretsmanager',
};

/** The document client's commands, by the table action IAM authorizes them as. */
const DOCUMENT_COMMANDS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
};

/** A transaction is authorized item by item, as the action of each item. */
const TRANSACTION_ITEMS: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

/** The IAM actions one SDK call needs, e.g. `dynamodb:PutItem` for a PutCommand. */
export function actionsOf(serviceId: string, command: object): string[] {
  const prefix = SERVICE_PREFIXES[serviceId] ?? serviceId.toLowerCase().replaceAll(' ', '');
  const name = command.constructor.name.replace(/Command$/, '');
  const input = (command as { input?: { TransactItems?: Record<string, unknown>[] } }).input;
  if (prefix === 'dynamodb' && /^Transact(Write|Get)(Items)?$/.test(name)) {
    return [
      ...new Set(
        (input?.TransactItems ?? []).flatMap((item) =>
          Object.keys(item).map((kind) => `dynamodb:${TRANSACTION_ITEMS[kind] ?? kind}`),
        ),
      ),
    ];
  }
  return [`${prefix}:${DOCUMENT_COMMANDS[name] ?? name}`];
}

const allowed = new Map<FunctionKey, RegExp[]>();

function allows(key: FunctionKey, action: string): boolean {
  let patterns = allowed.get(key);
  if (!patterns) {
    patterns = (runtime?.actions(key) ?? []).map(
      (p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`, 'i'),
    );
    allowed.set(key, patterns);
  }
  return patterns.some((p) => p.test(action));
}

/**
 * Every AWS SDK call goes through `Client.send`. Made inside a function, a call its role does not
 * allow is refused as AWS refuses it, so a missing grant fails locally, not first in the cloud.
 */
addSendHook('iam', ({ serviceId, command }, next) => {
  const key = currentFunction() as FunctionKey | undefined;
  if (key && runtime) {
    const denied = actionsOf(serviceId, command).find((action) => !allows(key, action));
    if (denied) {
      const error = new Error(
        `User: arn:aws:sts::000000000000:assumed-role/${key}/local is not authorized to perform: ${denied} because no identity-based policy allows the ${denied} action`,
      );
      error.name = 'AccessDeniedException';
      return Promise.reject(error);
    }
  }
  return next();
});

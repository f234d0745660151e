import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionKey } from '#functions/registry';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const loaded = new Map<FunctionKey, Promise<Handler>>();
const invocations = new Map<FunctionKey, number>();

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

function lambdaContext(key: FunctionKey): Context {
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

/** Invokes a handler in this process, as the Lambda runtime would: one event, one context. */
export async function invokeFunction(key: FunctionKey, event: unknown): Promise<unknown> {
  invocations.set(key, (invocations.get(key) ?? 0) + 1);
  const handler = await load(key);
  return handler(event, lambdaContext(key));
}

export function invocationCounts(): ReadonlyMap<FunctionKey, number> {
  return invocations;
}

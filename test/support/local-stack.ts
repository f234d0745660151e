import { expect } from 'vitest';
import { type LocalStack, startLocalStack } from '#local/stack';
import { dynamoEndpoint, uniqueTableName } from './dynamodb.ts';

/** The whole local stack on free ports, sharing the test run's DynamoDB Local. */
export function startTestStack(
  options: { speed?: number; start?: Date; lifecycleConfig?: Record<string, unknown> } = {},
): Promise<LocalStack> {
  return startLocalStack({
    dynamodbEndpoint: dynamoEndpoint(),
    tableName: uniqueTableName('stack'),
    tokenUnits: ['water-supply', 'power-supply'],
    ...options,
  });
}

export type Api = (
  method: string,
  path: string,
  options?: { token?: string; body?: unknown; raw?: string; type?: string },
) => Promise<{
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered
  body: any;
  text: string;
}>;

export function apiClient(stack: LocalStack): Api {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.type ?? 'application/json';
    const response = await fetch(`${stack.urls.api}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text };
  };
}

/** POST /tickets as the operator, with an Idempotency-Key when one is given. */
export async function postTicket(
  stack: LocalStack,
  body: unknown,
  key?: string,
): Promise<{
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered
  body: any;
}> {
  const response = await fetch(`${stack.urls.api}/tickets`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.tokens.operator}`,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Polls the local stack until `check` passes: the workflow runs asynchronously, as in AWS. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function replyIdFrom(text: string | undefined): string {
  const match = /\/replies\/([A-Za-z0-9_-]{32})/.exec(text ?? '');
  expect(match, 'a reply link in the mail').not.toBeNull();
  return match![1]!;
}

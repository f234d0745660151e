import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { keys } from '#adapters/dynamodb/keys';
import { TTL_ATTRIBUTE } from '#adapters/dynamodb/schema';
import type { Principal } from '#core/access';
import { now } from '#core/clock';
import { ValidationError } from '#core/errors';
import { type HttpEvent, type HttpResult, json } from './http.ts';

/** A client may retry with the same key for a day; then the key may be reused. */
const KEY_TTL_SECONDS = 24 * 3600;
/** Longer than a function may run (20 s): a request that died mid-way frees its key after this. */
const LOCK_MS = 60_000;
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

interface KeyRecord {
  state: 'in_progress' | 'completed';
  requestHash: string;
  lockedUntil: number;
  response?: { statusCode: number; body: string; headers: Record<string, string> };
}

/**
 * `Idempotency-Key` on a creating POST: the first request with a key runs, and a retry with the
 * same key (same caller, same body) gets the first response again instead of creating a second
 * thing. Only a 2xx is kept: a refused or failed request frees the key, so its retry runs afresh.
 * A retry while the first still runs gets 409 with Retry-After; the same key with another body,
 * 422. Written with the table's own conditional put (pattern 23 in ACCESS-PATTERNS.md).
 */
export async function idempotent(
  scope: string,
  event: HttpEvent,
  principal: Principal,
  run: () => Promise<HttpResult>,
): Promise<HttpResult> {
  const key = event.headers?.['idempotency-key'];
  if (key === undefined) return run();
  if (!KEY_PATTERN.test(key)) {
    throw new ValidationError('the Idempotency-Key header is malformed', [
      { field: 'Idempotency-Key', problem: 'must be 8 to 128 letters, digits or _ . : -' },
    ]);
  }
  // Keys are the client's: two callers using the same key never see each other's response.
  const itemKey = keys.idempotency(scope, `${principal.subject}#${key}`);
  const requestHash = createHash('sha256')
    .update(event.body ?? '')
    .digest('base64url');
  const at = now().getTime();
  const record: KeyRecord = { state: 'in_progress', requestHash, lockedUntil: at + LOCK_MS };
  try {
    await documentClient.send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...itemKey, ...record, [TTL_ATTRIBUTE]: Math.floor(at / 1000) + KEY_TTL_SECONDS },
        ConditionExpression:
          'attribute_not_exists(PK) OR (#state = :progress AND lockedUntil < :now)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':progress': 'in_progress', ':now': at },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return replay(itemKey, requestHash);
  }
  let result: HttpResult;
  try {
    result = await run();
  } catch (error) {
    await release(itemKey);
    throw error;
  }
  const status = result.statusCode ?? 200;
  if (status < 200 || status >= 300) {
    await release(itemKey);
    return result;
  }
  await documentClient.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: itemKey,
      UpdateExpression: 'SET #state = :completed, #response = :response',
      ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
      ExpressionAttributeValues: {
        ':completed': 'completed',
        ':response': {
          statusCode: status,
          body: typeof result.body === 'string' ? result.body : '',
          headers: Object.fromEntries(
            Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]),
          ),
        },
      },
    }),
  );
  return result;
}

async function replay(itemKey: Record<string, string>, requestHash: string): Promise<HttpResult> {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: tableName(), Key: itemKey, ConsistentRead: true }),
  );
  const record = Item as KeyRecord | undefined;
  if (record && record.requestHash !== requestHash) {
    return json(422, {
      error: {
        code: 'idempotency_key_reused',
        message: 'this Idempotency-Key was used for another request',
        fields: [{ field: 'Idempotency-Key', problem: 'was used with a different body' }],
      },
    });
  }
  if (record?.state === 'completed' && record.response) {
    return {
      statusCode: record.response.statusCode,
      headers: { ...record.response.headers, 'idempotent-replayed': 'true' },
      body: record.response.body,
    };
  }
  return json(
    409,
    {
      error: {
        code: 'request_in_progress',
        message: 'a request with this Idempotency-Key is still running',
        fields: [{ field: 'Idempotency-Key', problem: 'is in use by a request still running' }],
      },
    },
    { 'retry-after': '1' },
  );
}

async function release(itemKey: Record<string, string>): Promise<void> {
  await documentClient.send(new DeleteCommand({ TableName: tableName(), Key: itemKey }));
}

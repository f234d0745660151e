import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { keys } from '#adapters/dynamodb/keys';
import { TTL_ATTRIBUTE } from '#adapters/dynamodb/schema';
import type { Principal } from '#core/access';
import { now } from '#core/clock';
import { ValidationError } from '#core/errors';
import type { WriteAlongside } from '#core/ports';
import { AlongsideRefusedError } from '#core/tickets';
import { type HttpEvent, type HttpResult, json } from './http.ts';

/** A client may retry with the same key for a day; then the key may be reused. */
const KEY_TTL_SECONDS = 24 * 3600;
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

interface KeyRecord {
  /** 'in_progress': a lock written before the answer was stored with it; none are written now. */
  state: 'in_progress' | 'completed';
  requestHash: string;
  lockedUntil?: number;
  response?: { statusCode: number; body: string; headers: Record<string, string> };
}

/**
 * Stores a 2xx answer under the request's key in the same write as what the request creates
 * (SaveOptions.alongside), so the thing and its answer are stored together or not at all.
 */
export type StoreAnswer = (answer: HttpResult) => WriteAlongside;

/**
 * `Idempotency-Key` on a creating POST: the first request with a key runs, and a retry with the
 * same key (same caller, same body) gets the first response again instead of creating a second
 * thing. Only a 2xx is kept, and it is kept in the creating write itself (`run` gets the items
 * for it): a crash can no longer leave a created thing whose key does not answer for it. A
 * refused or failed request stores nothing, so its retry runs afresh. Two requests with one key
 * at once both run; the second's write is refused on the key and it answers with the first's
 * 2xx. The same key with another body gets 422. Pattern 23 in ACCESS-PATTERNS.md.
 */
export async function idempotent(
  scope: string,
  event: HttpEvent,
  principal: Principal,
  run: (storeAnswer: StoreAnswer | undefined) => Promise<HttpResult>,
): Promise<HttpResult> {
  const key = event.headers?.['idempotency-key'];
  if (key === undefined) return run(undefined);
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
  const earlier = await read(itemKey);
  if (earlier && !(earlier.state === 'in_progress' && (earlier.lockedUntil ?? 0) < at)) {
    return replay(earlier, requestHash);
  }
  let stored = false;
  const storeAnswer: StoreAnswer = (answer) => {
    stored = true;
    const record: KeyRecord = { state: 'completed', requestHash, response: kept(answer) };
    return {
      items: [
        {
          Put: {
            TableName: tableName(),
            Item: {
              ...itemKey,
              ...record,
              [TTL_ATTRIBUTE]: Math.floor(at / 1000) + KEY_TTL_SECONDS,
            },
            // A lock left by a request that died before this version: free once expired.
            ConditionExpression:
              'attribute_not_exists(PK) OR (#state = :progress AND lockedUntil < :now)',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':progress': 'in_progress', ':now': at },
          },
        },
      ],
    };
  };
  let result: HttpResult;
  try {
    result = await run(storeAnswer);
  } catch (error) {
    if (!(error instanceof AlongsideRefusedError)) throw error;
    // A request with the same key stored its answer first: this one stored nothing.
    return replay(await read(itemKey), requestHash);
  }
  const status = result.statusCode ?? 200;
  if (status >= 200 && status < 300 && !stored) {
    throw new Error(`${scope}: a 2xx answer must be stored with its Idempotency-Key`);
  }
  return result;
}

function kept(answer: HttpResult): NonNullable<KeyRecord['response']> {
  return {
    statusCode: answer.statusCode ?? 200,
    body: typeof answer.body === 'string' ? answer.body : '',
    headers: Object.fromEntries(
      Object.entries(answer.headers ?? {}).map(([k, v]) => [k, String(v)]),
    ),
  };
}

async function read(itemKey: Record<string, string>): Promise<KeyRecord | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: tableName(), Key: itemKey, ConsistentRead: true }),
  );
  return Item as KeyRecord | undefined;
}

function replay(record: KeyRecord | undefined, requestHash: string): HttpResult {
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

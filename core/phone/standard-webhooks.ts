/**
 * Our own webhook format, following the Standard Webhooks specification
 * (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and `webhook-signature`
 * headers, the signature being `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the
 * bytes behind `whsec_<base64>`, and several space-separated signatures allowed so that senders
 * can sign with old and new secret during a rotation.
 *
 * Deliberately stricter than the reference libraries: the timestamp must be a plain decimal
 * number of seconds (they parseInt, so `1795234367abc` passes), and it is refused as much as
 * `toleranceSeconds` in the future as in the past.
 */
import { createHmac } from 'node:crypto';
import { decodeBase64Strict, equalBytes } from './crypto.ts';
import {
  type Accepted,
  mapSurveyKeys,
  type PhoneEvent,
  type Received,
  STANDARD_EVENT_TYPES,
  StandardWebhookBodySchema,
} from './events.ts';
import {
  checkBodySize,
  checkContentType,
  checkEventTimes,
  describeIssues,
  type HttpHeaders,
  parseJsonBody,
  type Rejection,
  readHeader,
  reject,
  type TimeWindow,
} from './http.ts';

export const DEFAULT_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';
const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;
/** Up to 11 digits (year 5138): a 13-digit millisecond value is a sender bug, not a time. */
const SECONDS = /^(?:0|[1-9][0-9]{0,10})$/;
const MAX_SIGNATURE_HEADER = 8 * 1024;
const HMAC_SHA256_BYTES = 32;

/**
 * Decodes a `whsec_<base64>` secret. Throws (a configuration error, never caused by a request);
 * the message never contains the secret.
 */
export function parseWebhookSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new TypeError('webhook secret must have the form whsec_<base64>');
  }
  const key = decodeBase64Strict(secret.slice(SECRET_PREFIX.length));
  // The spec recommends 24 to 64 random bytes; anything shorter is a pasted password.
  if (key === undefined || key.byteLength < 24 || key.byteLength > 64) {
    throw new TypeError('webhook secret must be whsec_ followed by base64 of 24 to 64 bytes');
  }
  return key;
}

function signedContent(id: string, timestampSeconds: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${id}.${timestampSeconds}.`, 'utf8'), body]);
}

function hmac(key: Buffer, content: Buffer): Buffer {
  return createHmac('sha256', key).update(content).digest();
}

/** A type alias rather than an interface so that it is assignable to a plain header record. */
export type StandardWebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * Produces the three headers for an outbound delivery (our survey requests) or a test. With
 * several secrets, one signature per secret, space-separated, as during a rotation.
 */
export function signStandardWebhook(input: {
  id: string;
  timestamp: Date;
  body: string | Uint8Array;
  secret: string | readonly string[];
}): StandardWebhookHeaders {
  if (!WEBHOOK_ID.test(input.id)) {
    throw new TypeError('webhook id must be 1 to 256 visible ASCII characters');
  }
  const ms = input.timestamp.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError('timestamp must be a valid date');
  const seconds = String(Math.floor(ms / 1000));
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  const content = signedContent(input.id, seconds, body);
  const secrets = typeof input.secret === 'string' ? [input.secret] : input.secret;
  if (secrets.length === 0) throw new TypeError('at least one secret is required');
  const signatures = secrets.map(
    (secret) => `v1,${hmac(parseWebhookSecret(secret), content).toString('base64')}`,
  );
  return {
    'webhook-id': input.id,
    'webhook-timestamp': seconds,
    'webhook-signature': signatures.join(' '),
  };
}

export interface VerifyStandardWebhookInput {
  headers: HttpHeaders;
  /** The body exactly as received; never a re-serialisation of parsed JSON. */
  rawBody: Uint8Array;
  /** Every secret currently valid for this sender; a rotated-out secret is simply not listed. */
  secrets: readonly string[];
  now: Date;
  toleranceSeconds?: number;
  maxBodyBytes?: number;
  /** How far from `now` the event's own times may be (DEFAULT_TIME_WINDOW when omitted). */
  timeWindow?: TimeWindow;
}

export type StandardWebhookVerification =
  | { ok: true; id: string; timestamp: Date }
  | Rejection<400 | 401 | 413>;

/**
 * Verifies a delivery on its raw bytes. Never throws for anything in the request; throws only if
 * `secrets`, `toleranceSeconds` or `maxBodyBytes` are misconfigured.
 */
export function verifyStandardWebhook(
  input: VerifyStandardWebhookInput,
): StandardWebhookVerification {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isSafeInteger(tolerance) || tolerance < 0) {
    throw new TypeError('toleranceSeconds must be a non-negative integer');
  }
  if (input.secrets.length === 0) throw new TypeError('at least one webhook secret is required');
  const keys = input.secrets.map(parseWebhookSecret);

  const tooLarge = checkBodySize(input.rawBody, input.maxBodyBytes);
  if (tooLarge) return tooLarge;

  const idHeader = readHeader(input.headers, 'webhook-id');
  if (idHeader.kind === 'ambiguous') {
    return reject(400, 'header_ambiguous', 'webhook-id was sent more than once');
  }
  if (idHeader.kind === 'absent') return reject(400, 'webhook_id_missing', 'webhook-id is missing');
  const id = idHeader.value;
  if (!WEBHOOK_ID.test(id)) {
    return reject(
      400,
      'webhook_id_malformed',
      'webhook-id must be 1 to 256 visible ASCII characters',
    );
  }

  const tsHeader = readHeader(input.headers, 'webhook-timestamp');
  if (tsHeader.kind === 'ambiguous') {
    return reject(400, 'header_ambiguous', 'webhook-timestamp was sent more than once');
  }
  if (tsHeader.kind === 'absent') {
    return reject(400, 'timestamp_missing', 'webhook-timestamp is missing');
  }
  if (!SECONDS.test(tsHeader.value)) {
    return reject(
      400,
      'timestamp_malformed',
      'webhook-timestamp must be whole seconds since the Unix epoch, digits only',
    );
  }
  const timestamp = Number(tsHeader.value);
  const nowSeconds = Math.floor(input.now.getTime() / 1000);
  if (nowSeconds - timestamp > tolerance) {
    return reject(401, 'timestamp_too_old', `webhook-timestamp is more than ${tolerance}s old`);
  }
  if (timestamp - nowSeconds > tolerance) {
    return reject(401, 'timestamp_too_new', `webhook-timestamp is more than ${tolerance}s ahead`);
  }

  const sigHeader = readHeader(input.headers, 'webhook-signature');
  if (sigHeader.kind === 'ambiguous') {
    return reject(400, 'header_ambiguous', 'webhook-signature was sent more than once');
  }
  if (sigHeader.kind === 'absent') {
    return reject(401, 'signature_missing', 'webhook-signature is missing');
  }
  if (sigHeader.value.length > MAX_SIGNATURE_HEADER) {
    return reject(401, 'signature_malformed', 'webhook-signature is too long');
  }

  const content = signedContent(id, tsHeader.value, input.rawBody);
  const expected = keys.map((key) => hmac(key, content));
  let wellFormed = 0;
  let malformed = 0;
  let matched = false;
  for (const entry of sigHeader.value.split(' ')) {
    if (entry === '') continue;
    const comma = entry.indexOf(',');
    if (comma < 0) {
      malformed++;
      continue;
    }
    // Other versions (v1a is asymmetric) are skipped as the spec says; they can't satisfy us.
    if (entry.slice(0, comma) !== 'v1') continue;
    const presented = decodeBase64Strict(entry.slice(comma + 1));
    if (presented === undefined || presented.byteLength !== HMAC_SHA256_BYTES) {
      malformed++;
      continue;
    }
    wellFormed++;
    // No early exit: every presented signature is compared with every key.
    for (const candidate of expected) matched = equalBytes(presented, candidate) || matched;
  }
  if (matched) return { ok: true, id, timestamp: new Date(timestamp * 1000) };
  if (wellFormed > 0) {
    return reject(401, 'signature_mismatch', 'no webhook-signature matches a current secret');
  }
  if (malformed > 0) {
    return reject(401, 'signature_malformed', 'webhook-signature has no well-formed v1 entry');
  }
  return reject(401, 'signature_version_unsupported', 'webhook-signature has no v1 entry');
}

const toUtc = (iso: string): string => new Date(iso).toISOString();

/**
 * The whole inbound pipeline for our own format: size, signature on the raw bytes, content type,
 * JSON, schema, and normalisation into `PhoneEvent`s. The delivery id is the `webhook-id`.
 */
export function receiveStandardWebhook(input: VerifyStandardWebhookInput): Received {
  const verified = verifyStandardWebhook(input);
  if (!verified.ok) return verified;

  const wrongType = checkContentType(input.headers, 'application/json');
  if (wrongType) return wrongType;

  const parsed = parseJsonBody(input.rawBody);
  if (!parsed.ok) return parsed;

  const type = (parsed.value as { type?: unknown } | null)?.type;
  if (!(STANDARD_EVENT_TYPES as readonly unknown[]).includes(type)) {
    // A sender on a newer version of the format must hear about it rather than be acked.
    return reject(400, 'unknown_event_type', 'type is not a known phone event type');
  }
  const body = StandardWebhookBodySchema.safeParse(parsed.value);
  if (!body.success) return reject(400, 'body_invalid', describeIssues(body.error.issues));
  const startedAt = body.data.type === 'call.completed' ? body.data.data.startedAt : undefined;
  const outOfRange = checkEventTimes(
    {
      timestamp: Date.parse(body.data.timestamp),
      'data.startedAt': startedAt === undefined ? undefined : Date.parse(startedAt),
    },
    input.now,
    input.timeWindow,
  );
  if (outOfRange) return outOfRange;

  const occurredAt = toUtc(body.data.timestamp);
  const base = { provider: 'standard', occurredAt } as const;
  let event: PhoneEvent;
  switch (body.data.type) {
    case 'call.received': {
      const { data } = body.data;
      event = { type: 'call.received', ...base, ...data };
      break;
    }
    case 'call.completed': {
      const { data } = body.data;
      event = {
        type: 'call.completed',
        ...base,
        callId: data.callId,
        callerNumber: data.callerNumber ?? null,
        calledNumber: data.calledNumber ?? null,
        durationSeconds: data.durationSeconds,
        ...(data.startedAt !== undefined && { startedAt: toUtc(data.startedAt) }),
        ...(data.recordingRef !== undefined && { recordingRef: data.recordingRef }),
        ...(data.ticket !== undefined && { ticket: data.ticket }),
      };
      break;
    }
    case 'call.missed': {
      const { data } = body.data;
      event = {
        type: 'call.missed',
        ...base,
        callId: data.callId,
        callerNumber: data.callerNumber,
        calledNumber: data.calledNumber ?? null,
        reason: data.reason,
        ...(data.waitSeconds !== undefined && { waitSeconds: data.waitSeconds }),
      };
      break;
    }
    case 'survey.completed': {
      const { surveyId, callId, ...keys } = body.data.data;
      const answers = mapSurveyKeys(keys);
      if (!answers.ok) return answers;
      event = {
        type: 'survey.completed',
        ...base,
        ...(surveyId !== undefined && { surveyId }),
        ...(callId !== undefined && { callId }),
        resolved: answers.resolved,
        satisfaction: answers.satisfaction,
      };
      break;
    }
    case 'survey.unreachable': {
      const { surveyId, callId, reason } = body.data.data;
      event = {
        type: 'survey.unreachable',
        ...base,
        ...(surveyId !== undefined && { surveyId }),
        ...(callId !== undefined && { callId }),
        reason,
      };
      break;
    }
  }
  const accepted: Accepted = {
    ok: true,
    provider: 'standard',
    deliveryId: `standard:${verified.id}`,
    events: [event],
  };
  return accepted;
}

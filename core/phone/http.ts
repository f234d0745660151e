/**
 * Request plumbing shared by the phone webhook adapters: how a rejection is classified, how headers
 * are read, and the body checks that happen before any cryptography or parsing. Nothing here
 * throws for anything a caller on the internet controls; misconfiguration (our own values) throws.
 */
import { describePathSegment } from '../errors.ts';

export type RejectionStatus = 400 | 401 | 403 | 413 | 415;

export type RejectionCode =
  | 'body_too_large'
  | 'content_type_unsupported'
  | 'header_ambiguous'
  | 'webhook_id_missing'
  | 'webhook_id_malformed'
  | 'timestamp_missing'
  | 'timestamp_malformed'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'signature_missing'
  | 'signature_malformed'
  | 'signature_version_unsupported'
  | 'signature_mismatch'
  | 'credentials_missing'
  | 'credentials_malformed'
  | 'credentials_invalid'
  | 'tenant_mismatch'
  | 'delivery_id_missing'
  | 'delivery_id_malformed'
  | 'body_not_utf8'
  | 'body_malformed'
  | 'body_invalid'
  | 'unknown_event_type'
  | 'keypress_not_on_menu'
  | 'time_out_of_range';

/**
 * Why a request was refused. `message` is safe to return to the sender and to log: it never
 * contains secrets, signatures, credentials or phone numbers.
 */
export interface Rejection<S extends RejectionStatus = RejectionStatus> {
  ok: false;
  status: S;
  code: RejectionCode;
  message: string;
}

export function reject<S extends RejectionStatus>(
  status: S,
  code: RejectionCode,
  message: string,
): Rejection<S> {
  return { ok: false, status, code, message };
}

/** API Gateway v1 keeps the sender's casing, v2 lower-cases; Node may hand over arrays. */
export type HttpHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export type HeaderRead =
  | { kind: 'absent' }
  | { kind: 'present'; value: string }
  | { kind: 'ambiguous' };

/**
 * Reads one header case-insensitively. Blank values count as absent, because "empty signature"
 * and "no signature" must be refused identically. Two differing copies are ambiguous rather than
 * first-wins: which copy an intermediary kept is exactly what an attacker would play with.
 */
export function readHeader(headers: HttpHeaders, name: string): HeaderRead {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, raw] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || raw === undefined) continue;
    if (typeof raw === 'string') values.push(raw);
    else values.push(...raw);
  }
  const nonBlank = [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))];
  if (nonBlank.length === 0) return { kind: 'absent' };
  if (nonBlank.length > 1) return { kind: 'ambiguous' };
  return { kind: 'present', value: nonBlank[0]! };
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export function checkBodySize(
  rawBody: Uint8Array,
  maxBodyBytes: number = DEFAULT_MAX_BODY_BYTES,
): Rejection<413> | undefined {
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new TypeError('maxBodyBytes must be a positive integer');
  }
  if (rawBody.byteLength > maxBodyBytes) {
    return reject(413, 'body_too_large', `body exceeds ${maxBodyBytes} bytes`);
  }
  return undefined;
}

/**
 * Accepts `expected` with no parameters or with a UTF-8 charset. TCCC sends `charset=utf8`, which
 * is not the registered name but means the same thing.
 */
export function checkContentType(
  headers: HttpHeaders,
  expected: 'application/json' | 'application/x-www-form-urlencoded',
): Rejection<400 | 415> | undefined {
  const header = readHeader(headers, 'content-type');
  if (header.kind === 'ambiguous') {
    return reject(400, 'header_ambiguous', 'content-type was sent more than once');
  }
  if (header.kind === 'absent') {
    return reject(415, 'content_type_unsupported', `content-type must be ${expected}`);
  }
  const [mediaType = '', ...params] = header.value.split(';').map((p) => p.trim().toLowerCase());
  const paramsOk = params.every((p) => p === '' || /^charset="?utf-?8"?$/.test(p));
  if (mediaType !== expected || !paramsOk) {
    return reject(415, 'content_type_unsupported', `content-type must be ${expected}`);
  }
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(rawBody: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(rawBody);
  } catch {
    return undefined;
  }
}

/** JSON.parse on raw bytes, refusing invalid UTF-8 instead of letting it become U+FFFD. */
export function parseJsonBody(rawBody: Uint8Array): { ok: true; value: unknown } | Rejection<400> {
  const text = decodeUtf8(rawBody);
  if (text === undefined) return reject(400, 'body_not_utf8', 'body is not valid UTF-8');
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return reject(400, 'body_malformed', 'body is not valid JSON');
  }
}

/**
 * Describes schema failures by location and kind only. zod's own messages are avoided on purpose:
 * some of them echo the offending value, and that value may be a caller's phone number.
 */
export function describeIssues(
  issues: readonly { path: readonly PropertyKey[]; code: string }[],
): string {
  const described = issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(describePathSegment).join('.') || '(root)';
    return `${path} (${issue.code})`;
  });
  const more = issues.length > 5 ? ` and ${issues.length - 5} more` : '';
  return `invalid body: ${described.join(', ')}${more}`;
}

/**
 * How far from now an event time may be. A sender's clock may run a little ahead; a sender may
 * deliver a backlog after an outage. Anything beyond is not a call we could act on, and left
 * unchecked it overflows `Date` (500, retried forever) or files under a day no list ever shows.
 */
export interface TimeWindow {
  pastSeconds: number;
  futureSeconds: number;
}

export const DEFAULT_TIME_WINDOW: TimeWindow = { pastSeconds: 30 * 24 * 3600, futureSeconds: 3600 };

/**
 * Checks each named event time (milliseconds since the epoch; undefined: not sent) against the
 * window around `now`. The rejection names the first field out of range, never its value.
 */
export function checkEventTimes(
  times: Readonly<Record<string, number | undefined>>,
  now: Date,
  window: TimeWindow = DEFAULT_TIME_WINDOW,
): Rejection<400> | undefined {
  const earliest = now.getTime() - window.pastSeconds * 1000;
  const latest = now.getTime() + window.futureSeconds * 1000;
  for (const [field, ms] of Object.entries(times)) {
    if (ms === undefined) continue;
    if (!Number.isFinite(ms) || ms < earliest || ms > latest) {
      return reject(400, 'time_out_of_range', `${field} is outside the accepted time window`);
    }
  }
  return undefined;
}

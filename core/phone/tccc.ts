/**
 * Tencent Cloud Contact Center (TCCC, 腾讯云联络中心) call-record (CDR) push.
 *
 * TCCC pushes one JSON record per finished call to `https://{our url}?action=cdr&version=1` with
 * `Content-Type: application/json;charset=utf8`. It does not sign the body; the push is
 * authenticated by the credentials configured for the push URL (Basic or Bearer), and each push
 * carries `X-TCCC-PUSH-UUID`, stable across retries, which is our delivery id.
 *
 * Assumed body shape (TCCC's documented CDR push; only the fields we use, others are ignored):
 *
 *   SdkAppId          number    contact-centre instance; must equal the tenant's configured one
 *   SessionId         string    call id
 *   Caller, Callee    string    numbers as dialled ("" or null when number masking is on)
 *   Direction         0 | 1     0 inbound (citizen called the hotline), 1 outbound
 *   StartTimestamp    number    Unix seconds; 0 when unknown, as are all timestamps below
 *   QueuedTimestamp   number?   entered the operator queue
 *   AcceptTimestamp   number?   answered by an operator (inbound) or by the callee (outbound)
 *   EndedTimestamp    number?   hang-up (`EndTimestamp` accepted as an alias)
 *   Duration          number    seconds, EndedTimestamp - AcceptTimestamp
 *   EndStatusString   string?   "ok", "waitingGiveUp", "busy", ... (see the tables below)
 *   EndStatus         number?   numeric form of the same; used only if the string is absent
 *   RecordURL         string?   recording download URL
 *   IVRKeyPressed     string[]? keys pressed in the IVR, e.g. ["1", "2"]
 *   PostIVRKeyPressed {Key, Label}[]?  keys pressed in the post-call satisfaction IVR
 *   UUI (or Uui)      string?   user-to-user data we set when placing an outbound call
 *
 * The survey: TCCC's post-call IVR is configured with our two questions in order (resolved 1/2,
 * satisfaction 1/2/3), so `PostIVRKeyPressed` of an inbound call holds [resolvedKey,
 * satisfactionKey]. Outbound survey calls are placed with UUI `survey:<surveyId>` and their IVR
 * asks the same two questions, whose keys arrive in `IVRKeyPressed`. Fewer than two keys means the
 * citizen hung up mid-survey: no survey event. A key not on the menu, or extra keys, refuses the
 * whole push, which shows up in TCCC's push log instead of silently dropping an answer.
 */
import * as z from 'zod';
import { decodeBase64Strict, equalSecretText } from './crypto.ts';
import {
  type Accepted,
  type MissedReason,
  mapSurveyKeys,
  normalisePhoneNumber,
  type PhoneEvent,
  type Received,
  type UnreachableReason,
} from './events.ts';
import {
  checkBodySize,
  checkContentType,
  checkEventTimes,
  decodeUtf8,
  describeIssues,
  type HttpHeaders,
  parseJsonBody,
  type Rejection,
  readHeader,
  reject,
  type TimeWindow,
} from './http.ts';

// ---------------------------------------------------------------------------------------------
// Credentials

export type TcccCredential =
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'bearer'; token: string };

const MIN_SECRET_LENGTH = 16;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

function assertCredentials(credentials: readonly TcccCredential[]): void {
  if (credentials.length === 0) throw new TypeError('at least one TCCC credential is required');
  for (const c of credentials) {
    if (c.scheme === 'basic') {
      if (c.username === '' || c.username.includes(':')) {
        throw new TypeError('TCCC basic username must be non-empty and contain no colon');
      }
      if (c.password.length < MIN_SECRET_LENGTH) {
        throw new TypeError(`TCCC basic password must be at least ${MIN_SECRET_LENGTH} characters`);
      }
    } else if (c.token.length < MIN_SECRET_LENGTH || !TOKEN68.test(c.token)) {
      throw new TypeError(`TCCC bearer token must be ${MIN_SECRET_LENGTH}+ token68 characters`);
    }
  }
}

type Presented =
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'bearer'; token: string };

function parseAuthorization(value: string): Presented | undefined {
  const match = /^([A-Za-z]+) +(\S+)$/.exec(value.trim());
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const param = match[2]!;
  if (scheme === 'bearer') return TOKEN68.test(param) ? { scheme, token: param } : undefined;
  if (scheme !== 'basic') return undefined;
  const bytes = decodeBase64Strict(param);
  const text = bytes === undefined ? undefined : decodeUtf8(bytes);
  const colon = text?.indexOf(':') ?? -1;
  if (text === undefined || colon < 0) return undefined;
  return { scheme, username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * Checks an `Authorization` header value against every currently valid credential (several
 * during a rotation). Every configured credential is compared, in constant time per comparison,
 * whatever matched earlier. Throws only for misconfigured credentials.
 */
export function checkTcccCredentials(
  authorization: string | undefined,
  credentials: readonly TcccCredential[],
): { ok: true } | Rejection<401> {
  assertCredentials(credentials);
  if (authorization === undefined || authorization.trim() === '') {
    return reject(401, 'credentials_missing', 'Authorization is missing');
  }
  const presented = parseAuthorization(authorization);
  if (presented === undefined) {
    return reject(401, 'credentials_malformed', 'Authorization must be Basic or Bearer');
  }
  let matched = false;
  for (const expected of credentials) {
    if (expected.scheme === 'basic' && presented.scheme === 'basic') {
      const userOk = equalSecretText(presented.username, expected.username);
      const passOk = equalSecretText(presented.password, expected.password);
      matched = (userOk && passOk) || matched;
    } else if (expected.scheme === 'bearer' && presented.scheme === 'bearer') {
      matched = equalSecretText(presented.token, expected.token) || matched;
    }
  }
  return matched
    ? { ok: true }
    : reject(401, 'credentials_invalid', 'Authorization does not match a configured credential');
}

// ---------------------------------------------------------------------------------------------
// CDR body

const SecondsSchema = z.int().min(0);
const KeyPressSchema = z.object({ Key: z.string().max(8), Label: z.string().nullish() });

/** Optional TCCC fields may come as null ("此字段可能返回 null"), which means absent. */
export const TcccCdrSchema = z
  .object({
    SdkAppId: z.int().positive(),
    SessionId: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/),
    Caller: z.string().max(64).nullish(),
    Callee: z.string().max(64).nullish(),
    Direction: z.union([z.literal(0), z.literal(1)]),
    StartTimestamp: SecondsSchema,
    QueuedTimestamp: SecondsSchema.nullish(),
    AcceptTimestamp: SecondsSchema.nullish(),
    EndedTimestamp: SecondsSchema.nullish(),
    EndTimestamp: SecondsSchema.nullish(),
    Duration: SecondsSchema,
    EndStatus: z.int().nullish(),
    EndStatusString: z.string().min(1).max(64).nullish(),
    RecordURL: z.string().max(4096).nullish(),
    IVRKeyPressed: z.array(z.string().max(8)).max(64).nullish(),
    PostIVRKeyPressed: z.array(KeyPressSchema).max(64).nullish(),
    UUI: z.string().max(1024).nullish(),
    Uui: z.string().max(1024).nullish(),
  })
  .refine((cdr) => cdr.EndStatusString != null || cdr.EndStatus != null, {
    message: 'EndStatusString or EndStatus is required',
    path: ['EndStatusString'],
  });
export type TcccCdr = z.infer<typeof TcccCdrSchema>;

/** TCCC's numeric end states, for records that carry only `EndStatus`. */
const END_STATUS_BY_CODE: Readonly<Record<number, string>> = {
  0: 'error',
  1: 'ok',
  17: 'seatGiveUp',
  100: 'blackList',
  101: 'seatForward',
  102: 'ivrGiveUp',
  103: 'waitingGiveUp',
  104: 'ringingGiveUp',
  105: 'noSeatOnline',
  106: 'notWorkTime',
  107: 'ivrEnd',
  201: 'unknown',
  202: 'notAnswer',
  203: 'userReject',
  204: 'powerOff',
  205: 'numberNotExist',
  206: 'busy',
  207: 'outOfCredit',
  208: 'operatorError',
  209: 'callerCancel',
  210: 'notInService',
  211: 'clientError',
  212: 'carrierBlocked',
};

/**
 * Inbound end states that put the citizen on the call-back list. IVR-only endings (ivrEnd,
 * ivrGiveUp) and blocked callers are not missed calls: nobody was waiting for an operator.
 */
const INBOUND_MISSED: Readonly<Record<string, MissedReason>> = {
  waitingGiveUp: 'abandoned',
  ringingGiveUp: 'abandoned',
  seatGiveUp: 'not_answered',
  noSeatOnline: 'no_agent',
  notWorkTime: 'after_hours',
};

/** Outbound survey calls that did not connect; anything unlisted counts as `failed`. */
const OUTBOUND_UNREACHABLE: Readonly<Record<string, UnreachableReason>> = {
  busy: 'busy',
  userReject: 'busy',
  notAnswer: 'no_answer',
  powerOff: 'no_answer',
  notInService: 'no_answer',
};

const SURVEY_UUI = /^survey:([\x21-\x7e]{1,256})$/;

function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function surveyFromKeys(
  keys: readonly string[],
  ref: { callId: string; surveyId?: string },
  occurredAt: string,
): { ok: true; event?: PhoneEvent } | Rejection<400> {
  if (keys.length < 2) return { ok: true };
  if (keys.length > 2) {
    return reject(400, 'keypress_not_on_menu', 'the survey has two questions, got more keys');
  }
  const answers = mapSurveyKeys({ resolvedKey: keys[0]!, satisfactionKey: keys[1]! });
  if (!answers.ok) return answers;
  return {
    ok: true,
    event: {
      type: 'survey.completed',
      provider: 'tccc',
      occurredAt,
      ...ref,
      resolved: answers.resolved,
      satisfaction: answers.satisfaction,
    },
  };
}

/** Turns a validated CDR into events. Pure; `now` only stands in for a missing end time. */
export function normaliseTcccCdr(
  cdr: TcccCdr,
  deliveryId: string,
  now: Date,
): Accepted | Rejection<400> {
  const endStatus = cdr.EndStatusString ?? lookup(END_STATUS_BY_CODE, String(cdr.EndStatus));
  const ended = cdr.EndedTimestamp || cdr.EndTimestamp || 0;
  const occurredAt = (ended > 0 ? new Date(ended * 1000) : now).toISOString();
  const callId = cdr.SessionId;
  const callerNumber = normalisePhoneNumber(cdr.Caller);
  const calledNumber = normalisePhoneNumber(cdr.Callee);
  const surveyId = SURVEY_UUI.exec(cdr.UUI ?? cdr.Uui ?? '')?.[1];
  const accepted = (events: PhoneEvent[], ignored?: string): Accepted => ({
    ok: true,
    provider: 'tccc',
    deliveryId,
    events,
    ...(events.length === 0 && ignored !== undefined && { ignored }),
  });

  if (cdr.Direction === 1) {
    if (surveyId === undefined) return accepted([], 'outbound call not placed by the survey');
    const ref = { callId, surveyId };
    if (endStatus === 'ok') {
      const survey = surveyFromKeys(cdr.IVRKeyPressed ?? [], ref, occurredAt);
      if (!survey.ok) return survey;
      return accepted(survey.event ? [survey.event] : [], 'survey not finished');
    }
    const reason = lookup(OUTBOUND_UNREACHABLE, endStatus ?? '') ?? 'failed';
    return accepted([{ type: 'survey.unreachable', provider: 'tccc', occurredAt, ...ref, reason }]);
  }

  const events: PhoneEvent[] = [];
  const base = { provider: 'tccc', occurredAt, callId, callerNumber, calledNumber } as const;
  const missedReason = lookup(INBOUND_MISSED, endStatus ?? '');
  if (endStatus === 'ok') {
    events.push({
      type: 'call.completed',
      ...base,
      durationSeconds: cdr.Duration,
      ...(cdr.StartTimestamp > 0 && {
        startedAt: new Date(cdr.StartTimestamp * 1000).toISOString(),
      }),
      ...(cdr.RecordURL && { recordingRef: cdr.RecordURL }),
    });
  } else if (missedReason !== undefined) {
    const queued = cdr.QueuedTimestamp ?? 0;
    events.push({
      type: 'call.missed',
      ...base,
      reason: missedReason,
      ...(queued > 0 && ended >= queued && { waitSeconds: ended - queued }),
    });
  }
  const postKeys = (cdr.PostIVRKeyPressed ?? []).map((k) => k.Key);
  const survey = surveyFromKeys(
    postKeys,
    surveyId === undefined ? { callId } : { callId, surveyId },
    occurredAt,
  );
  if (!survey.ok) return survey;
  if (survey.event) events.push(survey.event);
  return accepted(events, `inbound call ended ${endStatus ?? 'unknown'}`);
}

// ---------------------------------------------------------------------------------------------
// Inbound pipeline

const PUSH_UUID = /^[\x21-\x7e]{1,128}$/;

export interface ReceiveTcccInput {
  headers: HttpHeaders;
  rawBody: Uint8Array;
  credentials: readonly TcccCredential[];
  /** The tenant's TCCC instance; a push for another instance is refused with 403. */
  sdkAppId?: number;
  now: Date;
  maxBodyBytes?: number;
  /** How far from `now` the record's times may be (DEFAULT_TIME_WINDOW when omitted). */
  timeWindow?: TimeWindow;
}

/** The CDR's times in milliseconds; 0 (and null) means TCCC did not know, so is not checked. */
function cdrTimes(cdr: TcccCdr): Record<string, number | undefined> {
  const ms = (seconds: number | null | undefined) => (seconds ? seconds * 1000 : undefined);
  return {
    StartTimestamp: ms(cdr.StartTimestamp),
    QueuedTimestamp: ms(cdr.QueuedTimestamp),
    AcceptTimestamp: ms(cdr.AcceptTimestamp),
    EndedTimestamp: ms(cdr.EndedTimestamp),
    EndTimestamp: ms(cdr.EndTimestamp),
  };
}

export function receiveTcccPush(input: ReceiveTcccInput): Received {
  assertCredentials(input.credentials);
  const tooLarge = checkBodySize(input.rawBody, input.maxBodyBytes);
  if (tooLarge) return tooLarge;

  const auth = readHeader(input.headers, 'authorization');
  if (auth.kind === 'ambiguous') {
    return reject(400, 'header_ambiguous', 'Authorization was sent more than once');
  }
  const authorised = checkTcccCredentials(
    auth.kind === 'present' ? auth.value : undefined,
    input.credentials,
  );
  if (!authorised.ok) return authorised;

  const wrongType = checkContentType(input.headers, 'application/json');
  if (wrongType) return wrongType;

  const uuid = readHeader(input.headers, 'x-tccc-push-uuid');
  if (uuid.kind === 'ambiguous') {
    return reject(400, 'header_ambiguous', 'X-TCCC-PUSH-UUID was sent more than once');
  }
  if (uuid.kind === 'absent') {
    return reject(400, 'delivery_id_missing', 'X-TCCC-PUSH-UUID is missing');
  }
  if (!PUSH_UUID.test(uuid.value)) {
    return reject(400, 'delivery_id_malformed', 'X-TCCC-PUSH-UUID is malformed');
  }

  const parsed = parseJsonBody(input.rawBody);
  if (!parsed.ok) return parsed;
  const cdr = TcccCdrSchema.safeParse(parsed.value);
  if (!cdr.success) return reject(400, 'body_invalid', describeIssues(cdr.error.issues));
  if (input.sdkAppId !== undefined && cdr.data.SdkAppId !== input.sdkAppId) {
    return reject(403, 'tenant_mismatch', 'SdkAppId is not the configured TCCC instance');
  }
  const outOfRange = checkEventTimes(cdrTimes(cdr.data), input.now, input.timeWindow);
  if (outOfRange) return outOfRange;
  return normaliseTcccCdr(cdr.data, `tccc:${uuid.value}`, input.now);
}

/**
 * Twilio Voice: status callbacks, the voice request for an incoming call, and `<Gather>` results
 * of the satisfaction survey, all `application/x-www-form-urlencoded`.
 *
 * Twilio signs `X-Twilio-Signature = base64(HMAC-SHA1(authToken, url + k1 + v1 + k2 + v2 ...))`
 * with the POST parameters sorted by name (and, as twilio-node does, the distinct values of a
 * repeated name sorted). The URL is the one configured at Twilio, so we verify against our
 * configured public URL and never against one rebuilt from Host or X-Forwarded-* headers, which
 * the sender controls, and which behind API Gateway differ anyway (stage prefix, port).
 *
 * The survey is stateless: the answer to the first question travels to the second callback in
 * the Gather action URL. Those URLs are derived from the configured public URL and are covered by
 * Twilio's signature, so the step is read from whichever derived URL the signature verifies
 * against, never from the request.
 *
 * Twilio signatures carry no timestamp, so replays cannot be refused by age; the delivery id
 * (CallSid plus SequenceNumber or survey step) is what stops them.
 */
import { createHmac } from 'node:crypto';
import { decodeBase64Strict, equalBytes } from './crypto.ts';
import {
  type Accepted,
  type CallStatus,
  type MissedReason,
  mapSurveyKeys,
  normalisePhoneNumber,
  type PhoneEvent,
  resolvedFromKey,
  type UnreachableReason,
} from './events.ts';
import {
  checkBodySize,
  checkContentType,
  checkEventTimes,
  decodeUtf8,
  type HttpHeaders,
  type Rejection,
  readHeader,
  reject,
  type TimeWindow,
} from './http.ts';

// ---------------------------------------------------------------------------------------------
// Form bodies

/** Every field, in arrival order per name; a name sent twice keeps both values. */
export type FormParams = Record<string, string[]>;

/**
 * Parses a urlencoded body without losing anything: repeated keys keep all their values, and a
 * malformed percent escape is refused instead of being passed through as URLSearchParams does
 * (which would let two different bodies verify as the same parameters).
 */
export function parseFormBody(
  rawBody: Uint8Array,
): { ok: true; params: FormParams } | Rejection<400> {
  const text = decodeUtf8(rawBody);
  if (text === undefined) return reject(400, 'body_not_utf8', 'body is not valid UTF-8');
  const params: FormParams = Object.create(null);
  if (text === '') return { ok: true, params };
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
      value = decodeURIComponent(rawValue.replaceAll('+', ' '));
    } catch {
      return reject(400, 'body_malformed', 'body is not valid application/x-www-form-urlencoded');
    }
    const existing = params[name];
    if (existing) existing.push(value);
    else params[name] = [value];
  }
  return { ok: true, params };
}

type ParamRead = { kind: 'absent' } | { kind: 'one'; value: string } | { kind: 'many' };

function readParam(params: FormParams, name: string): ParamRead {
  const values = Object.hasOwn(params, name) ? params[name] : undefined;
  if (!values || values.length === 0) return { kind: 'absent' };
  if (values.length > 1) return { kind: 'many' };
  return { kind: 'one', value: values[0]! };
}

// ---------------------------------------------------------------------------------------------
// Signature

export type TwilioParamsInput = Readonly<Record<string, string | readonly string[]>>;

/** The exact string Twilio signs; exposed for tests and debugging, it contains no secret. */
export function twilioSignedData(url: string, params: TwilioParamsInput): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const raw = params[name]!;
    const values = typeof raw === 'string' ? [raw] : [...new Set(raw)].sort();
    for (const value of values) data += name + value;
  }
  return data;
}

export function computeTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParamsInput,
): string {
  return createHmac('sha1', authToken)
    .update(twilioSignedData(url, params), 'utf8')
    .digest('base64');
}

const URL_PARTS = /^(https?):\/\/([^/?#@]+?)(?::([0-9]{1,5}))?([/?][^#]*)?$/i;

/**
 * Twilio's own libraries accept the configured URL with and without the scheme's default port,
 * because which form Twilio signed has varied. Only the default port is toggled: any other port,
 * host, scheme, path or query must match exactly.
 */
function urlVariants(publicUrl: string): string[] {
  const match = URL_PARTS.exec(publicUrl);
  if (!match) return [publicUrl];
  const [, scheme = '', host = '', port, rest = ''] = match;
  const defaultPort = scheme.toLowerCase() === 'https' ? '443' : '80';
  if (port === undefined) return [publicUrl, `${scheme}://${host}:${defaultPort}${rest}`];
  if (port === defaultPort) return [publicUrl, `${scheme}://${host}${rest}`];
  return [publicUrl];
}

function assertPublicUrl(publicUrl: string): void {
  if (!/^https?:\/\/[^/?#]+/i.test(publicUrl) || publicUrl.includes('#')) {
    throw new TypeError('publicUrl must be an absolute http(s) URL without a fragment');
  }
}

function tokensOf(authToken: string | readonly string[]): readonly string[] {
  const tokens = typeof authToken === 'string' ? [authToken] : authToken;
  if (tokens.length === 0 || tokens.some((t) => t === '')) {
    throw new TypeError('authToken must be one or more non-empty tokens');
  }
  return tokens;
}

const SHA1_BYTES = 20;

/**
 * Checks `X-Twilio-Signature`. `authToken` may list the primary and the secondary token while
 * one is being rotated. Throws only for misconfiguration (empty token, bad publicUrl).
 */
export function verifyTwilioSignature(input: {
  publicUrl: string;
  params: TwilioParamsInput;
  signature: string | undefined;
  authToken: string | readonly string[];
}): { ok: true } | Rejection<401> {
  assertPublicUrl(input.publicUrl);
  const tokens = tokensOf(input.authToken);
  const signature = input.signature?.trim() ?? '';
  if (signature === '') return reject(401, 'signature_missing', 'X-Twilio-Signature is missing');
  const presented = decodeBase64Strict(signature);
  if (presented === undefined || presented.byteLength !== SHA1_BYTES) {
    return reject(401, 'signature_malformed', 'X-Twilio-Signature is not a base64 HMAC-SHA1');
  }
  let matched = false;
  for (const url of urlVariants(input.publicUrl)) {
    for (const token of tokens) {
      const expected = Buffer.from(computeTwilioSignature(token, url, input.params), 'base64');
      matched = equalBytes(presented, expected) || matched;
    }
  }
  return matched
    ? { ok: true }
    : reject(401, 'signature_mismatch', 'X-Twilio-Signature does not match the configured URL');
}

// ---------------------------------------------------------------------------------------------
// Survey URLs and TwiML

/**
 * Where a survey callback comes from: `answered` is the voice URL of the outbound survey call;
 * the others are Gather actions carrying the answer to the question named.
 */
export const TWILIO_SURVEY_STEPS = [
  'answered',
  'resolved',
  'satisfaction-after-yes',
  'satisfaction-after-no',
] as const;
export type TwilioSurveyStep = (typeof TWILIO_SURVEY_STEPS)[number];

/** Place survey calls with `url: twilioSurveyUrl(publicUrl, 'answered')`. */
export function twilioSurveyUrl(publicUrl: string, step: TwilioSurveyStep): string {
  assertPublicUrl(publicUrl);
  return `${publicUrl}${publicUrl.includes('?') ? '&' : '?'}survey=${step}`;
}

export const SURVEY_PROMPTS = {
  resolved:
    '您好，这里是12345政务服务便民热线回访。请问您反映的问题是否已经解决？已解决请按1，未解决请按2。',
  satisfaction: '请问您对本次办理结果是否满意？满意请按1，基本满意请按2，不满意请按3。',
  noInput: '未收到您的按键，本次回访结束，再见。',
  goodbye: '感谢您的评价，再见。',
} as const;

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

function assertXmlChars(value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const invalidControl = c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d;
    const nonCharacter = c === 0xfffe || c === 0xffff;
    if (invalidControl || nonCharacter) {
      throw new TypeError('TwiML text contains a character XML cannot carry');
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff))
        throw new TypeError('TwiML text has a lone surrogate');
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw new TypeError('TwiML text has a lone surrogate');
    }
  }
}

export function escapeXmlText(value: string): string {
  assertXmlChars(value);
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('\r', '&#xD;');
}

/** Whitespace is escaped too, because attribute-value normalisation would turn it into spaces. */
export function escapeXmlAttribute(value: string): string {
  assertXmlChars(value);
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll('\t', '&#x9;')
    .replaceAll('\n', '&#xA;')
    .replaceAll('\r', '&#xD;');
}

function say(text: string, voice: string | undefined): string {
  const voiceAttr = voice === undefined ? '' : ` voice="${escapeXmlAttribute(voice)}"`;
  return `<Say language="zh-CN"${voiceAttr}>${escapeXmlText(text)}</Say>`;
}

export type SurveyQuestion = 'resolved' | 'satisfaction';

export interface SurveyTwimlOptions {
  question: SurveyQuestion;
  /** Absolute URL Twilio posts the digit to; derive it with `twilioSurveyUrl`. */
  actionUrl: string;
  /** A Twilio voice such as `Polly.Zhiyu`; Twilio's default zh-CN voice when omitted. */
  voice?: string;
  timeoutSeconds?: number;
  /** Replaces the standard wording (e.g. to name the ticket); keep the key numbers unchanged. */
  prompt?: string;
}

/**
 * One survey question as TwiML. If the caller presses nothing Twilio falls through the Gather, so
 * the call ends politely instead of hanging in silence.
 */
export function buildSurveyTwiml(options: SurveyTwimlOptions): string {
  const timeout = options.timeoutSeconds ?? 8;
  if (!Number.isSafeInteger(timeout) || timeout < 1 || timeout > 60) {
    throw new TypeError('timeoutSeconds must be an integer from 1 to 60');
  }
  const prompt = options.prompt ?? SURVEY_PROMPTS[options.question];
  return (
    `${XML_DECLARATION}<Response>` +
    `<Gather numDigits="1" action="${escapeXmlAttribute(options.actionUrl)}" method="POST" timeout="${timeout}">` +
    say(prompt, options.voice) +
    '</Gather>' +
    say(SURVEY_PROMPTS.noInput, options.voice) +
    '<Hangup/></Response>'
  );
}

export function buildSurveyGoodbyeTwiml(options: { voice?: string } = {}): string {
  return `${XML_DECLARATION}<Response>${say(SURVEY_PROMPTS.goodbye, options.voice)}<Hangup/></Response>`;
}

/** The question to (re-)ask for a survey call, wired to the right action URL. */
export function twilioSurveyQuestionTwiml(
  publicUrl: string,
  question: { question: 'resolved' } | { question: 'satisfaction'; resolved: boolean },
  options: { voice?: string } = {},
): string {
  const actionUrl =
    question.question === 'resolved'
      ? twilioSurveyUrl(publicUrl, 'resolved')
      : twilioSurveyUrl(
          publicUrl,
          question.resolved ? 'satisfaction-after-yes' : 'satisfaction-after-no',
        );
  return buildSurveyTwiml({ question: question.question, actionUrl, ...options });
}

// ---------------------------------------------------------------------------------------------
// Inbound pipeline

const TWILIO_STATUS: Readonly<Record<string, CallStatus>> = {
  queued: 'queued',
  initiated: 'initiated',
  ringing: 'ringing',
  'in-progress': 'in_progress',
  completed: 'completed',
  busy: 'busy',
  'no-answer': 'no_answer',
  canceled: 'canceled',
  failed: 'failed',
};

export function twilioCallStatus(raw: string): CallStatus | undefined {
  return Object.hasOwn(TWILIO_STATUS, raw) ? TWILIO_STATUS[raw] : undefined;
}

/** A failed inbound call never reached us as a call, so it is not put on the call-back list. */
const INBOUND_MISSED: Partial<Record<CallStatus, MissedReason>> = {
  busy: 'not_answered',
  no_answer: 'not_answered',
  canceled: 'abandoned',
};

const SURVEY_UNREACHABLE: Partial<Record<CallStatus, UnreachableReason>> = {
  busy: 'busy',
  no_answer: 'no_answer',
  failed: 'failed',
  // We only cancel a survey call that never connected; for the retry policy that is a failure.
  canceled: 'failed',
};

const CALL_SID = /^CA[0-9a-f]{32}$/;
const SEQUENCE_NUMBER = /^[0-9]{1,6}$/;

export interface ReceiveTwilioInput {
  headers: HttpHeaders;
  rawBody: Uint8Array;
  /** The webhook URL exactly as configured at Twilio, query string included. */
  publicUrl: string;
  authToken: string | readonly string[];
  /** When set, a validly signed request for another account is refused with 403. */
  accountSid?: string;
  now: Date;
  maxBodyBytes?: number;
  /** Passed to the survey TwiML. */
  voice?: string;
  /** How far from `now` Twilio's `Timestamp` may be (DEFAULT_TIME_WINDOW when omitted). */
  timeWindow?: TimeWindow;
}

export type TwilioAccepted = Accepted & {
  provider: 'twilio';
  /** TwiML to answer with; absent when Twilio ignores the body (status callbacks). */
  reply?: string;
  /** For `isCallStatusRegression` against the last status stored for this call. */
  callStatus?: { callId: string; status: CallStatus };
};

/**
 * A survey key that is not on the menu is refused like any bad input, but `reprompt` carries the
 * TwiML that asks the same question again: answering 200 with it is kinder to the caller than
 * Twilio's "an application error has occurred".
 */
export type TwilioRejection = Rejection & { reprompt?: string };

export type TwilioReceived = TwilioAccepted | TwilioRejection;

export function receiveTwilioWebhook(input: ReceiveTwilioInput): TwilioReceived {
  assertPublicUrl(input.publicUrl);
  tokensOf(input.authToken);

  const tooLarge = checkBodySize(input.rawBody, input.maxBodyBytes);
  if (tooLarge) return tooLarge;
  const wrongType = checkContentType(input.headers, 'application/x-www-form-urlencoded');
  if (wrongType) return wrongType;

  const sigHeader = readHeader(input.headers, 'x-twilio-signature');
  if (sigHeader.kind === 'ambiguous') {
    return reject(400, 'header_ambiguous', 'X-Twilio-Signature was sent more than once');
  }
  if (sigHeader.kind === 'absent') {
    return reject(401, 'signature_missing', 'X-Twilio-Signature is missing');
  }

  const form = parseFormBody(input.rawBody);
  if (!form.ok) return form;
  const { params } = form;

  // `call` is the configured URL itself: voice requests and status callbacks. Every candidate is
  // tried (no early exit) so timing does not reveal which step was targeted.
  let step: TwilioSurveyStep | 'call' | undefined;
  let lastRejection: Rejection<401> | undefined;
  const candidates: [TwilioSurveyStep | 'call', string][] = [
    ['call', input.publicUrl],
    ...TWILIO_SURVEY_STEPS.map((s): [TwilioSurveyStep, string] => [
      s,
      twilioSurveyUrl(input.publicUrl, s),
    ]),
  ];
  for (const [candidateStep, url] of candidates) {
    const verdict = verifyTwilioSignature({
      publicUrl: url,
      params,
      signature: sigHeader.value,
      authToken: input.authToken,
    });
    if (verdict.ok) step ??= candidateStep;
    else lastRejection = verdict;
  }
  if (step === undefined) {
    return lastRejection ?? reject(401, 'signature_mismatch', 'X-Twilio-Signature does not match');
  }

  const field = (name: string): { ok: true; value: string | undefined } | Rejection<400> => {
    const read = readParam(params, name);
    if (read.kind === 'many') return reject(400, 'body_invalid', `${name} was sent more than once`);
    return { ok: true, value: read.kind === 'one' ? read.value : undefined };
  };
  const names = [
    'AccountSid',
    'CallSid',
    'CallStatus',
    'Direction',
    'From',
    'To',
    'SequenceNumber',
    'CallbackSource',
    'CallDuration',
    'Digits',
    'Timestamp',
    'RecordingUrl',
  ] as const;
  const f: Partial<Record<(typeof names)[number], string>> = {};
  for (const name of names) {
    const read = field(name);
    if (!read.ok) return read;
    if (read.value !== undefined) f[name] = read.value;
  }

  if (input.accountSid !== undefined && f.AccountSid !== input.accountSid) {
    return reject(403, 'tenant_mismatch', 'AccountSid is not the configured Twilio account');
  }
  if (f.CallSid === undefined || !CALL_SID.test(f.CallSid)) {
    return reject(400, 'body_invalid', 'CallSid is missing or malformed');
  }
  const callId = f.CallSid;
  const status = f.CallStatus === undefined ? undefined : twilioCallStatus(f.CallStatus);
  if (status === undefined) return reject(400, 'body_invalid', 'CallStatus is missing or unknown');
  const callStatus = { callId, status };
  // An unreadable Timestamp stands for "not sent" (receipt time), as before; a readable one must
  // be a plausible time.
  const sentAt = f.Timestamp === undefined ? Number.NaN : Date.parse(f.Timestamp);
  if (!Number.isNaN(sentAt)) {
    const outOfRange = checkEventTimes({ Timestamp: sentAt }, input.now, input.timeWindow);
    if (outOfRange) return outOfRange;
  }
  const occurredAt = (Number.isNaN(sentAt) ? input.now : new Date(sentAt)).toISOString();
  const voice = input.voice === undefined ? {} : { voice: input.voice };
  const accepted = (
    deliverySuffix: string,
    events: PhoneEvent[],
    extra: { reply?: string; ignored?: string } = {},
  ): TwilioAccepted => ({
    ok: true,
    provider: 'twilio',
    deliveryId: `twilio:${callId}:${deliverySuffix}`,
    events,
    callStatus,
    ...extra,
  });

  switch (step) {
    case 'answered':
      return accepted('survey:answered', [], {
        reply: twilioSurveyQuestionTwiml(input.publicUrl, { question: 'resolved' }, voice),
        ignored: 'survey question asked',
      });
    case 'resolved': {
      const resolved = f.Digits === undefined ? undefined : resolvedFromKey(f.Digits);
      if (resolved === undefined) {
        return {
          ...reject(400, 'keypress_not_on_menu', 'resolved answer must be key 1 or 2'),
          reprompt: twilioSurveyQuestionTwiml(input.publicUrl, { question: 'resolved' }, voice),
        };
      }
      return accepted('survey:resolved', [], {
        reply: twilioSurveyQuestionTwiml(
          input.publicUrl,
          { question: 'satisfaction', resolved },
          voice,
        ),
        ignored: 'survey question asked',
      });
    }
    case 'satisfaction-after-yes':
    case 'satisfaction-after-no': {
      const answers = mapSurveyKeys({
        resolvedKey: step === 'satisfaction-after-yes' ? '1' : '2',
        satisfactionKey: f.Digits ?? '',
      });
      if (!answers.ok) {
        return {
          ...answers,
          reprompt: twilioSurveyQuestionTwiml(
            input.publicUrl,
            { question: 'satisfaction', resolved: step === 'satisfaction-after-yes' },
            voice,
          ),
        };
      }
      const event: PhoneEvent = {
        type: 'survey.completed',
        provider: 'twilio',
        occurredAt: input.now.toISOString(),
        callId,
        resolved: answers.resolved,
        satisfaction: answers.satisfaction,
      };
      return accepted('survey:satisfaction', [event], { reply: buildSurveyGoodbyeTwiml(voice) });
    }
    case 'call':
      break;
  }

  const isStatusCallback =
    f.SequenceNumber !== undefined || f.CallbackSource === 'call-progress-events';
  if (f.SequenceNumber !== undefined && !SEQUENCE_NUMBER.test(f.SequenceNumber)) {
    return reject(400, 'body_invalid', 'SequenceNumber is malformed');
  }
  const deliverySuffix = !isStatusCallback
    ? 'voice'
    : f.SequenceNumber !== undefined
      ? `status:${f.SequenceNumber}`
      : `status:${f.CallStatus}`;
  const callerNumber = normalisePhoneNumber(f.From);
  const calledNumber = normalisePhoneNumber(f.To);
  const base = { provider: 'twilio', occurredAt, callId } as const;

  if (f.Direction === 'inbound') {
    if (!isStatusCallback) {
      return accepted(deliverySuffix, [
        { type: 'call.received', ...base, callerNumber, calledNumber },
      ]);
    }
    if (status === 'completed') {
      const duration = f.CallDuration ?? '0';
      if (!/^[0-9]{1,6}$/.test(duration)) {
        return reject(400, 'body_invalid', 'CallDuration is malformed');
      }
      return accepted(deliverySuffix, [
        {
          type: 'call.completed',
          ...base,
          callerNumber,
          calledNumber,
          durationSeconds: Number(duration),
          ...(f.RecordingUrl !== undefined && { recordingRef: f.RecordingUrl }),
        },
      ]);
    }
    const missedReason = INBOUND_MISSED[status];
    if (missedReason !== undefined) {
      return accepted(deliverySuffix, [
        { type: 'call.missed', ...base, callerNumber, calledNumber, reason: missedReason },
      ]);
    }
    return accepted(deliverySuffix, [], { ignored: `inbound call ${status}` });
  }

  if (f.Direction === 'outbound-api' && isStatusCallback) {
    // Our only API-placed calls are survey calls; their answers arrive via the survey steps.
    const reason = SURVEY_UNREACHABLE[status];
    if (reason !== undefined) {
      return accepted(deliverySuffix, [
        { type: 'survey.unreachable', provider: 'twilio', occurredAt, callId, reason },
      ]);
    }
  }
  return accepted(deliverySuffix, [], { ignored: `${f.Direction ?? 'unknown'} call ${status}` });
}

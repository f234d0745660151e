/**
 * Two vocabularies live here.
 *
 * 1. The JSON bodies of our own Standard Webhooks format (`StandardWebhookBodySchema`): the
 *    envelope recommended by the Standard Webhooks spec, `{ type, timestamp, data }`, where
 *    `timestamp` is when the event happened (not when it was sent; that is the signed
 *    `webhook-timestamp` header).
 * 2. The normalised `PhoneEvent` union that every adapter (ours, Twilio, Amazon Connect, TCCC)
 *    produces, so that nothing downstream knows which phone system took the call.
 *
 * Field names are camelCase in both, like the rest of the code base. Phone numbers are digits
 * with an optional leading `+`, as delivered; `null` means the number was withheld or masked.
 */
import * as z from 'zod';
import { type Rejection, reject } from './http.ts';

export const PHONE_PROVIDERS = ['standard', 'twilio', 'connect', 'tccc'] as const;
export type PhoneProvider = (typeof PHONE_PROVIDERS)[number];

export const PhoneNumberSchema = z.string().regex(/^\+?[0-9]{3,20}$/);

/** Provider data is not ours to refuse over a formatting quirk, so odd numbers become "unknown". */
export function normalisePhoneNumber(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const trimmed = raw.trim();
  return PhoneNumberSchema.safeParse(trimmed).success ? trimmed : null;
}

/** Visible ASCII only: ids end up in de-duplication keys and log lines. */
const IdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/);
const TimestampSchema = z.iso.datetime({ offset: true });
const DurationSchema = z
  .int()
  .min(0)
  .max(7 * 24 * 3600);
const KeypressSchema = z.string().regex(/^[0-9*#]$/);

// ---------------------------------------------------------------------------------------------
// Survey menu

export const SATISFACTION_LEVELS = ['satisfied', 'basically_satisfied', 'unsatisfied'] as const;
export type Satisfaction = (typeof SATISFACTION_LEVELS)[number];

export const UNREACHABLE_REASONS = ['busy', 'no_answer', 'failed'] as const;
export type UnreachableReason = (typeof UNREACHABLE_REASONS)[number];

export const MISSED_REASONS = ['abandoned', 'no_agent', 'after_hours', 'not_answered'] as const;
export type MissedReason = (typeof MISSED_REASONS)[number];

/**
 * The two questions read to the caller (see twilio.ts for the words). Keys are DTMF digits as
 * strings because that is how every provider reports them.
 */
export const SURVEY_MENU = {
  resolved: { '1': true, '2': false },
  satisfaction: { '1': 'satisfied', '2': 'basically_satisfied', '3': 'unsatisfied' },
} as const satisfies {
  resolved: Record<string, boolean>;
  satisfaction: Record<string, Satisfaction>;
};

function menuLookup<T>(menu: Readonly<Record<string, T>>, key: string): T | undefined {
  // Object.hasOwn keeps "constructor" or "__proto__" from being read as menu entries.
  return Object.hasOwn(menu, key) ? menu[key] : undefined;
}

export function resolvedFromKey(key: string): boolean | undefined {
  return menuLookup<boolean>(SURVEY_MENU.resolved, key);
}

export function satisfactionFromKey(key: string): Satisfaction | undefined {
  return menuLookup<Satisfaction>(SURVEY_MENU.satisfaction, key);
}

export function mapSurveyKeys(keys: {
  resolvedKey: string;
  satisfactionKey: string;
}): { ok: true; resolved: boolean; satisfaction: Satisfaction } | Rejection<400> {
  const resolved = resolvedFromKey(keys.resolvedKey);
  if (resolved === undefined) {
    return reject(400, 'keypress_not_on_menu', 'resolved answer must be key 1 or 2');
  }
  const satisfaction = satisfactionFromKey(keys.satisfactionKey);
  if (satisfaction === undefined) {
    return reject(400, 'keypress_not_on_menu', 'satisfaction answer must be key 1, 2 or 3');
  }
  return { ok: true, resolved, satisfaction };
}

// ---------------------------------------------------------------------------------------------
// Ticket intake carried by call.completed

/**
 * Deliberately minimal: the ticket module owns the real intake schema and validates this again.
 * Here we only make sure the operator's entry is structurally a ticket draft, so that a broken
 * PBX integration is refused at the door rather than deep inside the ticket workflow.
 * Vocabularies (category, topic, urgency) are the ticket schema's business, hence plain strings.
 */
export const TicketIntakeSchema = z.object({
  callerName: z.string().trim().min(1).max(100).optional(),
  callerPhone: PhoneNumberSchema.optional(),
  content: z.string().trim().min(1).max(10_000),
  category: z.string().trim().min(1).max(100).optional(),
  topic: z.string().trim().min(1).max(200).optional(),
  place: z
    .object({
      district: z.string().trim().min(1).max(100).optional(),
      township: z.string().trim().min(1).max(100).optional(),
      address: z.string().trim().min(1).max(500).optional(),
    })
    .optional(),
  urgency: z.string().trim().min(1).max(32).optional(),
  confidential: z.boolean().optional(),
  noCallback: z.boolean().optional(),
  noSubstance: z.boolean().optional(),
  /** How the operator disposed of the call; the ticket schema (core/ticket.ts) owns its shape. */
  disposition: z.unknown().optional(),
});
export type TicketIntake = z.infer<typeof TicketIntakeSchema>;

// ---------------------------------------------------------------------------------------------
// Our own webhook bodies

const surveyRefRequired = {
  check: (d: { surveyId?: string | undefined; callId?: string | undefined }) =>
    d.surveyId !== undefined || d.callId !== undefined,
  params: { message: 'surveyId or callId is required', path: ['surveyId'] },
};

export const CallReceivedBodySchema = z.object({
  type: z.literal('call.received'),
  timestamp: TimestampSchema,
  data: z.object({
    callId: IdSchema,
    callerNumber: PhoneNumberSchema.nullable(),
    calledNumber: PhoneNumberSchema,
  }),
});

export const CallCompletedBodySchema = z.object({
  type: z.literal('call.completed'),
  timestamp: TimestampSchema,
  data: z.object({
    callId: IdSchema,
    callerNumber: PhoneNumberSchema.nullable().optional(),
    calledNumber: PhoneNumberSchema.optional(),
    startedAt: TimestampSchema.optional(),
    /** Seconds from the operator answering to hang-up. */
    durationSeconds: DurationSchema,
    /** Opaque reference understood by the recording store (object key or provider URL). */
    recordingRef: z.string().min(1).max(2048).optional(),
    ticket: TicketIntakeSchema.optional(),
  }),
});

export const CallMissedBodySchema = z.object({
  type: z.literal('call.missed'),
  timestamp: TimestampSchema,
  data: z.object({
    callId: IdSchema,
    callerNumber: PhoneNumberSchema.nullable(),
    calledNumber: PhoneNumberSchema.optional(),
    reason: z.enum(MISSED_REASONS).default('abandoned'),
    waitSeconds: DurationSchema.optional(),
  }),
});

export const SurveyCompletedBodySchema = z.object({
  type: z.literal('survey.completed'),
  timestamp: TimestampSchema,
  data: z
    .object({
      surveyId: IdSchema.optional(),
      callId: IdSchema.optional(),
      resolvedKey: KeypressSchema,
      satisfactionKey: KeypressSchema,
    })
    .refine(surveyRefRequired.check, surveyRefRequired.params),
});

export const SurveyUnreachableBodySchema = z.object({
  type: z.literal('survey.unreachable'),
  timestamp: TimestampSchema,
  data: z
    .object({
      surveyId: IdSchema.optional(),
      callId: IdSchema.optional(),
      reason: z.enum(UNREACHABLE_REASONS),
    })
    .refine(surveyRefRequired.check, surveyRefRequired.params),
});

export const StandardWebhookBodySchema = z.discriminatedUnion('type', [
  CallReceivedBodySchema,
  CallCompletedBodySchema,
  CallMissedBodySchema,
  SurveyCompletedBodySchema,
  SurveyUnreachableBodySchema,
]);
export type StandardWebhookBody = z.input<typeof StandardWebhookBodySchema>;
export type StandardEventType = StandardWebhookBody['type'];
export const STANDARD_EVENT_TYPES = [
  'call.received',
  'call.completed',
  'call.missed',
  'survey.completed',
  'survey.unreachable',
] as const satisfies readonly StandardEventType[];

/** One valid body per event type, for the README and as test fixtures. Numbers are fictitious. */
export const STANDARD_WEBHOOK_EXAMPLES = {
  'call.received': {
    type: 'call.received',
    timestamp: '2026-03-02T01:15:00Z',
    data: { callId: 'call_7f3a9c', callerNumber: '+8613800000000', calledNumber: '12345' },
  },
  'call.completed': {
    type: 'call.completed',
    timestamp: '2026-03-02T01:21:42Z',
    data: {
      callId: 'call_7f3a9c',
      callerNumber: '+8613800000000',
      calledNumber: '12345',
      startedAt: '2026-03-02T01:15:00Z',
      durationSeconds: 372,
      recordingRef: 'recordings/2026/03/02/call_7f3a9c.wav',
      ticket: {
        callerName: '王女士',
        callerPhone: '+8613800000000',
        content: '小区门口路灯连续一周不亮，夜间出行不便，请尽快维修。',
        category: 'complaint',
        topic: '市政设施/路灯',
        place: { district: '西湖区', township: '文新街道', address: '文一西路100号' },
        urgency: 'normal',
        confidential: false,
      },
    },
  },
  'call.missed': {
    type: 'call.missed',
    timestamp: '2026-03-02T01:30:05Z',
    data: {
      callId: 'call_81bd02',
      callerNumber: '+8613900000000',
      calledNumber: '12345',
      reason: 'abandoned',
      waitSeconds: 95,
    },
  },
  'survey.completed': {
    type: 'survey.completed',
    timestamp: '2026-03-05T06:02:11Z',
    data: { surveyId: 'srv_5521', callId: 'call_e90f11', resolvedKey: '1', satisfactionKey: '2' },
  },
  'survey.unreachable': {
    type: 'survey.unreachable',
    timestamp: '2026-03-05T06:05:40Z',
    data: { surveyId: 'srv_5522', reason: 'no_answer' },
  },
} as const satisfies { [K in StandardEventType]: Extract<StandardWebhookBody, { type: K }> };

// ---------------------------------------------------------------------------------------------
// Normalised internal events

const UtcTimestampSchema = z.iso.datetime();
const ProviderIdSchema = z.string().min(1).max(256);
/** Unbounded here: providers' own durations are reported as they are, not second-guessed. */
const EventDurationSchema = z.int().min(0);
const eventBase = {
  provider: z.enum(PHONE_PROVIDERS),
  /** When it happened, ISO 8601 UTC. Falls back to receipt time when a provider sends none. */
  occurredAt: UtcTimestampSchema,
};

export const CallReceivedEventSchema = z.object({
  type: z.literal('call.received'),
  ...eventBase,
  callId: ProviderIdSchema,
  callerNumber: PhoneNumberSchema.nullable(),
  calledNumber: PhoneNumberSchema.nullable(),
});

export const CallCompletedEventSchema = z.object({
  type: z.literal('call.completed'),
  ...eventBase,
  callId: ProviderIdSchema,
  callerNumber: PhoneNumberSchema.nullable(),
  calledNumber: PhoneNumberSchema.nullable(),
  startedAt: UtcTimestampSchema.optional(),
  durationSeconds: EventDurationSchema,
  recordingRef: z.string().min(1).max(2048).optional(),
  ticket: TicketIntakeSchema.optional(),
});

export const CallMissedEventSchema = z.object({
  type: z.literal('call.missed'),
  ...eventBase,
  callId: ProviderIdSchema,
  callerNumber: PhoneNumberSchema.nullable(),
  calledNumber: PhoneNumberSchema.nullable(),
  reason: z.enum(MISSED_REASONS),
  waitSeconds: EventDurationSchema.optional(),
});

export const SurveyCompletedEventSchema = z
  .object({
    type: z.literal('survey.completed'),
    ...eventBase,
    surveyId: ProviderIdSchema.optional(),
    callId: ProviderIdSchema.optional(),
    resolved: z.boolean(),
    satisfaction: z.enum(SATISFACTION_LEVELS),
  })
  .refine(surveyRefRequired.check, surveyRefRequired.params);

export const SurveyUnreachableEventSchema = z
  .object({
    type: z.literal('survey.unreachable'),
    ...eventBase,
    surveyId: ProviderIdSchema.optional(),
    callId: ProviderIdSchema.optional(),
    reason: z.enum(UNREACHABLE_REASONS),
  })
  .refine(surveyRefRequired.check, surveyRefRequired.params);

export const PhoneEventSchema = z.discriminatedUnion('type', [
  CallReceivedEventSchema,
  CallCompletedEventSchema,
  CallMissedEventSchema,
  SurveyCompletedEventSchema,
  SurveyUnreachableEventSchema,
]);
export type PhoneEvent = z.infer<typeof PhoneEventSchema>;
export type PhoneEventOf<T extends PhoneEvent['type']> = Extract<PhoneEvent, { type: T }>;

/**
 * What every adapter returns for a request it accepted. `deliveryId` is stable across
 * redeliveries of the same notification and is what the caller de-duplicates on (prefix it with
 * the tenant: ids are only unique per sender). `events` may be empty; `ignored` then says why, for
 * logs.
 */
export interface Accepted {
  ok: true;
  provider: PhoneProvider;
  deliveryId: string;
  events: PhoneEvent[];
  ignored?: string;
}

export type Received = Accepted | Rejection;

// ---------------------------------------------------------------------------------------------
// Call status ordering

export const CALL_STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in_progress',
  'completed',
  'busy',
  'no_answer',
  'canceled',
  'failed',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

const STATUS_RANK: Record<CallStatus, number> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  in_progress: 3,
  completed: 4,
  busy: 4,
  no_answer: 4,
  canceled: 4,
  failed: 4,
};

/**
 * Status callbacks arrive out of order and are retried, so a late `ringing` must not reopen a
 * `completed` call. A regression is any step backwards, or a change from one final status to a
 * different final status (a call ends once). Repeating the same status is a duplicate, not a
 * regression; de-duplication handles that.
 */
export function isCallStatusRegression(
  previous: CallStatus | undefined,
  next: CallStatus,
): boolean {
  if (previous === undefined || previous === next) return false;
  const before = STATUS_RANK[previous];
  const after = STATUS_RANK[next];
  return after < before || (before === 4 && after === 4);
}

import * as z from 'zod';
import {
  type ApprovedUnreasonableCase,
  type UnreasonableCategory,
  unreasonableCategorySchema,
} from './unreasonable.ts';

/** 诉求类别. Ids are English and stable; the operator's system may also send the Chinese label. */
export const CATEGORIES = {
  consultation: { zh: '咨询', en: 'Consultation' },
  help: { zh: '求助', en: 'Request for help' },
  complaint: { zh: '投诉', en: 'Complaint' },
  report: { zh: '举报', en: 'Report' },
  suggestion: { zh: '建议', en: 'Suggestion' },
} as const;
export type Category = keyof typeof CATEGORIES;
const categoryIds = Object.keys(CATEGORIES) as [Category, ...Category[]];
const categoryByLabel = new Map<unknown, string>(
  Object.entries(CATEGORIES).map(([id, l]) => [l.zh, id]),
);

export const CHANNELS = ['phone', 'web', 'app', 'wechat', 'sms', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

export const URGENCIES = ['normal', 'urgent'] as const;
export type Urgency = (typeof URGENCIES)[number];

/**
 * Where a ticket is in its life. The workflow reads this from the ticket record (the source of
 * truth) to decide its next step, which is what makes a fresh execution resume a ticket.
 */
export const STATUSES = [
  'received', // 受理: recorded, not yet routed
  'awaiting_dispatch', // no catalogue rule fits: a dispatcher routes it by hand
  'dispatched', // 派单: sent to the lead unit, waiting for it to sign for it (签收)
  'handling', // 办理: signed for, the unit is working on it
  'return_review', // 退单: the unit says it is not responsible; the centre decides
  'extension_review', // 延期: the unit asked for more time; the centre decides
  'unreasonable_review', // 不合理诉求申请: a reviewer decides
  'reply_review', // 审核: the centre reviews the unit's reply (when configured)
  'callback', // 回访: the caller is surveyed
  'closed', // 办结
  'merged', // 并单: merged into an open ticket about the same matter, follows its outcome
] as const;
export type TicketStatus = (typeof STATUSES)[number];

/** Statuses in which the lead unit holds the ticket and may act on it. */
export const UNIT_STAGES: readonly TicketStatus[] = ['dispatched', 'handling'];
/** Statuses in which the hotline centre must decide something. */
export const CENTRE_STAGES: readonly TicketStatus[] = [
  'awaiting_dispatch',
  'return_review',
  'extension_review',
  'unreasonable_review',
  'reply_review',
];

export { TICKET_ID_PATTERN, ticketIdSchema } from './ticket-id.ts';

const trimmed = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);
const idString = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a lower-case id such as "water"');

export const placeSchema = z.strictObject({
  district: idString,
  township: idString.optional(),
  address: trimmed(200).optional(),
  lat: z.number().min(-90).max(90).optional(),
  lng: z.number().min(-180).max(180).optional(),
});
export type Place = z.infer<typeof placeSchema>;

export const callerSchema = z.strictObject({
  name: trimmed(50).optional(),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 -]{4,19}$/, 'must be a phone number of digits, spaces or dashes')
    .optional(),
});
export type Caller = z.infer<typeof callerSchema>;

export const REFERRALS = {
  emergency: { zh: '紧急情况，请拨打110/119/120/122', en: 'Emergency: call 110/119/120/122' },
  litigation: {
    zh: '已进入诉讼、仲裁或行政复议程序',
    en: 'In litigation, arbitration or administrative review',
  },
  petition_concluded: { zh: '已经信访程序终结', en: 'Concluded through the petition system' },
  other_channel: { zh: '应通过其他法定途径办理', en: 'Belongs to another statutory channel' },
} as const;
export type Referral = keyof typeof REFERRALS;

/**
 * How the operator disposes of a ticket at intake: dispatch it (the default), answer a
 * consultation on the spot (直接办结), or refer an out-of-scope matter elsewhere.
 */
export const dispositionSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('dispatch') }),
    z.strictObject({ kind: z.literal('answered'), answer: trimmed(4000) }),
    z.strictObject({
      kind: z.literal('referred'),
      referral: z.enum(Object.keys(REFERRALS) as [Referral, ...Referral[]]),
      note: trimmed(1000).optional(),
    }),
  ])
  .default({ kind: 'dispatch' });
export type Disposition = z.infer<typeof dispositionSchema>;

/** What an operator (or the phone system on the operator's behalf) files. */
export const intakeSchema = z.strictObject({
  channel: z.enum(CHANNELS).default('phone'),
  caller: callerSchema.optional(),
  /** 举报人保密: the caller's identity is hidden from the handling unit. */
  confidential: z.boolean().default(false),
  /** The caller asked not to be called back. */
  noCallback: z.boolean().default(false),
  content: trimmed(4000),
  category: z.preprocess((v) => categoryByLabel.get(v as string) ?? v, z.enum(categoryIds)),
  /** Without one, the dispatch model suggests it from the content (智能派单). */
  topic: idString.optional(),
  place: placeSchema,
  urgency: z.enum(URGENCIES).default('normal'),
  callId: z.string().trim().min(1).max(128).optional(),
  /** The operator found no substantive request (e.g. a caller who only wants to chat). */
  noSubstance: z.boolean().default(false),
  disposition: dispositionSchema,
});
export type Intake = z.infer<typeof intakeSchema>;

export const unitReplySchema = z.strictObject({
  content: trimmed(4000),
  resolved: z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()),
  basis: z.preprocess((v) => (v === '' ? undefined : v), trimmed(1000).optional()),
});
export type UnitReply = z.infer<typeof unitReplySchema>;

const optionalText = (max: number) =>
  z.preprocess((v) => (v === '' ? undefined : v), trimmed(max).optional());

/** What the lead unit can do while it holds a ticket (API and the page behind its mail link). */
export const unitActionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('sign') }),
  z.strictObject({ action: z.literal('note'), note: trimmed(2000) }),
  z.strictObject({
    action: z.literal('reply'),
    content: trimmed(4000),
    resolved: z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()),
    basis: optionalText(1000),
  }),
  z.strictObject({ action: z.literal('return'), reason: trimmed(1000) }),
  z.strictObject({
    action: z.literal('extend'),
    workingDays: z.coerce.number().int('must be a whole number of working days').min(1).max(30),
    reason: trimmed(1000),
  }),
  z.strictObject({
    action: z.literal('unreasonable'),
    category: unreasonableCategorySchema,
    evidence: trimmed(4000),
  }),
]);
export type UnitAction = z.infer<typeof unitActionSchema>;

/** What the hotline centre decides on a ticket waiting for it. */
export const centreDecisionSchema = z.discriminatedUnion('decision', [
  z.strictObject({
    decision: z.literal('dispatch'),
    /** The dispatcher's topic: what the dispatch model learns this ticket was about. */
    topic: idString.optional(),
    lead: z.string().min(1).max(64),
    assist: z.array(z.string().min(1).max(64)).max(10).default([]),
    note: optionalText(1000),
  }),
  z.strictObject({ decision: z.literal('send_back'), note: trimmed(1000) }),
  z.strictObject({
    decision: z.literal('approve_extension'),
    workingDays: z.number().int().min(1).max(30).optional(),
  }),
  z.strictObject({ decision: z.literal('refuse_extension'), note: trimmed(1000) }),
  z.strictObject({
    decision: z.literal('approve_unreasonable'),
    publicSummary: trimmed(2000),
    finding: trimmed(2000),
    basis: trimmed(2000),
    reply: trimmed(2000),
  }),
  z.strictObject({ decision: z.literal('refuse_unreasonable'), note: trimmed(1000) }),
  z.strictObject({ decision: z.literal('approve_reply') }),
  z.strictObject({ decision: z.literal('return_reply'), note: trimmed(1000) }),
]);
export type CentreDecision = z.infer<typeof centreDecisionSchema>;

export interface Deadlines {
  /** When the unit must have signed for the ticket (签收). */
  signBy?: string;
  /** When the unit is reminded to sign for it. */
  signRemindAt?: string;
  /** When the unit's reply is due. */
  replyBy?: string;
  /** When the unit is reminded (催办) if it has not replied. */
  remindAt?: string;
  /** When an overdue ticket is marked for report (通报). */
  reportAt?: string;
  /** While the centre must decide: its own time limit for this stage, and its reminder. */
  centreBy?: string;
  centreRemindAt?: string;
}

/** Which deadline events have already happened, so that each happens exactly once. */
export interface Chase {
  signRemindedAt?: string;
  signOverdueAt?: string;
  remindedAt?: string;
  overdueAt?: string;
  reportedAt?: string;
  centreRemindedAt?: string;
  centreOverdueAt?: string;
}

/** A unit's request the centre has to decide on. */
export type PendingRequest =
  | { kind: 'return'; unitId: string; reason: string; at: string }
  | { kind: 'extension'; unitId: string; workingDays: number; reason: string; at: string }
  | {
      kind: 'unreasonable';
      unitId: string;
      category: UnreasonableCategory;
      evidence: string;
      at: string;
      /** Reply time left when the unit applied; a refusal gives it back. */
      remainingMs: number;
    };

export const SATISFACTION = ['satisfied', 'basically_satisfied', 'unsatisfied'] as const;
export type Satisfaction = (typeof SATISFACTION)[number];

export interface SurveyAttempt {
  surveyId: string;
  /** The callback round: 0 after the first reply, n after the nth reopen. Attempts count per round. */
  round: number;
  requestedAt: string;
  dueAt: string;
  outcome?: 'answered' | 'busy' | 'no_answer' | 'failed';
}

/**
 * What the caller said on the callback, kept apart: whether the problem was resolved, and how
 * satisfied they are. Unreached callers are recorded as unreached, never as satisfied.
 */
export interface SurveyResult {
  reached: boolean;
  resolved?: boolean;
  satisfaction?: Satisfaction;
}

/**
 * Why two requests are taken for the same matter (并单): the same place (township and address),
 * or the same caller at the same place as far as it was given.
 */
export const MERGE_REASONS = {
  same_place: { zh: '同一地点的同类诉求', en: 'the same topic at the same place' },
  same_caller_same_place: {
    zh: '同一来电人在同一地点的同类诉求',
    en: 'the same caller about the same topic at the same place',
  },
} as const;
export type MergeReason = keyof typeof MERGE_REASONS;

export type Closure =
  | 'answered_on_the_spot' // 直接办结
  | 'referred' // out of scope: the caller was told where to go
  | 'callback_done'
  | 'no_callback'
  | 'unreached'
  | 'unreasonable'
  | 'reopen_limit';

/** How a ticket's topic was chosen, for its history and for learning from the dispatchers. */
export interface TopicChoice {
  by: 'person' | 'model';
  /** The dispatch model consulted, and the probability it gave its top topic. */
  modelVersion?: string;
  probability?: number;
  /** The model's top topics, shown to the dispatcher when it was not sure enough to choose. */
  suggestions?: { topic: string; probability: number }[];
  /** A person replaced this topic (the model's or another person's): the label is a correction. */
  replaced?: string;
}

export interface Ticket extends Intake {
  id: string;
  status: TicketStatus;
  leadUnit?: string;
  assistingUnits: string[];
  /** When the current lead unit was dispatched to, and when it signed for the ticket. */
  dispatchedAt?: string;
  signedAt?: string;
  deadlines: Deadlines;
  chase: Chase;
  pending?: PendingRequest;
  reply?: UnitReply & { unitId: string; repliedAt: string };
  /** Units that returned this ticket (退单): bounces are counted and shown. */
  returnedBy: string[];
  /** Working days of extension granted so far (capped by configuration). */
  extendedWorkingDays: number;
  reopenCount: number;
  surveys: SurveyAttempt[];
  survey?: SurveyResult;
  /** For an approved unreasonable ticket: the public record a bulletin may use. */
  unreasonable?: ApprovedUnreasonableCase;
  /** Set when a ticket is merged (并单) into an earlier open ticket about the same matter. */
  mergedInto?: string;
  /** Why it was taken for the same matter, for the dispatcher who reads it. */
  mergeReason?: MergeReason;
  /** For out-of-scope tickets closed at intake: where the caller was referred. */
  referral?: Referral;
  /** Operator's answer for a consultation closed on the spot. */
  answer?: string;
  /** A repeat caller without substantive content: flagged for a human, never blocked. */
  flaggedRepeatCaller?: boolean;
  /** Who chose the topic: the operator or dispatcher, or the dispatch model (智能派单). */
  topicChoice?: TopicChoice;
  /**
   * What this ticket has added to each unit's assessment counters, per unit and per day
   * (Asia/Shanghai, YYYY-MM-DD), so that a correction (an approved unreasonable application, an
   * approved return) can take exactly that back out, in the day and month it was counted in.
   */
  assessed: Record<string, Record<string, Partial<Record<MetricCounter, number>>>>;
  closure?: Closure;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
  /** Optimistic lock: every change writes version + 1 on condition that version is unchanged. */
  version: number;
}

/** The counters kept per unit and per day and month (see core/metrics.ts for the rates). */
export const METRIC_COUNTERS = [
  'received',
  'signedOnTime',
  'signedLate',
  'repliedOnTime',
  'repliedLate',
  'overdue',
  'returned',
  'extended',
  'resolved',
  'unresolved',
  'satisfied',
  'basicallySatisfied',
  'unsatisfied',
  'unreached',
  'reopened',
  'unreasonableApplied',
  'unreasonableApproved',
] as const;
export type MetricCounter = (typeof METRIC_COUNTERS)[number];

/** Who did something: a person by role (and unit), or the system itself. */
export interface Actor {
  kind: 'operator' | 'dispatcher' | 'unit' | 'reviewer' | 'supervisor' | 'system' | 'phone';
  id: string;
  unitId?: string;
}

/** One line of a ticket's append-only history: who, when, from → to, why. */
export interface HistoryEntry {
  version: number;
  at: string;
  actor: Actor;
  event: string;
  from: TicketStatus | null;
  to: TicketStatus;
  reason: string;
  details?: Record<string, unknown>;
}

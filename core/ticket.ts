import { z } from 'zod';

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
  'dispatched', // 派单: sent to the lead unit, waiting for its reply
  'replied', // 回复: the unit answered
  'closed', // 办结
] as const;
export type TicketStatus = (typeof STATUSES)[number];

export const TICKET_ID_PATTERN = /^\d{8}-\d{6}$/;
export const ticketIdSchema = z.string().regex(TICKET_ID_PATTERN, 'must look like 20261121-000123');

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
  topic: idString,
  place: placeSchema,
  urgency: z.enum(URGENCIES).default('normal'),
  callId: z.string().trim().min(1).max(128).optional(),
});
export type Intake = z.infer<typeof intakeSchema>;

export const unitReplySchema = z.strictObject({
  content: trimmed(4000),
  resolved: z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()),
  basis: z.preprocess((v) => (v === '' ? undefined : v), trimmed(1000).optional()),
});
export type UnitReply = z.infer<typeof unitReplySchema>;

export interface Deadlines {
  /** When the unit's reply is due. */
  replyBy?: string;
  /** When the unit is reminded (催办) if it has not replied. */
  remindAt?: string;
  /** When an overdue ticket is marked for report (通报). */
  reportAt?: string;
}

/** Which deadline events have already happened, so that each happens exactly once. */
export interface Chase {
  remindedAt?: string;
  overdueAt?: string;
  reportedAt?: string;
}

export interface Ticket extends Intake {
  id: string;
  status: TicketStatus;
  leadUnit?: string;
  assistingUnits: string[];
  deadlines: Deadlines;
  chase: Chase;
  reply?: UnitReply & { unitId: string; repliedAt: string };
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
  /** Optimistic lock: every change writes version + 1 on condition that version is unchanged. */
  version: number;
}

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

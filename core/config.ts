import * as z from 'zod';
import type { Category, Urgency } from './ticket.ts';

/**
 * A time limit: natural hours, working hours, or working days on the hotline's calendar.
 * Working days are whole days: a limit that ends mid-day is written in working hours.
 */
export const durationSchema = z
  .strictObject({
    amount: z.number().positive(),
    unit: z.enum(['hours', 'workingHours', 'workingDays']),
  })
  .refine((d) => d.unit !== 'workingDays' || Number.isInteger(d.amount), {
    message: 'working days must be a whole number',
    path: ['amount'],
  });
export type LimitDuration = z.infer<typeof durationSchema>;

const days = (amount: number): LimitDuration => ({ amount, unit: 'workingDays' });
const hours = (amount: number): LimitDuration => ({ amount, unit: 'hours' });

const byCategory = z.strictObject({
  consultation: durationSchema,
  help: durationSchema,
  complaint: durationSchema,
  report: durationSchema,
  suggestion: durationSchema,
});

const byUrgency = z.strictObject({ normal: durationSchema, urgent: durationSchema });

const workingHours = (amount: number): LimitDuration => ({ amount, unit: 'workingHours' });

/**
 * The hotline centre's own time limits, one per stage in which it must decide, and how long
 * before each the centre is reminded; at the limit the supervisors hear of it (督办).
 */
const CENTRE_DEFAULTS = {
  awaiting_dispatch: workingHours(2),
  return_review: days(1),
  extension_review: days(1),
  unreasonable_review: days(3),
  reply_review: days(1),
  remindBefore: workingHours(1),
};
const centreLimitsSchema = z.strictObject({
  /** 待人工派单: a ticket no catalogue rule fits waits for a dispatcher. */
  awaiting_dispatch: durationSchema.default(CENTRE_DEFAULTS.awaiting_dispatch),
  /** 退单审核: a unit's return. */
  return_review: durationSchema.default(CENTRE_DEFAULTS.return_review),
  /** 延期审批: a unit's extension request. */
  extension_review: durationSchema.default(CENTRE_DEFAULTS.extension_review),
  /** 不合理诉求审核: a unit's unreasonable-request application. */
  unreasonable_review: durationSchema.default(CENTRE_DEFAULTS.unreasonable_review),
  /** 答复审核: a unit's reply, when replies are reviewed. */
  reply_review: durationSchema.default(CENTRE_DEFAULTS.reply_review),
  /** How long before each limit the centre is reminded. */
  remindBefore: durationSchema.default(CENTRE_DEFAULTS.remindBefore),
});

/**
 * Every time limit and threshold of the lifecycle, validated once at start-up. Defaults follow
 * published practice: Guangdong's 2/10/15 working days for consultations, help and complaints;
 * Beijing's urgent limits in hours; sign-for within one working day; returns within two; a
 * reminder one working day before the deadline; a report (通报) three working days after it;
 * extensions capped at ten working days; three callback attempts. The centre itself dispatches
 * by hand within two working hours and decides a unit's request within a working day (three for
 * an unreasonable-request application, which needs evidence read).
 */
export const lifecycleConfigSchema = z.strictObject({
  signFor: byUrgency.default({ normal: days(1), urgent: hours(2) }),
  /** How long before the sign-for limit the unit is reminded. */
  signRemindBefore: durationSchema.default(hours(2)),
  reply: z.strictObject({ normal: byCategory, urgent: durationSchema }).default({
    normal: {
      consultation: days(2),
      help: days(10),
      complaint: days(15),
      report: days(15),
      suggestion: days(15),
    },
    urgent: hours(24),
  }),
  /** How long before the reply deadline the unit is reminded (催办). */
  remindBefore: durationSchema.default(days(1)),
  /** How long after the deadline an overdue ticket is marked for report (通报). */
  reportAfter: durationSchema.default(days(3)),
  /** A unit may return a ticket (退单) only this long after it was dispatched. */
  returnWithin: durationSchema.default(days(2)),
  /** Total working days of extension a ticket may get. */
  maxExtensionWorkingDays: z.number().int().min(0).max(60).default(10),
  /** Whether the centre reviews every reply before the callback (审核). */
  replyReview: z.boolean().default(false),
  callback: z
    .strictObject({
      attempts: z.number().int().min(1).max(10).default(3),
      /** How long one survey attempt may take before it counts as unanswered. */
      attemptTimeout: durationSchema.default(hours(4)),
    })
    .default({ attempts: 3, attemptTimeout: hours(4) }),
  /** The centre's own time limits (see centreLimitsSchema). */
  centre: centreLimitsSchema.default(CENTRE_DEFAULTS),
  /** How often an unresolved, unsatisfied caller can reopen a ticket before it is escalated. */
  maxReopens: z.number().int().min(0).max(10).default(2),
  /** Requests about the same matter within this many hours are merged (并单). */
  duplicateWindowHours: z
    .number()
    .positive()
    .max(24 * 90)
    .default(72),
  /** Calls without substantive content from one number in 30 days before a human is asked. */
  repeatCallerThreshold: z.number().int().min(2).max(1000).default(5),
  /**
   * The coordinates a ticket's place may have (degrees). Default: China's bounding box; a city
   * narrows it to its own area.
   */
  region: z
    .strictObject({
      minLat: z.number().min(-90).max(90),
      maxLat: z.number().min(-90).max(90),
      minLng: z.number().min(-180).max(180),
      maxLng: z.number().min(-180).max(180),
    })
    .refine((r) => r.minLat < r.maxLat && r.minLng < r.maxLng, {
      message: 'min must be below max',
      path: ['minLat'],
    })
    .default({ minLat: 3.5, maxLat: 54, minLng: 73, maxLng: 135.5 }),
});
export type LifecycleConfig = z.infer<typeof lifecycleConfigSchema>;

export function replyLimit(config: LifecycleConfig, category: Category, urgency: Urgency) {
  return urgency === 'urgent' ? config.reply.urgent : config.reply.normal[category];
}

/**
 * Parses configuration, turning zod's issues into one message that names every bad setting: a
 * hotline that starts with a wrong time limit is worse than one that refuses to start.
 */
export function parseLifecycleConfig(input: unknown): LifecycleConfig {
  const result = lifecycleConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`Invalid lifecycle configuration:\n${lines.join('\n')}`);
}

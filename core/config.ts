import { z } from 'zod';
import type { Category, Urgency } from './ticket.ts';

/** A time limit: natural hours, working hours, or working days on the hotline's calendar. */
export const durationSchema = z.strictObject({
  amount: z.number().positive(),
  unit: z.enum(['hours', 'workingHours', 'workingDays']),
});
export type LimitDuration = z.infer<typeof durationSchema>;

const byCategory = z.strictObject({
  consultation: durationSchema,
  help: durationSchema,
  complaint: durationSchema,
  report: durationSchema,
  suggestion: durationSchema,
});

/**
 * Every time limit and threshold of the lifecycle, validated once at start-up. Defaults follow
 * published practice: Guangdong's 2/10/15 working days for consultations, help and complaints;
 * Beijing's urgent limits in hours; a reminder one working day before the deadline; a report
 * (通报) three working days after it.
 */
export const lifecycleConfigSchema = z.strictObject({
  reply: z
    .strictObject({
      normal: byCategory,
      urgent: durationSchema,
    })
    .default({
      normal: {
        consultation: { amount: 2, unit: 'workingDays' },
        help: { amount: 10, unit: 'workingDays' },
        complaint: { amount: 15, unit: 'workingDays' },
        report: { amount: 15, unit: 'workingDays' },
        suggestion: { amount: 15, unit: 'workingDays' },
      },
      urgent: { amount: 24, unit: 'hours' },
    }),
  /** How long before the reply deadline the unit is reminded (催办). */
  remindBefore: durationSchema.default({ amount: 1, unit: 'workingDays' }),
  /** How long after the deadline an overdue ticket is marked for report (通报). */
  reportAfter: durationSchema.default({ amount: 3, unit: 'workingDays' }),
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

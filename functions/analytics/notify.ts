import * as z from 'zod';
import { warningMail } from '#core/analytics/warnings';
import { now } from '#core/clock';
import { parseWith } from '../lib/http.ts';
import { analyticsMailer, supervisors, warningStore } from './deps.ts';

const inputSchema = z.strictObject({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) });

/**
 * Mails the supervisors the day's warnings not yet mailed, in one mail, then marks them: a
 * re-run after success finds nothing to send.
 */
export const handler = async (input: unknown): Promise<{ mailed: number }> => {
  const { day } = parseWith(inputSchema, input);
  const store = warningStore();
  const pending = (await store.list(day.slice(0, 7))).filter(
    (w) => w.day === day && w.mailedAt === undefined,
  );
  const to = supervisors();
  if (pending.length === 0 || to.length === 0) return { mailed: 0 };
  await analyticsMailer().send({ to, ...warningMail(day, pending) });
  const at = now().toISOString();
  for (const w of pending) await store.markMailed(w, at);
  return { mailed: pending.length };
};

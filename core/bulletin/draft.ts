import * as z from 'zod';
import { ValidationError } from '../errors.ts';
import {
  type ApprovedUnreasonableCase,
  approvedUnreasonableCaseSchema,
  UNREASONABLE_CATEGORIES,
  unreasonableCategory,
} from '../unreasonable.ts';
import {
  type Bulletin,
  type BulletinCase,
  type BulletinSummary,
  type CategoryCount,
  type LocalizedText,
  localizedTextSchema,
} from './model.ts';
import { bulletinText, DEFAULT_ISSUER, issueLabel } from './text.ts';

export const draftBulletinInputSchema = z
  .strictObject({
    issueNumber: z.number().int().positive(),
    periodStart: z.iso.date(),
    periodEnd: z.iso.date(),
    /** Leave out while drafting; set by publishBulletin once a person has approved it. */
    publishedAt: z.iso.datetime({ offset: true }).optional(),
    /** The city's hotline, e.g. { zh: '聊城市12345政务服务便民热线', en: '…' }. */
    issuer: localizedTextSchema.optional(),
    cases: z.array(approvedUnreasonableCaseSchema).min(1, 'a bulletin needs at least one case'),
    // Loose on purpose: a stored BulletinSummary of the last issue can be passed as it is.
    previousIssue: z.object({ issueNumber: z.number().int().positive() }).optional(),
  })
  .superRefine((input, ctx) => {
    if (input.periodEnd < input.periodStart) {
      ctx.addIssue({
        code: 'custom',
        path: ['periodEnd'],
        message: 'must not be before periodStart',
      });
    }
    if (input.previousIssue && input.previousIssue.issueNumber >= input.issueNumber) {
      ctx.addIssue({
        code: 'custom',
        path: ['previousIssue', 'issueNumber'],
        message: 'must be lower than issueNumber',
      });
    }
    const seen = new Set<string>();
    input.cases.forEach((c, i) => {
      if (seen.has(c.ticketId)) {
        ctx.addIssue({ code: 'custom', path: ['cases', i, 'ticketId'], message: 'listed twice' });
      }
      seen.add(c.ticketId);
    });
  });
export type DraftBulletinInput = z.input<typeof draftBulletinInputSchema>;

function parseInput(input: unknown): z.output<typeof draftBulletinInputSchema> {
  const parsed = draftBulletinInputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ValidationError(
    'invalid bulletin draft input',
    parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || '(input)',
      problem: issue.message,
    })),
  );
}

const categoryRank = new Map<string, number>(UNREASONABLE_CATEGORIES.map((c, i) => [c.id, i]));

/**
 * The order cases are printed in: grouped by category in catalogue order, and within a category
 * in the order the reviewer passed them (a stable sort), so the reviewer can put the most telling
 * case first. Exported so that the publish step can map "案例N" back to its ticket.
 */
export function orderBulletinCases<T extends Pick<ApprovedUnreasonableCase, 'category'>>(
  cases: readonly T[],
): T[] {
  return [...cases].sort(
    (a, b) => (categoryRank.get(a.category) ?? 0) - (categoryRank.get(b.category) ?? 0),
  );
}

function countByCategory(cases: readonly BulletinCase[]): CategoryCount[] {
  return UNREASONABLE_CATEGORIES.flatMap((c) => {
    const count = cases.filter((x) => x.category === c.id).length;
    return count > 0 ? [{ category: c.id, label: { zh: c.zh, en: c.en }, count }] : [];
  });
}

/**
 * Assemble a bulletin issue from cases the centre approved. This does not check for personal
 * data: run checkBulletinPrivacy on the result and stop on any finding, because only the reviewer
 * can rewrite a case without losing its meaning.
 */
export function draftBulletin(input: DraftBulletinInput): Bulletin {
  const data = parseInput(input);
  const issuer: LocalizedText = data.issuer ?? DEFAULT_ISSUER;

  const cases: BulletinCase[] = orderBulletinCases(data.cases).map((c, i) => {
    const info = unreasonableCategory(c.category);
    return {
      sequence: i + 1,
      category: c.category,
      categoryLabel: { zh: info.zh, en: info.en },
      ...(c.topic ? { topic: c.topic } : {}),
      ...(c.district ? { district: c.district } : {}),
      publicSummary: c.publicSummary,
      finding: c.finding,
      basis: c.basis,
      reply: c.reply,
    };
  });
  const categoryCounts = countByCategory(cases);

  const textInput = {
    issueNumber: data.issueNumber,
    periodStart: data.periodStart,
    periodEnd: data.periodEnd,
    ...(data.publishedAt ? { publishedAt: data.publishedAt } : {}),
    issuer,
    totalCases: cases.length,
    categoryCounts,
  };

  return {
    schemaVersion: 1,
    issueNumber: data.issueNumber,
    periodStart: data.periodStart,
    periodEnd: data.periodEnd,
    ...(data.publishedAt ? { publishedAt: data.publishedAt } : {}),
    issuer,
    text: { zh: bulletinText(textInput, 'zh'), en: bulletinText(textInput, 'en') },
    cases,
    categoryCounts,
    totalCases: cases.length,
    ...(data.previousIssue
      ? {
          previousIssue: {
            issueNumber: data.previousIssue.issueNumber,
            issueLabel: issueLabel(data.previousIssue.issueNumber),
          },
        }
      : {}),
  };
}

/** The approved draft, stamped with its publication time (the draft itself is not changed). */
export function publishBulletin(bulletin: Bulletin, publishedAt: string): Bulletin {
  const at = z.iso.datetime({ offset: true }).safeParse(publishedAt);
  if (!at.success) {
    throw new ValidationError('invalid publication time', [
      { field: 'publishedAt', problem: 'must be an ISO date-time' },
    ]);
  }
  const textInput = {
    issueNumber: bulletin.issueNumber,
    periodStart: bulletin.periodStart,
    periodEnd: bulletin.periodEnd,
    publishedAt,
    issuer: bulletin.issuer,
    totalCases: bulletin.totalCases,
    categoryCounts: bulletin.categoryCounts,
  };
  return {
    ...bulletin,
    publishedAt,
    text: { zh: bulletinText(textInput, 'zh'), en: bulletinText(textInput, 'en') },
  };
}

/** The entry for the index page and the feed; only a published issue has one. */
export function summarizeBulletin(bulletin: Bulletin, href: string): BulletinSummary {
  if (!bulletin.publishedAt) {
    throw new ValidationError('a draft bulletin cannot be listed', [
      { field: 'publishedAt', problem: 'the bulletin has not been published' },
    ]);
  }
  return {
    issueNumber: bulletin.issueNumber,
    issueLabel: issueLabel(bulletin.issueNumber),
    title: { zh: bulletin.text.zh.fullTitle, en: bulletin.text.en.fullTitle },
    summary: { zh: bulletin.text.zh.summary, en: bulletin.text.en.summary },
    periodStart: bulletin.periodStart,
    periodEnd: bulletin.periodEnd,
    publishedAt: bulletin.publishedAt,
    totalCases: bulletin.totalCases,
    categoryCounts: bulletin.categoryCounts.map(({ category, count }) => ({ category, count })),
    href,
  };
}

import * as z from 'zod';
import { unreasonableCategorySchema } from '../unreasonable.ts';

/**
 * The public bulletin of unreasonable requests (不合理诉求通报) as data. Everything in a Bulletin
 * is meant for publication: the caller's identifiers never enter it, so the JSON rendering can
 * be the object itself. Schemas, not only types, because drafts and summaries travel between
 * workflow steps and are read back from the bucket when the index and feed are rebuilt.
 */

export const LANGS = ['zh', 'en'] as const;
export type Lang = (typeof LANGS)[number];

export const localizedTextSchema = z.strictObject({ zh: z.string(), en: z.string() });
export type LocalizedText = z.infer<typeof localizedTextSchema>;

const positiveInt = z.number().int().positive();
const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });

export const bulletinCaseSchema = z.strictObject({
  /** 1-based number as printed ("案例1"). */
  sequence: positiveInt,
  category: unreasonableCategorySchema,
  categoryLabel: localizedTextSchema,
  topic: z.string().optional(),
  district: z.string().optional(),
  /** The texts below are published in Chinese exactly as the reviewer wrote them. */
  publicSummary: z.string(),
  finding: z.string(),
  basis: z.string(),
  reply: z.string(),
});
export type BulletinCase = z.infer<typeof bulletinCaseSchema>;

export const categoryCountSchema = z.strictObject({
  category: unreasonableCategorySchema,
  label: localizedTextSchema,
  count: positiveInt,
});
export type CategoryCount = z.infer<typeof categoryCountSchema>;

/** The bulletin's own words, in one language. */
export const bulletinTextSchema = z.strictObject({
  /** "第7期" / "Issue 7" */
  issueLabel: z.string(),
  /** Title without the issue, e.g. "12345政务服务便民热线不合理诉求典型案例通报". */
  title: z.string(),
  /** Title with the issue, for <title>, feeds and listings. */
  fullTitle: z.string(),
  /** "通报期间：2026年11月1日至2026年11月30日" */
  periodLabel: z.string(),
  /** "发布日期：2026年12月1日"; absent while the bulletin is a draft. */
  publishedLabel: z.string().optional(),
  /** One sentence for feeds and the index. */
  summary: z.string(),
  /** Paragraphs on the bulletin's purpose. */
  introduction: z.array(z.string()),
  /** How to use 12345 properly, one point per item. */
  guidance: z.array(z.string()),
});
export type BulletinText = z.infer<typeof bulletinTextSchema>;

export const bulletinSchema = z.strictObject({
  schemaVersion: z.literal(1),
  issueNumber: positiveInt,
  periodStart: isoDate,
  periodEnd: isoDate,
  /** Absent while the bulletin is a draft waiting for approval. */
  publishedAt: isoDateTime.optional(),
  issuer: localizedTextSchema,
  text: z.strictObject({ zh: bulletinTextSchema, en: bulletinTextSchema }),
  cases: z.array(bulletinCaseSchema).min(1),
  /** Only categories with cases, in catalogue order. */
  categoryCounts: z.array(categoryCountSchema),
  totalCases: positiveInt,
  previousIssue: z
    .strictObject({ issueNumber: positiveInt, issueLabel: localizedTextSchema })
    .optional(),
});
export type Bulletin = z.infer<typeof bulletinSchema>;

/** What the index page and the Atom feed need to know about one published issue. */
export const bulletinSummarySchema = z.strictObject({
  issueNumber: positiveInt,
  issueLabel: localizedTextSchema,
  title: localizedTextSchema,
  summary: localizedTextSchema,
  periodStart: isoDate,
  periodEnd: isoDate,
  publishedAt: isoDateTime,
  totalCases: positiveInt,
  categoryCounts: z.array(
    z.strictObject({ category: unreasonableCategorySchema, count: positiveInt }),
  ),
  /** Where the issue's HTML page lives, absolute or relative to the site. */
  href: z.string().min(1),
});
export type BulletinSummary = z.infer<typeof bulletinSummarySchema>;

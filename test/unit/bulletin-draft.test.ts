import { describe, expect, it } from 'vitest';
import {
  draftBulletin,
  orderBulletinCases,
  publishBulletin,
  summarizeBulletin,
} from '../../core/bulletin/draft.ts';
import { bulletinSchema, bulletinSummarySchema } from '../../core/bulletin/model.ts';
import { checkBulletinPrivacy, knownIdentifiersFromCases } from '../../core/bulletin/privacy.ts';
import { chinaDate, formatDate } from '../../core/bulletin/text.ts';
import { ValidationError } from '../../core/errors.ts';
import {
  approvedUnreasonableCaseSchema,
  UNREASONABLE_CATEGORIES,
  UNREASONABLE_CATEGORY_IDS,
  unreasonableCategorySchema,
} from '../../core/unreasonable.ts';
import { APPROVED_CASES } from '../fixtures/privacy-corpus.ts';

const input = {
  issueNumber: 7,
  periodStart: '2026-11-01',
  periodEnd: '2026-11-30',
  cases: APPROVED_CASES,
  previousIssue: { issueNumber: 6 },
};

describe('unreasonable-request categories', () => {
  it('has stable, unique ids with Chinese and English labels', () => {
    expect(UNREASONABLE_CATEGORY_IDS).toEqual([
      'no_factual_basis',
      'superstition_or_public_order',
      'petition_or_legal_proceedings',
      'contrary_to_law_or_policy',
      'outside_remit',
      'harassment_no_substance',
      'repeat_after_conclusion',
      'other',
    ]);
    for (const c of UNREASONABLE_CATEGORIES) {
      expect(c.zh).toMatch(/\p{Script=Han}/u);
      expect(c.en).toMatch(/^[A-Z]/);
    }
  });

  it('accepts only known ids', () => {
    expect(unreasonableCategorySchema.parse('outside_remit')).toBe('outside_remit');
    expect(unreasonableCategorySchema.safeParse('too_annoying').success).toBe(false);
  });

  it('requires every published field of an approved case and a real ticket id', () => {
    const ok = APPROVED_CASES[0]!;
    expect(approvedUnreasonableCaseSchema.parse(ok)).toEqual(ok);
    expect(approvedUnreasonableCaseSchema.safeParse({ ...ok, reply: '  ' }).success).toBe(false);
    expect(approvedUnreasonableCaseSchema.safeParse({ ...ok, ticketId: 'T-1' }).success).toBe(
      false,
    );
    expect(
      approvedUnreasonableCaseSchema.safeParse({ ...ok, approvedAt: 'yesterday' }).success,
    ).toBe(false);
    expect(approvedUnreasonableCaseSchema.safeParse({ ...ok, extra: 1 }).success).toBe(false);
  });
});

describe('draftBulletin', () => {
  const bulletin = draftBulletin(input);

  it('produces a valid bulletin', () => {
    expect(bulletinSchema.parse(bulletin)).toEqual(bulletin);
    expect(bulletin.schemaVersion).toBe(1);
  });

  it('numbers the issue in both languages', () => {
    expect(bulletin.text.zh.issueLabel).toBe('第7期');
    expect(bulletin.text.en.issueLabel).toBe('Issue 7');
    expect(bulletin.text.zh.fullTitle).toBe('12345政务服务便民热线不合理诉求典型案例通报（第7期）');
    expect(bulletin.text.en.fullTitle).toBe(
      '12345 Government Service Hotline: Bulletin of Unreasonable Requests, Issue 7',
    );
  });

  it('states the period', () => {
    expect(bulletin.text.zh.periodLabel).toBe('通报期间：2026年11月1日至2026年11月30日');
    expect(bulletin.text.en.periodLabel).toBe('Period: 1 November 2026 to 30 November 2026');
  });

  it('explains its purpose and how to use 12345 properly', () => {
    const zh = bulletin.text.zh.introduction.join('');
    expect(zh).toContain('依法、理性、合理使用12345');
    expect(zh).toContain('减轻基层工作人员');
    expect(zh).toContain('本期共通报典型案例7个，涉及6类情形');
    const en = bulletin.text.en.introduction.join(' ');
    expect(en).toContain('lawful and reasonable use');
    expect(en).toContain('grassroots staff');
    expect(en).toContain('7 cases in 6 categories');
    expect(bulletin.text.zh.guidance.length).toBeGreaterThanOrEqual(3);
    expect(bulletin.text.en.guidance).toHaveLength(bulletin.text.zh.guidance.length);
    expect(bulletin.text.zh.guidance.join('')).toContain('110');
  });

  it('groups cases by category in catalogue order and keeps the reviewer order within one', () => {
    expect(bulletin.cases.map((c) => c.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(bulletin.cases.map((c) => c.category)).toEqual([
      'no_factual_basis',
      'superstition_or_public_order',
      'contrary_to_law_or_policy',
      'outside_remit',
      'outside_remit',
      'harassment_no_substance',
      'repeat_after_conclusion',
    ]);
    const remit = bulletin.cases.filter((c) => c.category === 'outside_remit');
    expect(remit.map((c) => c.publicSummary)).toEqual([
      APPROVED_CASES[0]!.publicSummary,
      APPROVED_CASES[6]!.publicSummary,
    ]);
    expect(orderBulletinCases(APPROVED_CASES).map((c) => c.ticketId)[3]).toBe(
      APPROVED_CASES[0]!.ticketId,
    );
  });

  it('carries the case texts as written, with the category label', () => {
    const first = bulletin.cases[0]!;
    const source = APPROVED_CASES[1]!;
    expect(first).toEqual({
      sequence: 1,
      category: 'no_factual_basis',
      categoryLabel: { zh: '无事实依据', en: 'No factual basis' },
      topic: '供电',
      district: '东昌府区',
      publicSummary: source.publicSummary,
      finding: source.finding,
      basis: source.basis,
      reply: source.reply,
    });
  });

  it('counts cases by category, only those that occur', () => {
    expect(bulletin.categoryCounts.map((c) => [c.category, c.count])).toEqual([
      ['no_factual_basis', 1],
      ['superstition_or_public_order', 1],
      ['contrary_to_law_or_policy', 1],
      ['outside_remit', 2],
      ['harassment_no_substance', 1],
      ['repeat_after_conclusion', 1],
    ]);
    expect(bulletin.categoryCounts.reduce((n, c) => n + c.count, 0)).toBe(bulletin.totalCases);
    expect(bulletin.totalCases).toBe(7);
  });

  it('leaves every caller identifier and ticket id out', () => {
    const json = JSON.stringify(bulletin);
    for (const c of APPROVED_CASES) {
      expect(json).not.toContain(c.ticketId);
      if (c.callerName) expect(json).not.toContain(c.callerName);
      if (c.callerPhone) expect(json).not.toContain(c.callerPhone);
      if (c.callId) expect(json).not.toContain(c.callId);
    }
    expect(json).not.toMatch(/"(callerName|callerPhone|callerAddress|callId|ticketId|approvedAt)"/);
  });

  it('passes the privacy guard', () => {
    expect(checkBulletinPrivacy(bulletin, knownIdentifiersFromCases(APPROVED_CASES))).toEqual([]);
  });

  it('links the previous issue', () => {
    expect(bulletin.previousIssue).toEqual({
      issueNumber: 6,
      issueLabel: { zh: '第6期', en: 'Issue 6' },
    });
    expect(draftBulletin({ ...input, previousIssue: undefined }).previousIssue).toBeUndefined();
  });

  it('uses the city as issuer when given', () => {
    const city = { zh: '聊城市12345政务服务便民热线', en: 'Liaocheng 12345 Hotline' };
    const b = draftBulletin({ ...input, issuer: city });
    expect(b.text.zh.title).toBe('聊城市12345政务服务便民热线不合理诉求典型案例通报');
    expect(b.text.en.title).toBe('Liaocheng 12345 Hotline: Bulletin of Unreasonable Requests');
  });

  it('uses the singular in English for one case', () => {
    const b = draftBulletin({ ...input, cases: [APPROVED_CASES[0]!] });
    expect(b.text.en.summary).toBe(
      "This issue reports 1 case of unreasonable requests in 1 category: Outside the hotline's remit.",
    );
    expect(b.text.zh.summary).toBe('本期通报不合理诉求典型案例1个，涉及超出热线受理范围1类情形。');
  });

  it('rejects bad input with the fields named', () => {
    const fieldsOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return (e as ValidationError).fields.map((x) => x.field);
      }
      throw new Error('expected a ValidationError');
    };
    expect(fieldsOf(() => draftBulletin({ ...input, cases: [] }))).toEqual(['cases']);
    expect(
      fieldsOf(() => draftBulletin({ ...input, cases: [APPROVED_CASES[0]!, APPROVED_CASES[0]!] })),
    ).toEqual(['cases.1.ticketId']);
    expect(fieldsOf(() => draftBulletin({ ...input, periodEnd: '2026-10-31' }))).toEqual([
      'periodEnd',
    ]);
    expect(fieldsOf(() => draftBulletin({ ...input, previousIssue: { issueNumber: 7 } }))).toEqual([
      'previousIssue.issueNumber',
    ]);
    expect(fieldsOf(() => draftBulletin({ ...input, issueNumber: 0 }))).toContain('issueNumber');
    expect(
      fieldsOf(() =>
        draftBulletin({
          ...input,
          cases: [{ ...APPROVED_CASES[0]!, category: 'rude' as 'other' }],
        }),
      ),
    ).toEqual(['cases.0.category']);
  });
});

describe('publishing', () => {
  const draft = draftBulletin(input);

  it('is a draft until published', () => {
    expect(draft.publishedAt).toBeUndefined();
    expect(draft.text.zh.publishedLabel).toBeUndefined();
    expect(() => summarizeBulletin(draft, 'issue-7.html')).toThrow(ValidationError);
  });

  it('stamps the publication day as seen in China', () => {
    // 17:00 UTC on 30 November is already 1 December in Beijing.
    const published = publishBulletin(draft, '2026-11-30T17:00:00Z');
    expect(published.publishedAt).toBe('2026-11-30T17:00:00Z');
    expect(published.text.zh.publishedLabel).toBe('发布日期：2026年12月1日');
    expect(published.text.en.publishedLabel).toBe('Published: 1 December 2026');
    expect(published.cases).toEqual(draft.cases);
    expect(draft.publishedAt).toBeUndefined();
    expect(() => publishBulletin(draft, 'soon')).toThrow(ValidationError);
  });

  it('summarises a published issue for the index and feed', () => {
    const summary = summarizeBulletin(
      publishBulletin(draft, '2026-12-01T02:00:00Z'),
      'issue-7.html',
    );
    expect(bulletinSummarySchema.parse(summary)).toEqual(summary);
    expect(summary).toMatchObject({
      issueNumber: 7,
      issueLabel: { zh: '第7期', en: 'Issue 7' },
      totalCases: 7,
      href: 'issue-7.html',
      publishedAt: '2026-12-01T02:00:00Z',
    });
    expect(summary.categoryCounts[3]).toEqual({ category: 'outside_remit', count: 2 });
  });

  it('formats dates by hand', () => {
    expect(formatDate('2026-01-09', 'zh')).toBe('2026年1月9日');
    expect(formatDate('2026-01-09', 'en')).toBe('9 January 2026');
    expect(chinaDate('2026-12-31T16:00:00Z')).toBe('2027-01-01');
    expect(chinaDate('2026-12-31T23:59:00+08:00')).toBe('2026-12-31');
  });
});

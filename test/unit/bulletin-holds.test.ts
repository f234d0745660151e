import { describe, expect, it } from 'vitest';
import { caseFindings, heldFindings, holdMail, screenCases } from '../../core/bulletin/holds.ts';
import { knownIdentifiersFromCases } from '../../core/bulletin/privacy.ts';
import type { ApprovedUnreasonableCase } from '../../core/unreasonable.ts';
import { APPROVED_CASES } from '../fixtures/privacy-corpus.ts';

const dirty: ApprovedUnreasonableCase = {
  ...(APPROVED_CASES[0] as ApprovedUnreasonableCase),
  ticketId: '20261120-000042',
  publicSummary: '市民赵建军来电，要求话务员周晓燕将结果发至zhaojj1985@163.com。',
};

describe('screening the collected cases', () => {
  it('holds only the cases with findings and keeps the rest in order', () => {
    const { clean, held } = screenCases([...APPROVED_CASES, dirty]);
    expect(clean.map((c) => c.ticketId)).toEqual(APPROVED_CASES.map((c) => c.ticketId));
    expect(held.map((h) => h.case.ticketId)).toEqual([dirty.ticketId]);
    expect(held[0]?.findings.map((f) => f.kind)).toEqual(['name', 'name', 'email']);
  });

  it("catches one case naming another case's caller", () => {
    const other = { ...(APPROVED_CASES[2] as ApprovedUnreasonableCase), reply: '已向王建国解释。' };
    const { held } = screenCases([APPROVED_CASES[0] as ApprovedUnreasonableCase, other]);
    expect(held.map((h) => h.case.ticketId)).toEqual([other.ticketId]);
  });

  it('mails the ticket number, what was found masked, the suggestion and the link, never the values', () => {
    const findings = caseFindings(dirty, knownIdentifiersFromCases([dirty]));
    const hold = {
      holdId: 'h'.repeat(32),
      heldAt: '2026-12-01T01:00:00Z',
      findings: heldFindings(findings),
    };
    const mail = holdMail(dirty.ticketId, hold, 'https://x.example/review', ['r@example.gov.cn']);
    expect(mail.subject).toContain(dirty.ticketId);
    for (const body of [mail.text, mail.html]) {
      expect(body).toContain('publicSummary');
      expect(body).toContain('赵某某');
      expect(body).toContain('（邮箱已隐去）');
      expect(body).toContain('https://x.example/review');
      expect(body).not.toContain('赵建军');
      expect(body).not.toContain('周晓燕');
      expect(body).not.toContain('zhaojj1985');
    }
  });
});

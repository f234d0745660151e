import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { draftBulletin } from '../../core/bulletin/draft.ts';
import {
  applySuggestions,
  assertNoPersonalData,
  checkBulletinPrivacy,
  findPersonalData,
  isLuhnValid,
  isValidIdNumberChecksum,
  knownIdentifiersFromCases,
  PersonalDataFoundError,
  type PrivacyFinding,
} from '../../core/bulletin/privacy.ts';
import type { ApprovedUnreasonableCase } from '../../core/unreasonable.ts';
import {
  APPROVED_CASES,
  CLEAN as CLEAN_FIRST,
  PLANTED as PLANTED_FIRST,
  type PlantedItem,
} from '../fixtures/privacy-corpus.ts';
import { CLEAN_MORE, PLANTED_MORE } from '../fixtures/privacy-corpus-more.ts';

// The held-out slice (privacy-heldout.ts) is measured by `npm run privacy:eval`, never asserted.
const PLANTED = [...PLANTED_FIRST, ...PLANTED_MORE];
const CLEAN = [...CLEAN_FIRST, ...CLEAN_MORE];

interface Located extends PlantedItem {
  start: number;
  end: number;
}

/** Where each planted value sits; a repeated value is taken occurrence by occurrence. */
function locate(text: string, planted: PlantedItem[]): Located[] {
  const next = new Map<string, number>();
  return planted.map((item) => {
    const start = text.indexOf(item.value, next.get(item.value) ?? 0);
    if (start < 0) throw new Error(`fixture error: "${item.value}" not in "${text}"`);
    next.set(item.value, start + item.value.length);
    return { ...item, start, end: start + item.value.length };
  });
}

function covers(finding: PrivacyFinding, item: Located): boolean {
  const end = finding.index + finding.length;
  if (finding.kind !== item.kind) return false;
  // Where a road or estate name begins cannot be decided, so an address finding only has to
  // end where the house number ends and stay inside the planted text.
  if (item.kind === 'address') return end === item.end && finding.index >= item.start;
  return finding.index === item.start && end === item.end;
}

const digitsOnly = (s: string) => s.replace(/[^0-9A-Za-z\u4e00-\u9fff]/g, '');

describe('privacy corpus', () => {
  it('passes the approved sample cases', () => {
    for (const c of APPROVED_CASES) {
      for (const field of [c.publicSummary, c.finding, c.basis, c.reply]) {
        expect(findPersonalData(field, knownIdentifiersFromCases(APPROVED_CASES))).toEqual([]);
      }
    }
  });

  it('is big enough to mean something', () => {
    expect(PLANTED.length).toBeGreaterThanOrEqual(200);
    expect(CLEAN.length).toBeGreaterThanOrEqual(60);
    const kinds = new Set(PLANTED.flatMap((c) => c.planted.map((p) => p.kind)));
    expect([...kinds].sort()).toEqual(
      [
        'address',
        'bank_card',
        'call_id',
        'email',
        'id_number',
        'landline',
        'mobile',
        'name',
        'plate',
        'qq',
        'social_handle',
        'ticket_number',
        'wechat',
      ].sort(),
    );
    expect(new Set([...PLANTED, ...CLEAN].map((c) => c.id)).size).toBe(
      PLANTED.length + CLEAN.length,
    );
  });

  describe.each(PLANTED)('planted: $id', ({ text, known, planted }) => {
    const findings = findPersonalData(text, known ?? {});
    const located = locate(text, planted);

    it.each(located)('finds the $kind "$value"', (item) => {
      const hit = findings.find((f) => covers(f, item));
      expect(hit, JSON.stringify(findings, null, 2)).toBeDefined();
    });

    it('reports nothing else', () => {
      const extra = findings.filter((f) => !located.some((item) => covers(f, item)));
      expect(extra).toEqual([]);
    });

    it('never echoes a planted value in an excerpt', () => {
      for (const f of findings) {
        expect(f.where).toBe('text');
        for (const item of located) {
          expect(f.excerpt).not.toContain(item.value);
          if (digitsOnly(item.value).length >= 5) {
            expect(digitsOnly(f.excerpt)).not.toContain(digitsOnly(item.value));
          }
        }
      }
    });
  });

  it.each(CLEAN)('clean: $id has no findings', ({ text, known }) => {
    expect(findPersonalData(text, known ?? {})).toEqual([]);
  });
});

describe('findPersonalData', () => {
  it('labels findings with where and a confidence', () => {
    const [f] = findPersonalData('电话13812345678', {}, 'cases[3].publicSummary');
    expect(f).toMatchObject({
      kind: 'mobile',
      where: 'cases[3].publicSummary',
      index: 2,
      length: 11,
      confidence: 'high',
    });
  });

  it('keeps indices of the original text when full-width digits are used', () => {
    const text = '电话：１３８１２３４５６７８。';
    const [f] = findPersonalData(text);
    expect(text.slice(f!.index, f!.index + f!.length)).toBe('１３８１２３４５６７８');
  });

  it('reports a number of the right shape even when its checksum is wrong, only less sure', () => {
    const valid = findPersonalData('身份证号370102199001011231')[0];
    const invalid = findPersonalData('身份证号370102199001011234')[0];
    expect(valid).toMatchObject({ kind: 'id_number', confidence: 'high' });
    expect(invalid).toMatchObject({ kind: 'id_number', confidence: 'medium' });
  });

  it('finds a known phone number however it is punctuated', () => {
    const findings = findPersonalData('回电号码 138.0635.9999 已核实', {
      phones: ['+86 138 0635 9999'],
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ kind: 'mobile', index: 5, length: 13 });
  });

  it('finds the local part of a known landline', () => {
    const findings = findPersonalData('其家中电话是8 123 456。', { phones: ['0635-8123456'] });
    expect(findings.map((f) => f.kind)).toEqual(['landline']);
  });

  it('masks neighbouring findings in an excerpt too', () => {
    const findings = findPersonalData('王建国13812345678', { names: ['王建国'] });
    expect(findings.map((f) => f.kind)).toEqual(['name', 'mobile']);
    for (const f of findings) {
      expect(f.excerpt).not.toContain('王建国');
      expect(f.excerpt).not.toContain('13812345678');
    }
  });

  it('looks for a bare surname only in honorific forms', () => {
    expect(findPersonalData('某市民反映王某来电，王某某在场', { names: ['王'] })).toEqual([]);
    const findings = findPersonalData('经核实，王师傅已离开', { names: ['王'] });
    expect(findings).toMatchObject([{ kind: 'name', index: 4, length: 3 }]);
  });

  it('finds any valid mobile number wherever it is embedded', () => {
    const filler = fc.constantFrom(
      '某市民来电反映',
      '，要求处理',
      '电话',
      '。',
      '经核实',
      ' ',
      '（',
      '）',
    );
    fc.assert(
      fc.property(
        fc.array(filler, { maxLength: 4 }),
        fc.constantFrom('13', '14', '15', '16', '17', '18', '19'),
        fc.stringMatching(/^\d{9}$/),
        fc.constantFrom('', ' ', '-'),
        fc.array(filler, { maxLength: 4 }),
        (before, prefix, rest, sep, after) => {
          const number = `${prefix}${rest.slice(0, 1)}${sep}${rest.slice(1, 5)}${sep}${rest.slice(5)}`;
          const head = before.join('');
          const text = `${head}${number}${after.join('')}`;
          const findings = findPersonalData(text);
          expect(findings).toHaveLength(1);
          expect(findings[0]).toMatchObject({
            kind: 'mobile',
            index: head.length,
            length: number.length,
          });
        },
      ),
    );
  });

  it('never flags dates, times, amounts or percentages', () => {
    const date = fc
      .tuple(
        fc.integer({ min: 2000, max: 2099 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
      )
      .chain(([y, m, d]) =>
        fc.constantFrom(
          `${y}年${m}月${d}日`,
          `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
          `${y}/${m}/${d}`,
          `${y}.${m}.${d}`,
        ),
      );
    const time = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${h}:${String(m).padStart(2, '0')}`);
    const amount = fc.oneof(
      fc.integer({ min: 1, max: 99_999_999 }).map((n) => `${n}元`),
      fc.integer({ min: 1, max: 99_999_999 }).map((n) => `¥${n.toLocaleString('en-US')}.00`),
      fc.integer({ min: 1, max: 999 }).map((n) => `${n / 10}万元`),
      fc.integer({ min: 0, max: 1000 }).map((n) => `${n / 10}%`),
      fc.integer({ min: 1, max: 500 }).map((n) => `第${n}条`),
      fc.integer({ min: 1, max: 9999 }).map((n) => `${n}次`),
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(date, time, amount), { minLength: 1, maxLength: 6 }),
        (parts) => {
          const text = `某市民于${parts.join('，')}来电反映。`;
          expect(findPersonalData(text)).toEqual([]);
        },
      ),
    );
  });
});

describe('suggested masking', () => {
  const suggest = (text: string) => applySuggestions(text, findPersonalData(text));

  it('proposes the standard masked form for each kind', () => {
    expect(suggest('市民赵建军来电，回电13912345678。')).toBe('市民赵某某来电，回电139****5678。');
    expect(suggest('某市民称邻居欧阳明辉家的空调滴水。')).toBe(
      '某市民称邻居欧阳某某家的空调滴水。',
    );
    expect(suggest('某市民要求张主任上门。')).toBe('某市民要求某主任上门。');
    expect(suggest('某市民称其住在人民路18号3单元402室。')).toBe('某市民称其住在人民路。');
    expect(suggest('邮箱zhaojj1985@163.com，微信号zjj_19850312。')).toBe(
      '邮箱（邮箱已隐去），微信号（微信号已隐去）。',
    );
    expect(findPersonalData('来电人阿卜杜拉·艾买提称')[0]?.suggestion).toBe('某某');
  });

  it('passes the guard once accepted, for every planted text of the corpus', () => {
    for (const c of PLANTED) {
      const after = applySuggestions(c.text, findPersonalData(c.text, c.known ?? {}));
      expect(findPersonalData(after, c.known ?? {}), `${c.id}: ${after}`).toEqual([]);
    }
  });
});

describe('checksums', () => {
  it('validates GB 11643 identity numbers', () => {
    expect(isValidIdNumberChecksum('11010519491231002X')).toBe(true);
    expect(isValidIdNumberChecksum('11010519491231002x')).toBe(true);
    expect(isValidIdNumberChecksum('110105194912310021')).toBe(false);
  });

  it('validates Luhn numbers', () => {
    expect(isLuhnValid('6222021234567890128')).toBe(true);
    expect(isLuhnValid('6222021234567890127')).toBe(false);
  });
});

describe('checkBulletinPrivacy', () => {
  const base: ApprovedUnreasonableCase = {
    ticketId: '20261121-000123',
    category: 'no_factual_basis',
    publicSummary: '某市民来电反映其电热毯“不够热”，认为是供电电压不足所致。',
    finding: '经供电公司现场检测，电压正常，诉求无事实依据。',
    basis: '《供电营业规则》有关规定。',
    reply: '感谢您的来电。经检测供电电压正常，建议您检查电热毯本身。',
    approvedAt: '2026-11-25T02:00:00Z',
    callerName: '王建国',
    callerPhone: '13812345678',
    callId: 'CA0123456789abcdef0123456789abcdef',
  };

  it('passes a clean bulletin, fixed text included, in both languages', () => {
    const bulletin = draftBulletin({
      issueNumber: 7,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      publishedAt: '2026-12-01T02:00:00Z',
      cases: [base],
      previousIssue: { issueNumber: 6 },
    });
    expect(checkBulletinPrivacy(bulletin, knownIdentifiersFromCases([base]))).toEqual([]);
  });

  it('names the field of each finding and looks for what the tickets recorded', () => {
    const leaky: ApprovedUnreasonableCase = {
      ...base,
      ticketId: '20261121-000124',
      category: 'harassment_no_substance',
      publicSummary: '某市民每日来电与话务员闲聊。',
      reply: '王建国您好，请勿再拨打，您的号码 138 1234 5678 已记录。',
    };
    const bulletin = draftBulletin({
      issueNumber: 7,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      cases: [base, leaky],
    });
    const findings = checkBulletinPrivacy(bulletin, knownIdentifiersFromCases([base, leaky]));
    expect(findings.map((f) => [f.where, f.kind])).toEqual([
      ['cases[1].reply', 'name'],
      ['cases[1].reply', 'mobile'],
    ]);
  });

  it('stops a run with a named error that does not repeat the data', () => {
    const leaky = { ...base, publicSummary: '市民王建国来电反映电热毯不热。' };
    const bulletin = draftBulletin({
      issueNumber: 7,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      cases: [leaky],
    });
    const known = knownIdentifiersFromCases([leaky]);
    expect(() => assertNoPersonalData(bulletin, known)).toThrow(PersonalDataFoundError);
    try {
      assertNoPersonalData(bulletin, known);
    } catch (e) {
      const error = e as PersonalDataFoundError;
      expect(error.name).toBe('PersonalDataFoundError');
      expect(error.message).toBe(
        'personal data found in the bulletin (1): cases[0].publicSummary: name',
      );
      expect(error.findings[0]?.excerpt).toBe('市民王**来电反映电热毯不热。');
    }
    const clean = draftBulletin({
      issueNumber: 7,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      cases: [base],
    });
    expect(() => assertNoPersonalData(clean, known)).not.toThrow();
  });

  it("does not read the bulletin's own fixed text for names, only the cases", () => {
    const bulletin = draftBulletin({
      issueNumber: 7,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      cases: [{ ...base, publicSummary: '话务员周晓燕接听后如实记录。' }],
    });
    const signed = {
      ...bulletin,
      issuer: { zh: '青山县12345热线（负责人：张主任）', en: 'Qingshan 12345' },
    };
    expect(checkBulletinPrivacy(signed).map((f) => [f.where, f.kind])).toEqual([
      ['cases[0].publicSummary', 'name'],
    ]);
  });

  it('collects known identifiers from the cases', () => {
    expect(
      knownIdentifiersFromCases([base, { ...base, ticketId: '20261121-000999', callerName: ' ' }]),
    ).toEqual({
      names: ['王建国'],
      ticketIds: ['20261121-000123', '20261121-000999'],
      callIds: ['CA0123456789abcdef0123456789abcdef', 'CA0123456789abcdef0123456789abcdef'],
      phones: ['13812345678', '13812345678'],
      addresses: [],
    });
  });
});

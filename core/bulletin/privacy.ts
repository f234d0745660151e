import type { ApprovedUnreasonableCase } from '../unreasonable.ts';
import type { Bulletin } from './model.ts';
import { COMPOUND_SURNAMES, findPersonNames, SINGLE_SURNAMES, TITLES } from './names.ts';

/**
 * The privacy guard for published bulletins. It only reports: a finding stops the run and a
 * person rewrites the case, because a silent redaction can change what a case says and hides
 * the fact that a reviewer wrote personal data into public text in the first place.
 *
 * It favours recall. Checksums (ID numbers, Luhn for cards) only raise the confidence of a
 * finding; a number of the right shape with a wrong checksum is still reported, since planted or
 * mistyped numbers identify people just as well.
 */

export const PERSONAL_DATA_KINDS = [
  'name',
  'mobile',
  'landline',
  'id_number',
  'plate',
  'bank_card',
  'address',
  'ticket_number',
  'call_id',
  'email',
  'wechat',
  'qq',
  'social_handle',
] as const;
export type PersonalDataKind = (typeof PERSONAL_DATA_KINDS)[number];

export type FindingConfidence = 'high' | 'medium' | 'low';

export interface PrivacyFinding {
  kind: PersonalDataKind;
  /** Which text: 'text' for a bare string, or a path into the bulletin such as 'cases[3].reply'. */
  where: string;
  /** Context around the finding with every finding in it masked; never the full value. */
  excerpt: string;
  /** Start of the finding in that text (UTF-16 code units, as String.prototype.slice counts). */
  index: number;
  length: number;
  confidence: FindingConfidence;
  /**
   * The standard masking of the found text (赵建军 → 赵某某, 13912345678 → 139****5678, an
   * address → its road). Only a suggestion for a person to accept: the guard never applies it.
   */
  suggestion: string;
}

/** Identifiers taken from the source tickets, looked for verbatim and in common variants. */
export interface KnownIdentifiers {
  names?: readonly string[];
  ticketIds?: readonly string[];
  callIds?: readonly string[];
  phones?: readonly string[];
  addresses?: readonly string[];
}

interface Candidate {
  kind: PersonalDataKind;
  start: number;
  end: number;
  confidence: FindingConfidence;
  /** Lower wins when two candidates cover the same span. */
  rank: number;
}

// ---------------------------------------------------------------------------------------------
// Normalisation. Every replacement is one UTF-16 unit for one, so indices found in the normalised
// text are indices in the original.

const CHINESE_DIGITS: Record<string, string> = {
  〇: '0',
  零: '0',
  一: '1',
  幺: '1',
  二: '2',
  三: '3',
  四: '4',
  五: '5',
  六: '6',
  七: '7',
  八: '8',
  九: '9',
};
const DASHES = new Set(['‐', '‑', '‒', '–', '—', '―', '−', '﹣', '\u00ad']);
const DOTS = new Set(['•', '・', '‧', '∙', '●']);
const SPACES = new Set(['\u3000', '\u00a0', '\u2002', '\u2003', '\u2009', '\u202f', '\t']);
const INVISIBLE = new Set(['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff']);

export function normalizeForDetection(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const code = text.charCodeAt(i);
    if (code >= 0xff01 && code <= 0xff5e) out += String.fromCharCode(code - 0xfee0);
    else if (DASHES.has(ch)) out += '-';
    else if (DOTS.has(ch)) out += '·';
    else if (SPACES.has(ch) || INVISIBLE.has(ch)) out += ' ';
    else out += ch;
  }
  // Numbers spoken digit by digit ("一三八…") are written down that way in transcripts. Seven
  // digits in a row is the shortest phone number and never an ordinary Chinese word.
  return out.replace(/[〇零一幺二三四五六七八九]{7,}/g, (run) =>
    Array.from(run, (c) => CHINESE_DIGITS[c] ?? c).join(''),
  );
}

// ---------------------------------------------------------------------------------------------
// Checksums: confidence only.

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** GB 11643 check character of an 18-character resident identity number. */
export function isValidIdNumberChecksum(id: string): boolean {
  if (!/^\d{17}[\dXx]$/.test(id)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * (ID_WEIGHTS[i] as number);
  return ID_CHECK[sum % 11] === id[17]?.toUpperCase();
}

export function isLuhnValid(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function plausibleDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Region code and birth date look like an 18-character identity number. */
function looksLikeIdNumber18(id: string): boolean {
  const y = Number(id.slice(6, 10));
  return (
    /^[1-9]/.test(id) &&
    y >= 1900 &&
    y <= 2099 &&
    plausibleDate(y, +id.slice(10, 12), +id.slice(12, 14))
  );
}

/** First-generation (1984–2004) 15-digit identity numbers: YYMMDD at positions 6–11. */
function looksLikeIdNumber15(id: string): boolean {
  return (
    /^[1-9]/.test(id) && plausibleDate(1900 + +id.slice(6, 8), +id.slice(8, 10), +id.slice(10, 12))
  );
}

// ---------------------------------------------------------------------------------------------
// Patterns, run on the normalised text.

const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
const CN_NUM = '[一二三四五六七八九十百零〇两]+';
const NUM = `(?:\\d+|${CN_NUM})`;
/** One level below a house number: building, unit, floor, room. */
const SUB_UNIT = `(?:(?:\\d+|[A-Za-z]|${CN_NUM})(?:-\\d+)*(?:号楼|号院|号|#楼?|栋|幢|座|单元|层|楼(?![上下道前后顶梯])|室))`;
/** After a bare number: words that make it a quantity ("3000平方米", "2000余户"), not a room. */
const NOT_A_QUANTITY = '(?![\\d.%]|平|米|万|元|个|人|余|多|年|月|日|次|分|秒|岁|课|页|条|件)';
/** A room number written without 室 after the unit: "2单元501". */
const ROOM_TAIL = `(?:\\d{3,4}${NOT_A_QUANTITY})?`;
const ESTATE = '(?:小区|花园|家园|嘉园|佳园|公寓|新村|苑|大厦|社区|宿舍|家属院|公馆|山庄|名邸)';

/** The word for an account and what people put between it and the id: 微信号：, QQ号码是, 抖音ID . */
const ACCOUNT_WORD = (platforms: string) =>
  `(?:${platforms})(?:号码?|号|群|ID|id|Id|UID|uid|账号|帐号|名)?[ ]?(?:[:：(（]|是|为)?[ ]?`;

interface Pattern {
  kind: PersonalDataKind;
  re: RegExp;
  rank: number;
  /** Refines kind and confidence from the matched text, or rejects it (null). */
  classify?: (match: string) => { kind: PersonalDataKind; confidence: FindingConfidence } | null;
  confidence?: FindingConfidence;
}

const digitsOf = (s: string) => s.replace(/[^\dXx]/g, '');

function classifyLongNumber(match: string): {
  kind: PersonalDataKind;
  confidence: FindingConfidence;
} {
  const d = digitsOf(match);
  if (d.length === 18) {
    if (/[Xx]$/.test(d) || looksLikeIdNumber18(d) || !isLuhnValid(d)) {
      return {
        kind: 'id_number',
        confidence: isValidIdNumberChecksum(d) && looksLikeIdNumber18(d) ? 'high' : 'medium',
      };
    }
    return { kind: 'bank_card', confidence: 'high' };
  }
  if (d.length === 15 && looksLikeIdNumber15(d)) return { kind: 'id_number', confidence: 'medium' };
  if (d.length >= 15 && d.length <= 19) {
    return { kind: 'bank_card', confidence: isLuhnValid(d) ? 'high' : 'medium' };
  }
  // Any other long run of digits is some account or document number: report it, unsure.
  return { kind: 'bank_card', confidence: 'low' };
}

const AREA = '0(?:10|2\\d|[3-9]\\d{2})';
const AREA_AFTER_86 = '\\(?0?(?:10|2\\d|[3-9]\\d{2})\\)?';
const EXTENSION = '(?:[ ]?(?:-|转|分机|ext\\.?|x)[ ]?\\d{1,5})?';

const PATTERNS: Pattern[] = [
  {
    kind: 'ticket_number',
    // The ticket id format of this system (see TICKET_ID_PATTERN in core/ticket.ts).
    re: /(?<![\d-])\d{8}-\d{6}(?![\d])/g,
    rank: 1,
    confidence: 'high',
  },
  {
    kind: 'id_number',
    // 18 characters, plain or grouped 6-8-4 / 6-4-4-4 as people copy them from cards.
    re: /(?<!\d)(?:\d{17}[\dXx]|\d{6}[ -]\d{8}[ -]\d{3}[\dXx]|\d{6}[ -]\d{4}[ -]\d{4}[ -]\d{3}[\dXx])(?![\dXx])/g,
    rank: 2,
    classify: classifyLongNumber,
  },
  {
    kind: 'bank_card',
    re: /(?<!\d)(?:\d{12,}|\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?)(?!\d)/g,
    rank: 3,
    classify: classifyLongNumber,
  },
  {
    kind: 'id_number',
    // Passport numbers only next to the word, since the shape alone is any product code.
    re: /(?<=护照(?:号码?)?[:：\s]{0,2})[EeGgDdSsPp][A-Za-z]?\d{7,8}(?![\dA-Za-z])/g,
    rank: 2,
    confidence: 'medium',
  },
  {
    kind: 'mobile',
    re: /(?<![\d+])(?:(?:\(\s?)?(?:\+|00)?86(?:\s?\))?[ -]?)?1[3-9]\d(?:[ -]?\d{4}[ -]?\d{4}|\d[ -]\d{3}[ -]\d{4})(?![\d])/g,
    rank: 4,
    confidence: 'high',
  },
  {
    kind: 'mobile',
    // Half-masked numbers ("138xxxx5678") still narrow a caller down to a handful of people,
    // except the standard masking "138****5678" that the guard itself suggests (issue #9).
    re: /(?<![\d])1[3-9]\d(?![*]{4}\d{4}(?!\d))[*xX×]{4}\d{4}(?![\d])/g,
    rank: 4,
    confidence: 'low',
  },
  {
    kind: 'landline',
    re: new RegExp(
      `(?<![\\d+])(?:(?:\\+|00)86[ -]?${AREA_AFTER_86}|\\(\\s?${AREA}\\s?\\)|${AREA})[ -]?\\d{3,4}[ -]?\\d{4}${EXTENSION}(?![\\d])`,
      'g',
    ),
    rank: 5,
    confidence: 'high',
  },
  {
    kind: 'landline',
    // A local number without area code is only recognisable by the words in front of it.
    re: new RegExp(
      `(?<=(?:电话|座机|固话|号码|联系方式|致电|拨打|打)[:： 为是]{0,3})[2-9]\\d{2,3}-?\\d{4}${EXTENSION}(?![\\d]|-\\d)`,
      'g',
    ),
    rank: 6,
    confidence: 'medium',
  },
  {
    kind: 'plate',
    re: new RegExp(
      `[${PROVINCES}] ?[A-Z][ ·.-]?(?:[A-Z0-9]{5,6}|[A-Z0-9]{4}[挂学警港澳领])(?![A-Za-z0-9])`,
      'gi',
    ),
    rank: 7,
    // Every real plate has digits; this keeps words like "新APP" out.
    classify: (m) =>
      (m.match(/\d/g)?.length ?? 0) >= 2 ? { kind: 'plate', confidence: 'high' } : null,
  },
  {
    kind: 'address',
    // Road, lane or village plus a house number: 人民路12号, 幸福里3-2号, 张庄村68号院3号楼…
    re: new RegExp(
      `(?:大道|大街|路|街|巷|道|弄|胡同|里|村|组|屯)${NUM}(?:[-之]\\d+)?号(?:院|楼)?${SUB_UNIT}*${ROOM_TAIL}`,
      'g',
    ),
    rank: 8,
    confidence: 'high',
  },
  {
    kind: 'address',
    // A named estate with building numbers: 阳光小区3号楼2单元, 幸福家园5-2-301. "某小区" is the
    // anonymous form and is left alone, and so is a bare 小区 after a word ("在小区3号楼和5号楼之间").
    re: new RegExp(
      `(?<![某在的和与该本其此这那个])${ESTATE}(?:(?:\\d+|[A-Za-z])(?:号楼|号院|#楼?|单元|(?:栋|幢|座)(?!楼|房|住))${SUB_UNIT}*${ROOM_TAIL}|\\d+-\\d+-\\d+(?:室|号)?|\\d+-\\d+(?:室|号))`,
      'g',
    ),
    rank: 8,
    confidence: 'high',
  },
  {
    kind: 'address',
    // Building and then a unit or room, without the estate: 3号楼2单元501室, 5栋302.
    re: new RegExp(
      `(?:\\d+|[A-Za-z])(?:号楼|#楼?|栋|幢|座)(?:${SUB_UNIT}+${ROOM_TAIL}|\\d{3,4}(?:室|号)?${NOT_A_QUANTITY})`,
      'g',
    ),
    rank: 8,
    confidence: 'medium',
  },
  {
    kind: 'address',
    re: new RegExp(`${NUM}单元(?:${NUM}(?:层|楼))?\\d{2,4}(?:室|号|户)?${NOT_A_QUANTITY}`, 'g'),
    rank: 8,
    confidence: 'medium',
  },
  {
    kind: 'address',
    // A room number on its own. "3室2厅" is a flat's layout, not a room, hence the guards.
    re: /(?<![\d-])\d{3,4}(?:室|房间?)(?![\d一二两三四五六]?厅)/g,
    rank: 8,
    confidence: 'medium',
  },
  {
    kind: 'email',
    re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g,
    rank: 1,
    confidence: 'high',
  },
  {
    kind: 'wechat',
    // wxid_… is WeChat's own id; a chosen id only next to the word, since its shape is any word.
    re: new RegExp(
      `(?<![A-Za-z0-9_])wxid_[A-Za-z0-9]{6,}|(?<=${ACCOUNT_WORD('微信|威信|薇信|VX|vx|Vx|WX|wx|V信|v信')})[A-Za-z][-_A-Za-z0-9]{5,19}(?![-_A-Za-z0-9@.])`,
      'g',
    ),
    rank: 3,
    confidence: 'high',
  },
  {
    kind: 'qq',
    re: new RegExp(`(?<=${ACCOUNT_WORD('QQ|qq|Qq')})[1-9]\\d{4,11}(?![\\d@])`, 'g'),
    rank: 3,
    confidence: 'high',
  },
  {
    kind: 'social_handle',
    // An id after the platform's name: 抖音号dy_xiaowang88, B站UID：35467788.
    re: new RegExp(
      `(?<=${ACCOUNT_WORD('抖音|快手|小红书|微博|B站|b站|哔哩哔哩|bilibili|头条|今日头条|视频号|推特|知乎|百度贴吧|贴吧|陌陌|探探|钉钉')})[A-Za-z0-9][-_.A-Za-z0-9]{3,29}(?![-_A-Za-z0-9@])`,
      'g',
    ),
    rank: 3,
    // Pure letters are a word ("App"); a short number is a year or a count.
    classify: (m) =>
      /[_\-.]|[A-Za-z].*\d|\d.*[A-Za-z]|^\d{5,}$/.test(m)
        ? { kind: 'social_handle', confidence: 'high' }
        : null,
  },
  {
    kind: 'social_handle',
    // @name, cut before the verbs that follow a Chinese handle (no space ends it).
    re: /(?<![A-Za-z0-9._%+-])@[\p{Script=Han}A-Za-z0-9_-]{2,30}?(?=发|要求|散布|直播|冒充|造谣|辱骂|道歉|的|在|说|称|等|是|和|[^\p{Script=Han}A-Za-z0-9_-]|$)/gu,
    rank: 3,
    confidence: 'medium',
  },
  {
    kind: 'call_id',
    // Twilio CallSid and UUIDs, the shapes call ids take in the phone-system adapters.
    re: /(?<![0-9A-Za-z])(?:CA[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![0-9A-Za-z])/gi,
    rank: 9,
    confidence: 'medium',
  },
];

// The honorific forms a caller is recorded under, looked for with the recorded caller's surname.
const KNOWN_HONORIFICS = '(?:先生|女士|小姐|师傅|大爷|大娘|大妈|阿姨|老师|同志|老人)';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function* matches(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length === 0) re.lastIndex++;
    else yield m;
  }
}

function patternCandidates(n: string, names: boolean): Candidate[] {
  const out: Candidate[] = [];
  for (const p of PATTERNS) {
    for (const m of matches(p.re, n)) {
      const c = p.classify
        ? p.classify(m[0])
        : { kind: p.kind, confidence: p.confidence ?? 'high' };
      // An unsure guess must not displace a sure reading of the same digits.
      const rank = c?.confidence === 'low' ? 20 : p.rank;
      if (c) out.push({ ...c, start: m.index, end: m.index + m[0].length, rank });
    }
  }
  if (names) {
    for (const span of findPersonNames(n)) {
      out.push({ kind: 'name', ...span, confidence: 'medium', rank: 10 });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Known identifiers from the tickets.

function surnameOf(name: string): string | null {
  if (!/^\p{Script=Han}+$/u.test(name)) return null;
  const compound = COMPOUND_SURNAMES.find((s) => name.startsWith(s) && name.length > s.length);
  return compound ?? name.slice(0, 1);
}

function nameCandidates(n: string, names: readonly string[]): Candidate[] {
  const out: Candidate[] = [];
  for (const raw of names) {
    const name = normalizeForDetection(raw).replace(/[\s·]/g, '');
    // A bare surname (operators often record just 王) would flag half the text on its own;
    // the honorific forms below still catch 王女士, 王师傅.
    if (name.length >= 2) {
      // Names are also written with spaces or a middle dot between characters (阿依古丽·买买提).
      const body = Array.from(name, escapeRe).join('[\\s·]*');
      const latin = /^[A-Za-z]/.test(name);
      const re = new RegExp(latin ? `(?<![A-Za-z])${body}(?![A-Za-z])` : body, 'giu');
      for (const m of matches(re, n)) {
        out.push({
          kind: 'name',
          start: m.index,
          end: m.index + m[0].length,
          confidence: 'high',
          rank: 0,
        });
      }
    }
    const surname = surnameOf(name);
    if (surname) {
      const re = new RegExp(`${escapeRe(surname)}${KNOWN_HONORIFICS}`, 'g');
      for (const m of matches(re, n)) {
        out.push({
          kind: 'name',
          start: m.index,
          end: m.index + m[0].length,
          confidence: 'high',
          rank: 0,
        });
      }
    }
  }
  return out;
}

/** Runs of digits that may be broken by spaces, dashes, dots, brackets or a plus sign. */
interface DigitRun {
  digits: string;
  /** Index in the text of each digit. */
  at: number[];
}

function digitRuns(n: string): DigitRun[] {
  const runs: DigitRun[] = [];
  for (const m of matches(/\d(?:[ ()+.-]*\d)*/g, n)) {
    const at: number[] = [];
    let digits = '';
    for (let i = 0; i < m[0].length; i++) {
      const ch = m[0][i] as string;
      if (ch >= '0' && ch <= '9') {
        digits += ch;
        at.push(m.index + i);
      }
    }
    runs.push({ digits, at });
  }
  return runs;
}

function digitSequenceCandidates(
  runs: DigitRun[],
  needle: string,
  kind: PersonalDataKind,
): Candidate[] {
  const out: Candidate[] = [];
  for (const run of runs) {
    for (let i = run.digits.indexOf(needle); i >= 0; i = run.digits.indexOf(needle, i + 1)) {
      const start = run.at[i] as number;
      const end = (run.at[i + needle.length - 1] as number) + 1;
      out.push({ kind, start, end, confidence: 'high', rank: 0 });
    }
  }
  return out;
}

/** The digit strings under which a known phone number could appear in text. */
function phoneVariants(phone: string): { digits: string; kind: PersonalDataKind }[] {
  let d = phone.replace(/\D/g, '');
  if (/^(?:0086|86)1[3-9]\d{9}$/.test(d)) d = d.replace(/^(?:0086|86)/, '');
  else if (/^(?:0086|86)[1-9]\d{8,10}$/.test(d)) d = `0${d.replace(/^(?:0086|86)/, '')}`;
  if (/^1[3-9]\d{9}$/.test(d)) return [{ digits: d, kind: 'mobile' }];
  if (d.length < 7) return [];
  const variants = [{ digits: d, kind: 'landline' as const }];
  const area = /^0(?:10|2\d)/.test(d) ? 3 : /^0[3-9]\d{2}/.test(d) ? 4 : 0;
  const local = d.slice(area);
  if (area && local.length >= 7) variants.push({ digits: local, kind: 'landline' });
  return variants;
}

function knownCandidates(n: string, known: KnownIdentifiers): Candidate[] {
  const out = nameCandidates(n, known.names ?? []);
  const runs = digitRuns(n);
  // ASCII only: full Unicode lower-casing can change the length and so shift indices.
  const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const lower = asciiLower(n);
  const exact = (value: string, kind: PersonalDataKind, min: number) => {
    const needle = asciiLower(normalizeForDetection(value).trim());
    if (needle.length < min) return;
    for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, i + 1)) {
      out.push({ kind, start: i, end: i + needle.length, confidence: 'high', rank: 0 });
    }
  };
  for (const id of known.ticketIds ?? []) {
    exact(id, 'ticket_number', 4);
    // Also with its separators dropped or changed ("20261121000123", "20261121 000123").
    const digits = id.replace(/\D/g, '');
    if (digits.length >= 8) out.push(...digitSequenceCandidates(runs, digits, 'ticket_number'));
  }
  for (const id of known.callIds ?? []) exact(id, 'call_id', 6);
  for (const address of known.addresses ?? []) exact(address, 'address', 4);
  for (const phone of known.phones ?? []) {
    for (const v of phoneVariants(phone))
      out.push(...digitSequenceCandidates(runs, v.digits, v.kind));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Choosing among overlapping candidates, and masking.

/** The longest match wins an overlap, so "0635-8123456转801" is one landline, not two numbers. */
function resolve(candidates: Candidate[]): Candidate[] {
  const sorted = [...candidates].sort(
    (a, b) => b.end - b.start - (a.end - a.start) || a.rank - b.rank || a.start - b.start,
  );
  const chosen: Candidate[] = [];
  for (const c of sorted) {
    if (!chosen.some((x) => c.start < x.end && x.start < c.end)) chosen.push(c);
  }
  return chosen.sort((a, b) => a.start - b.start);
}

const MASK = '*';

function maskValue(value: string, kind: PersonalDataKind): string {
  const chars = Array.from(value);
  // Per UTF-16 unit, so that masked text keeps the original's indices.
  const hide = (c: string) => MASK.repeat(c.length);
  if (kind === 'name') return chars.map((c, i) => (i === 0 ? c : hide(c))).join('');
  if (kind === 'address') {
    const numbersHidden = chars
      .map((c) => (/[\dA-Za-z０-９一二三四五六七八九十百零〇两]/.test(c) ? hide(c) : c))
      .join('');
    // A known address may have no number in it at all; then only its first character shows.
    if (numbersHidden !== value) return numbersHidden;
    return chars.map((c, i) => (i === 0 ? c : hide(c))).join('');
  }
  if (kind === 'plate') return chars.map((c, i) => (i === 0 ? c : hide(c))).join('');
  if (kind === 'email' || kind === 'wechat' || kind === 'qq' || kind === 'social_handle') {
    // Accounts: the first character and the punctuation, so "@" and "@163.com" stay readable.
    let shown = false;
    return chars
      .map((c) => {
        if (!/[\p{L}\p{N}]/u.test(c)) return c;
        if (shown) return hide(c);
        shown = true;
        return c;
      })
      .join('');
  }
  // Numbers: keep a short head and tail so the reviewer can tell which one it is.
  const alnum = chars.filter((c) => /[\p{L}\p{N}]/u.test(c)).length;
  const head = kind === 'call_id' ? 4 : alnum > 8 ? 3 : 2;
  const tail = kind === 'call_id' ? 0 : alnum > 8 ? 2 : 1;
  let seen = 0;
  return chars
    .map((c) => {
      if (!/[\p{L}\p{N}]/u.test(c)) return c;
      seen++;
      return seen <= head || seen > alnum - tail ? c : hide(c);
    })
    .join('');
}

const CONTEXT = 10;

function masked(text: string, spans: readonly Pick<Candidate, 'start' | 'end' | 'kind'>[]): string {
  let out = text;
  // Masking keeps lengths for BMP text, so later spans still line up; go right to left anyway.
  for (const c of [...spans].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, c.start) + maskValue(text.slice(c.start, c.end), c.kind) + out.slice(c.end);
  }
  return out;
}

/** The whole text with every finding masked as in the excerpts: safe to show anyone. */
export function maskFindings(text: string, findings: readonly PrivacyFinding[]): string {
  return masked(
    text,
    findings.map((f) => ({ start: f.index, end: f.index + f.length, kind: f.kind })),
  );
}

function excerpts(text: string, chosen: Candidate[]): string[] {
  const maskedText = masked(text, chosen);
  return chosen.map((c) => {
    const from = Math.max(0, c.start - CONTEXT);
    const to = Math.min(maskedText.length, c.end + CONTEXT);
    const body = maskedText.slice(from, to).replace(/\s+/g, ' ');
    return `${from > 0 ? '…' : ''}${body}${to < maskedText.length ? '…' : ''}`;
  });
}

/**
 * Names of people are looked for in the cases' texts, not in the bulletin's own fixed wording
 * (its issuer and the officials it may name are public by design). The tickets' recorded names
 * are looked for everywhere.
 */
const isCaseText = (where: string) => where === 'text' || where.startsWith('cases[');

/** Personal data in one text. `where` labels the findings (default 'text', a case text). */
export function findPersonalData(
  text: string,
  known: KnownIdentifiers = {},
  where = 'text',
): PrivacyFinding[] {
  if (text.length === 0) return [];
  const n = normalizeForDetection(text);
  const chosen = resolve([
    ...knownCandidates(n, known),
    ...patternCandidates(n, isCaseText(where)),
  ]);
  const ex = excerpts(text, chosen);
  return chosen.map((c, i) => ({
    kind: c.kind,
    where,
    excerpt: ex[i] as string,
    index: c.start,
    length: c.end - c.start,
    confidence: c.confidence,
    suggestion: suggestMasking(n.slice(c.start, c.end), c.kind),
  }));
}

const REMOVED: Partial<Record<PersonalDataKind, string>> = {
  id_number: '（证件号码已隐去）',
  bank_card: '（账号已隐去）',
  ticket_number: '（工单号已隐去）',
  call_id: '（通话编号已隐去）',
  email: '（邮箱已隐去）',
  wechat: '（微信号已隐去）',
  qq: '（QQ号已隐去）',
  social_handle: '（账号已隐去）',
};

/**
 * The standard public form of one finding (its normalised text): names keep the surname or the
 * title (赵建军 → 赵某某, 张主任 → 某主任), phones the operator prefix and last four digits,
 * addresses the road, plates the province. Account and document numbers are taken out.
 */
export function suggestMasking(value: string, kind: PersonalDataKind): string {
  const removed = REMOVED[kind];
  if (removed) return removed;
  if (kind === 'name') {
    const plain = value.replace(/[\s·]/g, '');
    const title = TITLES.find((t) => plain.length > t.length && plain.endsWith(t));
    if (title) return `某${title}`;
    if (/^[老小]/.test(plain) && plain.length === 2) return '某某';
    const compound = COMPOUND_SURNAMES.find((c) => plain.startsWith(c));
    if (compound) return `${compound}某某`;
    const first = plain[0] ?? '';
    return SINGLE_SURNAMES.includes(first) && !value.includes('·') ? `${first}某某` : '某某';
  }
  if (kind === 'mobile') {
    const d = value.replace(/\D/g, '').replace(/^(?:0086|86)(?=1\d{10}$)/, '');
    return /^1\d{10}$/.test(d) ? `${d.slice(0, 3)}****${d.slice(-4)}` : '（电话已隐去）';
  }
  if (kind === 'landline') {
    const area = /^\(?(0\d{2,3})\)?[ -]?\d{7,8}/.exec(value.replace(/^(?:\+|00)86[ -]?\(?0?/, '0'));
    return area ? `${area[1]}-****` : '（电话已隐去）';
  }
  if (kind === 'plate') return `${value.replace(/[ ·.-]/g, '').slice(0, 2)}*****`;
  // address: the road, estate or village the number belongs to; the number and below go.
  const road = /^[^\d一二三四五六七八九十百零〇两A-Za-z#-]*/.exec(value)?.[0] ?? '';
  return road.length > 0 && road !== value ? road : '某处';
}

/**
 * The text with every finding's suggestion in place of the finding: what the reviewer is shown
 * as "after", and what is stored only when they accept it.
 */
export function applySuggestions(text: string, findings: readonly PrivacyFinding[]): string {
  let out = text;
  for (const f of [...findings].sort((a, b) => b.index - a.index)) {
    out = out.slice(0, f.index) + f.suggestion + out.slice(f.index + f.length);
  }
  return out;
}

function walkStrings(value: unknown, path: string, visit: (path: string, text: string) => void) {
  if (typeof value === 'string') visit(path, value);
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walkStrings(v, `${path}[${i}]`, visit);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value))
      walkStrings(v, path ? `${path}.${key}` : key, visit);
  }
}

/**
 * Every string in the bulletin, fixed text included, so that a field added later is checked
 * without anyone remembering to add it here. An empty result is the only pass.
 */
export function checkBulletinPrivacy(
  bulletin: Bulletin,
  known: KnownIdentifiers = {},
): PrivacyFinding[] {
  const findings: PrivacyFinding[] = [];
  walkStrings(bulletin, '', (where, text) =>
    findings.push(...findPersonalData(text, known, where)),
  );
  return findings;
}

/** What the source tickets of a bulletin tell the guard to look for. */
export function knownIdentifiersFromCases(
  cases: readonly Pick<
    ApprovedUnreasonableCase,
    'ticketId' | 'callerName' | 'callerPhone' | 'callerAddress' | 'callId'
  >[],
): KnownIdentifiers {
  const present = (values: (string | undefined)[]) =>
    values.filter((v): v is string => typeof v === 'string' && v.trim().length > 0);
  return {
    names: present(cases.map((c) => c.callerName)),
    ticketIds: present(cases.map((c) => c.ticketId)),
    callIds: present(cases.map((c) => c.callId)),
    phones: present(cases.map((c) => c.callerPhone)),
    addresses: present(cases.map((c) => c.callerAddress)),
  };
}

/**
 * Thrown to stop a publishing run. The name is what a Step Functions Catch matches on, and the
 * message carries only where and what kind, since it ends up in logs.
 */
export class PersonalDataFoundError extends Error {
  readonly findings: PrivacyFinding[];

  constructor(findings: PrivacyFinding[]) {
    const places = findings.map((f) => `${f.where}: ${f.kind}`);
    super(`personal data found in the bulletin (${findings.length}): ${places.join('; ')}`);
    this.name = 'PersonalDataFoundError';
    this.findings = findings;
  }
}

export function assertNoPersonalData(bulletin: Bulletin, known: KnownIdentifiers = {}): void {
  const findings = checkBulletinPrivacy(bulletin, known);
  if (findings.length > 0) throw new PersonalDataFoundError(findings);
}

import * as z from 'zod';
import { actorOf, type Principal, requireRole } from '../access.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { escapeHtml } from '../html.ts';
import type { Mail } from '../ports.ts';
import type { ApprovedUnreasonableCase } from '../unreasonable.ts';
import {
  applySuggestions,
  findPersonalData,
  type KnownIdentifiers,
  knownIdentifiersFromCases,
  maskFindings,
  type PrivacyFinding,
} from './privacy.ts';

/**
 * A case whose public text names someone is held: taken out of the queue so that it does not hold
 * back the rest of the issue, and shown to the reviewers with the guard's suggestion. Only a
 * reviewer puts it back, by accepting the suggestion or writing the text themselves; the next run
 * checks it again like any other case. The guard never rewrites a case on its own.
 */

/** The texts of a case that are published, and so checked and correctable. */
export const PUBLIC_CASE_FIELDS = ['publicSummary', 'finding', 'basis', 'reply'] as const;
export type PublicCaseField = (typeof PUBLIC_CASE_FIELDS)[number];
/** Published labels; checked, but corrected through the ticket, not here. */
const PUBLIC_LABELS = ['topic', 'district'] as const;

/** What a hold records: masked excerpts and suggestions only, never the found values. */
export interface HeldFinding {
  field: string;
  kind: PrivacyFinding['kind'];
  excerpt: string;
  suggestion: string;
}

export interface PrivacyHold {
  /** Opaque and unguessable: it is the id in the reviewers' link. */
  holdId: string;
  heldAt: string;
  findings: HeldFinding[];
}

export type StoredCase = ApprovedUnreasonableCase & {
  privacyHold?: PrivacyHold;
  publishedIn?: number;
};

export interface CaseCorrection {
  ticketId: string;
  holdId: string;
  texts: Partial<Record<PublicCaseField, string>>;
  at: string;
  actor: ReturnType<typeof actorOf>;
  reason: string;
}

/** The per-case part of the bulletin store. */
export interface HeldCaseStore {
  /** Queue → held, only while the case is unpublished and not held; false otherwise. */
  holdCase(ticketId: string, hold: PrivacyHold): Promise<boolean>;
  /** Held → queue again (the reviewers could not be told); false when not held by this hold. */
  releaseHold(ticketId: string, holdId: string): Promise<boolean>;
  getCase(ticketId: string): Promise<StoredCase | undefined>;
  /**
   * One transaction: the corrected texts, the case back in the queue, and a line in the ticket's
   * history. False when the case is no longer held by this hold (corrected meanwhile).
   */
  correctCase(correction: CaseCorrection): Promise<boolean>;
}

/** Findings in one case's public texts, labelled by field. */
export function caseFindings(
  c: Pick<ApprovedUnreasonableCase, PublicCaseField | (typeof PUBLIC_LABELS)[number]>,
  known: KnownIdentifiers,
): PrivacyFinding[] {
  const out: PrivacyFinding[] = [];
  for (const field of [...PUBLIC_CASE_FIELDS, ...PUBLIC_LABELS]) {
    const text = c[field];
    if (typeof text === 'string') out.push(...findPersonalData(text, known, `cases[].${field}`));
  }
  return out;
}

const fieldOf = (f: PrivacyFinding) => f.where.replace(/^cases\[\]\./, '');

export function heldFindings(findings: readonly PrivacyFinding[]): HeldFinding[] {
  return findings.map((f) => ({
    field: fieldOf(f),
    kind: f.kind,
    excerpt: f.excerpt,
    suggestion: f.suggestion,
  }));
}

/** Splits the collected cases into those that can go on and those a person must look at. */
export function screenCases(cases: readonly ApprovedUnreasonableCase[]): {
  clean: ApprovedUnreasonableCase[];
  held: { case: ApprovedUnreasonableCase; findings: PrivacyFinding[] }[];
} {
  // Every case's recorded identifiers, so that one case naming another's caller is caught too.
  const known = knownIdentifiersFromCases(cases);
  const clean: ApprovedUnreasonableCase[] = [];
  const held: { case: ApprovedUnreasonableCase; findings: PrivacyFinding[] }[] = [];
  for (const c of cases) {
    const findings = caseFindings(c, known);
    if (findings.length > 0) held.push({ case: c, findings });
    else clean.push(c);
  }
  return { clean, held };
}

const KIND_LABELS: Record<PrivacyFinding['kind'], string> = {
  name: '姓名 name',
  mobile: '手机号 mobile',
  landline: '固定电话 landline',
  id_number: '证件号 ID number',
  plate: '车牌 plate',
  bank_card: '银行卡号 bank card',
  address: '地址 address',
  ticket_number: '工单号 ticket number',
  call_id: '通话编号 call id',
  email: '邮箱 e-mail',
  wechat: '微信号 WeChat id',
  qq: 'QQ号 QQ number',
  social_handle: '社交账号 social-media handle',
};

/** The reviewers' notice of a held case: ticket number, masked findings, the review link. */
export function holdMail(
  ticketId: string,
  hold: PrivacyHold,
  reviewUrl: string,
  reviewers: string[],
): Mail {
  const lines = hold.findings.map(
    (f) => `- ${f.field}：${KIND_LABELS[f.kind]}「${f.excerpt}」→ 建议改为「${f.suggestion}」`,
  );
  return {
    to: reviewers,
    subject: `【12345通报审核】工单${ticketId}的公开文本含个人信息，已暂缓发布`,
    text: [
      `工单${ticketId}的公开文本含个人信息（已遮盖），本期通报暂不收录该案例，其余案例照常送审：`,
      ...lines,
      '',
      `请打开以下链接，接受建议的遮盖文本或自行修改，修改后该案例进入下一期重新检查：`,
      reviewUrl,
      '',
      `Ticket ${ticketId} was held back from this issue: its public text names a person or an account (masked above). Open the link to accept the suggested masking or edit the text; the case is checked again in the next run.`,
    ].join('\n'),
    html: `<p>工单${escapeHtml(ticketId)}的公开文本含个人信息（已遮盖），本期通报暂不收录该案例，其余案例照常送审：</p><ul>${hold.findings
      .map(
        (f) =>
          `<li>${escapeHtml(f.field)}：${escapeHtml(KIND_LABELS[f.kind])}「${escapeHtml(f.excerpt)}」→ 建议改为「${escapeHtml(f.suggestion)}」</li>`,
      )
      .join(
        '',
      )}</ul><p><a href="${escapeHtml(reviewUrl)}">${escapeHtml(reviewUrl)}</a></p><p lang="en">Ticket ${escapeHtml(ticketId)} was held back from this issue; open the link to accept the suggested masking or edit the text.</p>`,
  };
}

const publicText = z.string().trim().min(1).max(2000);
export const caseCorrectionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('accept'), holdId: z.string().min(1).max(64) }),
  z
    .strictObject({
      action: z.literal('edit'),
      holdId: z.string().min(1).max(64),
      publicSummary: publicText.optional(),
      finding: publicText.optional(),
      basis: publicText.optional(),
      reply: publicText.optional(),
    })
    .refine((b) => PUBLIC_CASE_FIELDS.some((f) => b[f] !== undefined), {
      message: 'give at least one of publicSummary, finding, basis, reply',
      path: ['publicSummary'],
    }),
]);
export type CaseCorrectionRequest = z.infer<typeof caseCorrectionSchema>;

async function requireHeld(
  store: HeldCaseStore,
  ticketId: string,
  holdId: string,
): Promise<StoredCase & { privacyHold: PrivacyHold }> {
  const c = await store.getCase(ticketId);
  if (!c?.privacyHold || c.privacyHold.holdId !== holdId) {
    throw new NotFoundError('no such held case', [{ field: 'holdId', problem: 'not found' }]);
  }
  return c as StoredCase & { privacyHold: PrivacyHold };
}

/**
 * A reviewer accepts the suggestion or supplies the text. The result is checked before anything
 * is written: text that still names someone is refused (400 naming the field, masked), so a
 * correction can never put new personal data in the queue.
 */
export async function correctHeldCase(
  deps: { store: HeldCaseStore; now: () => Date },
  ticketId: string,
  request: CaseCorrectionRequest,
  principal: Principal,
): Promise<{ ticketId: string; status: 'queued'; fields: PublicCaseField[] }> {
  requireRole(principal, ['reviewer']);
  const c = await requireHeld(deps.store, ticketId, request.holdId);
  const known = knownIdentifiersFromCases([c]);
  const texts: Partial<Record<PublicCaseField, string>> = {};
  for (const field of PUBLIC_CASE_FIELDS) {
    if (request.action === 'accept') {
      const findings = findPersonalData(c[field], known, `cases[].${field}`);
      if (findings.length > 0) texts[field] = applySuggestions(c[field], findings);
    } else if (request[field] !== undefined) {
      texts[field] = request[field];
    }
  }
  const after = { ...c, ...texts };
  const remaining = caseFindings(after, known);
  if (remaining.length > 0) {
    throw new ValidationError(
      'the corrected text still contains personal data',
      remaining.map((f) => ({ field: fieldOf(f), problem: `${f.kind} «${f.excerpt}»` })),
    );
  }
  const fields = Object.keys(texts) as PublicCaseField[];
  const done = await deps.store.correctCase({
    ticketId,
    holdId: request.holdId,
    texts,
    at: deps.now().toISOString(),
    actor: actorOf(principal),
    reason:
      request.action === 'accept'
        ? 'accepted the suggested masking of the public text'
        : 'edited the public text',
  });
  if (!done) throw new ConflictError('the case was corrected meanwhile');
  return { ticketId, status: 'queued', fields };
}

/** The review page: each held text masked, beside the suggested text. No found value appears. */
export async function viewHeldCase(
  store: HeldCaseStore,
  ticketId: string,
  holdId: string,
  correctionPath: string,
): Promise<string> {
  const c = await requireHeld(store, ticketId, holdId);
  const known = knownIdentifiersFromCases([c]);
  const rows = PUBLIC_CASE_FIELDS.map((field) => {
    const findings = findPersonalData(c[field], known, field);
    if (findings.length === 0) return '';
    return `<section data-field="${field}"><h2>${field}</h2><p class="before"><b>修改前（已遮盖） · before, masked</b><br>${escapeHtml(maskFindings(c[field], findings))}</p><p class="after"><b>建议修改为 · suggested</b><br>${escapeHtml(applySuggestions(c[field], findings))}</p><ul>${findings
      .map((f) => `<li>${escapeHtml(KIND_LABELS[f.kind])}</li>`)
      .join('')}</ul></section>`;
  }).join('\n');
  const action = escapeHtml(correctionPath);
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>工单${escapeHtml(ticketId)} · 公开文本待修改</title></head>
<body><main id="main"><h1>工单${escapeHtml(ticketId)}：公开文本含个人信息，已暂缓发布</h1>
<p>Ticket ${escapeHtml(ticketId)} was held back from the bulletin. Accept the suggestion or edit the text with a reviewer credential:
<code>POST ${action}</code> <code>{"action":"accept","holdId":"${escapeHtml(holdId)}"}</code> or <code>{"action":"edit","holdId":"${escapeHtml(holdId)}","publicSummary":"…"}</code>.</p>
${rows}
</main></body></html>`;
}

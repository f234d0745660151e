import * as z from 'zod';
import { type Principal, requireRole } from '../access.ts';
import { ConflictError, GoneError, NotFoundError } from '../errors.ts';
import { escapeHtml } from '../html.ts';
import type { Mail, Mailer } from '../ports.ts';
import type { ApprovedUnreasonableCase } from '../unreasonable.ts';
import { draftBulletin, orderBulletinCases, publishBulletin, summarizeBulletin } from './draft.ts';
import {
  type HeldCaseStore,
  heldFindings,
  holdMail,
  type PrivacyHold,
  screenCases,
} from './holds.ts';
import type { Bulletin, BulletinSummary } from './model.ts';
import { checkBulletinPrivacy, knownIdentifiersFromCases, type PrivacyFinding } from './privacy.ts';
import {
  renderAtomFeed,
  renderBulletinHtml,
  renderBulletinJson,
  renderIndexHtml,
} from './render.ts';
import { chinaDate } from './text.ts';

/**
 * The bulletin run as use cases over ports: collect → draft → privacy guard → approval →
 * publish → notify. Each function is one workflow step (or one HTTP route) and reads what it
 * needs from the store, so that the state machine only carries ids and a retried step starts
 * from the record, not from a payload that may be stale.
 *
 * Issue numbers: a draft takes "last published + 1" without reserving it; the number is claimed
 * only by the publish transaction, which requires issue N−1 to exist and issue N not to. A failed,
 * rejected or timed-out run therefore leaves no gap, and two runs can never publish the same
 * number (the loser's transaction fails and its run stops before anything public is written).
 */

export type DraftStatus =
  | 'drafted'
  | 'awaiting'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'published';

export interface BulletinDraftRecord {
  /** Opaque and unguessable: it is also the id in the reviewers' link. */
  draftId: string;
  issueNumber: number;
  bulletin: Bulletin;
  /** Source tickets in printed order (案例1 first). */
  ticketIds: string[];
  status: DraftStatus;
  createdAt: string;
  /** The approval task's token; never leaves the server. */
  taskToken?: string;
  decidedAt?: string;
  decidedBy?: string;
  comments?: string;
}

export interface PublishedIssue {
  issueNumber: number;
  draftId: string;
  ticketIds: string[];
  bulletin: Bulletin;
  summary: BulletinSummary;
}

export interface BulletinStore extends HeldCaseStore {
  /** Oldest approval first, at most `limit`: a Query on the sparse index, never a Scan. */
  listUnpublished(limit: number): Promise<ApprovedUnreasonableCase[]>;
  /** The cases of these tickets that are still unpublished, in no particular order. */
  getUnpublished(ticketIds: readonly string[]): Promise<ApprovedUnreasonableCase[]>;
  lastIssue(): Promise<PublishedIssue | undefined>;
  getIssue(issueNumber: number): Promise<PublishedIssue | undefined>;
  listIssues(): Promise<BulletinSummary[]>;
  putDraft(draft: BulletinDraftRecord): Promise<void>;
  getDraft(draftId: string): Promise<BulletinDraftRecord | undefined>;
  /** Stores the token while the draft is drafted or awaiting; false otherwise. */
  awaitDecision(draftId: string, taskToken: string): Promise<boolean>;
  /** awaiting → approved/rejected, taking the token out; undefined when not awaiting. */
  recordDecision(
    draftId: string,
    decision: {
      status: 'approved' | 'rejected';
      decidedAt: string;
      decidedBy: string;
      comments?: string;
    },
  ): Promise<string | undefined>;
  markExpired(draftId: string): Promise<void>;
  /**
   * One transaction: issue N recorded (only if N−1 exists and N does not), the draft marked
   * published, every case taken out of the unpublished index (only if still in it).
   * 'already' when this very draft is issue N already (a retry).
   */
  publish(issue: PublishedIssue): Promise<'published' | 'already'>;
  /** Marks issue N's subscribers as mailed; false when an earlier attempt already did. */
  claimNotification(issueNumber: number, at: string): Promise<boolean>;
  /** Undoes the claim after the mail failed, so that the retry mails. */
  releaseNotification(issueNumber: number): Promise<void>;
}

/** Where published files go (the bulletin bucket); keys are relative to the site root. */
export interface BulletinSite {
  put(key: string, body: string, contentType: string): Promise<void>;
}

export interface BulletinConfig {
  maxCases: number;
  reviewers: string[];
  subscribers: string[];
  /** The public address of the bulletin site (its index), e.g. https://…/bulletins/ */
  siteUrl: string;
  /** The reviewers' page of a draft. */
  draftUrl: (draftId: string) => string;
  /** The reviewers' page of a case held for personal data. */
  reviewUrl: (ticketId: string, holdId: string) => string;
}

export interface BulletinDeps {
  store: BulletinStore;
  site: BulletinSite;
  mailer: Mailer;
  workflow: { resume(taskToken: string, output: unknown): Promise<'resumed' | 'stale'> };
  config: BulletinConfig;
  now: () => Date;
  newDraftId: () => string;
}

/** The transaction lost to another run: stop, never retry into a different issue number. */
export class IssueNumberTakenError extends Error {
  constructor(issueNumber: number) {
    super(`issue ${issueNumber} was published by another run`);
    this.name = 'IssueNumberTakenError';
  }
}

/** Thrown to stop a run; the message (the Fail state's cause) carries only masked excerpts. */
export class BulletinPrivacyError extends Error {
  constructor(readonly findings: PrivacyFinding[]) {
    super(
      `personal data found in the draft (${findings.length}): ${findings
        .map((f) => `${f.where}: ${f.kind} «${f.excerpt}»`)
        .join('; ')}`,
    );
    this.name = 'PersonalDataFound';
  }
}

// ---------------------------------------------------------------------------------------------
// Files of the site. Flat names with explicit hrefs, so any static host (S3 behind CloudFront, the
// local gateway) serves them without directory-index rules.

export const SITE_FILES = {
  index: 'index.html',
  indexEn: 'index.en.html',
  feed: 'feed.atom',
  page: (n: number) => `${n}.html`,
  pageEn: (n: number) => `${n}.en.html`,
  json: (n: number) => `${n}.json`,
} as const;

const HTML = 'text/html; charset=utf-8';

const addDays = (isoDate: string, days: number) =>
  new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/**
 * The period runs on from the previous issue so that the series has no holes, and reaches back
 * further only when a case approved earlier was held over (the per-issue cap).
 */
export function bulletinPeriod(
  cases: readonly Pick<ApprovedUnreasonableCase, 'approvedAt'>[],
  previousPeriodEnd: string | undefined,
): { periodStart: string; periodEnd: string } {
  const days = cases.map((c) => chinaDate(c.approvedAt)).sort();
  const first = days[0] as string;
  const last = days[days.length - 1] as string;
  const next = previousPeriodEnd ? addDays(previousPeriodEnd, 1) : first;
  // ISO dates compare as strings; the start is never after the first case, so never after the last.
  return { periodStart: [next, first].sort()[0] as string, periodEnd: last };
}

// ---------------------------------------------------------------------------------------------
// Steps.

export async function collectCases(
  deps: BulletinDeps,
): Promise<{ count: number; ticketIds: string[] }> {
  const cases = await deps.store.listUnpublished(deps.config.maxCases);
  return { count: cases.length, ticketIds: cases.map((c) => c.ticketId) };
}

/**
 * Drafts the next issue from the collected cases that pass the privacy guard. A case that does not
 * is held (out of the queue) and the reviewers are mailed at once, so that one case never holds
 * back the others; when nothing is left, no draft is made (totalCases 0) and no number is used.
 */
export async function draftIssue(
  deps: BulletinDeps,
  ticketIds: readonly string[],
): Promise<{ draftId?: string; issueNumber?: number; totalCases: number; held: number }> {
  const found = await deps.store.getUnpublished(ticketIds);
  if (found.length === 0) throw new ConflictError('the collected cases were published meanwhile');
  const { clean, held } = screenCases(found);
  for (const h of held) await holdForReview(deps, h.case.ticketId, h.findings);
  if (clean.length === 0) return { totalCases: 0, held: held.length };
  // Keep the collected (oldest-first) order; draftBulletin then groups by category stably.
  const rank = new Map(ticketIds.map((id, i) => [id, i]));
  const cases = clean.sort((a, b) => (rank.get(a.ticketId) ?? 0) - (rank.get(b.ticketId) ?? 0));
  const previous = await deps.store.lastIssue();
  const issueNumber = (previous?.issueNumber ?? 0) + 1;
  const bulletin = draftBulletin({
    issueNumber,
    ...bulletinPeriod(cases, previous?.bulletin.periodEnd),
    cases,
    ...(previous ? { previousIssue: { issueNumber: previous.issueNumber } } : {}),
  });
  const draft: BulletinDraftRecord = {
    draftId: deps.newDraftId(),
    issueNumber,
    bulletin,
    ticketIds: orderBulletinCases(cases).map((c) => c.ticketId),
    status: 'drafted',
    createdAt: deps.now().toISOString(),
  };
  await deps.store.putDraft(draft);
  return {
    draftId: draft.draftId,
    issueNumber,
    totalCases: bulletin.totalCases,
    held: held.length,
  };
}

/**
 * Holds one case and tells the reviewers. Only the run that moved the case out of the queue mails,
 * so a retried step does not mail twice; if the mail fails the case goes back to the queue and the
 * failure stops the step, so a case is never held without the reviewers being told.
 */
async function holdForReview(
  deps: BulletinDeps,
  ticketId: string,
  findings: Parameters<typeof heldFindings>[0],
): Promise<void> {
  const hold: PrivacyHold = {
    holdId: deps.newDraftId(),
    heldAt: deps.now().toISOString(),
    findings: heldFindings(findings),
  };
  if (!(await deps.store.holdCase(ticketId, hold))) return;
  try {
    if (deps.config.reviewers.length === 0) throw new Error('no bulletin reviewers are configured');
    await deps.mailer.send(
      holdMail(ticketId, hold, deps.config.reviewUrl(ticketId, hold.holdId), deps.config.reviewers),
    );
  } catch (error) {
    await deps.store.releaseHold(ticketId, hold.holdId);
    throw error;
  }
}

async function requireDraft(deps: BulletinDeps, draftId: string): Promise<BulletinDraftRecord> {
  const draft = await deps.store.getDraft(draftId);
  if (!draft)
    throw new NotFoundError('no such bulletin draft', [{ field: 'draftId', problem: 'not found' }]);
  return draft;
}

/**
 * The whole draft, fixed text included, against patterns and the source tickets' own
 * identifiers. It never rewrites anything: a finding stops the run for a person to fix.
 */
export async function checkDraftPrivacy(
  deps: BulletinDeps,
  draftId: string,
): Promise<{ clean: true }> {
  const draft = await requireDraft(deps, draftId);
  const sources = await deps.store.getUnpublished(draft.ticketIds);
  const findings = checkBulletinPrivacy(draft.bulletin, knownIdentifiersFromCases(sources));
  // cases[i] is printed in ticketIds order: name the ticket, which is what a person can look up.
  const named = findings.map((f) => ({
    ...f,
    where: f.where.replace(/^cases\[(\d+)\]/, (m, i) => {
      const id = draft.ticketIds[Number(i)];
      return id ? `${m} (ticket ${id})` : m;
    }),
  }));
  if (findings.length > 0) throw new BulletinPrivacyError(named);
  return { clean: true };
}

function approvalMail(deps: BulletinDeps, draft: BulletinDraftRecord): Mail {
  const label = draft.bulletin.text.zh.issueLabel;
  const url = deps.config.draftUrl(draft.draftId);
  const subject = `【12345通报审核】不合理诉求通报${label}待审核`;
  const text = [
    `不合理诉求典型案例通报${label}（${draft.bulletin.totalCases}个案例）已起草，请审核：`,
    url,
    '',
    'Issue draft awaiting approval; open the link above to read it.',
  ].join('\n');
  const html = `<p>不合理诉求典型案例通报${escapeHtml(label)}（${draft.bulletin.totalCases}个案例）已起草，请审核：</p><p><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></p>`;
  return { to: deps.config.reviewers, subject, text, html };
}

/** The approval task: token kept server-side, reviewers mailed the draft's opaque link. */
export async function requestApproval(
  deps: BulletinDeps,
  draftId: string,
  taskToken: string,
): Promise<void> {
  const draft = await requireDraft(deps, draftId);
  if (!(await deps.store.awaitDecision(draftId, taskToken))) {
    throw new ConflictError(`draft is ${draft.status}, not waiting for approval`);
  }
  if (deps.config.reviewers.length === 0) throw new Error('no bulletin reviewers are configured');
  await deps.mailer.send(approvalMail(deps, draft));
}

export const draftDecisionSchema = z.discriminatedUnion('decision', [
  z.strictObject({
    decision: z.literal('approve'),
    comments: z.string().trim().max(2000).optional(),
  }),
  z.strictObject({
    decision: z.literal('reject'),
    comments: z.string().trim().min(1, 'say why').max(2000),
  }),
]);
export type DraftDecision = z.infer<typeof draftDecisionSchema>;

/** A reviewer approves or rejects: recorded first, then the waiting run is woken. */
export async function decideDraft(
  deps: BulletinDeps,
  draftId: string,
  decision: DraftDecision,
  principal: Principal,
): Promise<{ draftId: string; status: DraftStatus }> {
  requireRole(principal, ['reviewer']);
  const draft = await requireDraft(deps, draftId);
  const status = decision.decision === 'approve' ? 'approved' : 'rejected';
  const token = await deps.store.recordDecision(draftId, {
    status,
    decidedAt: deps.now().toISOString(),
    decidedBy: principal.subject,
    ...(decision.comments ? { comments: decision.comments } : {}),
  });
  if (!token) throw new ConflictError(`the draft is ${draft.status}, not waiting for a decision`);
  if ((await deps.workflow.resume(token, { decision: decision.decision })) === 'stale') {
    await deps.store.markExpired(draftId);
    throw new GoneError('the bulletin run waiting for this decision has ended');
  }
  return { draftId, status };
}

function issueFiles(issue: PublishedIssue): { key: string; body: string; type: string }[] {
  const n = issue.issueNumber;
  const prev = issue.bulletin.previousIssue?.issueNumber;
  const common = { feedHref: SITE_FILES.feed };
  return [
    {
      key: SITE_FILES.page(n),
      type: HTML,
      body: renderBulletinHtml(issue.bulletin, {
        lang: 'zh',
        indexHref: SITE_FILES.index,
        ...(prev ? { previousIssueHref: SITE_FILES.page(prev) } : {}),
        ...common,
      }),
    },
    {
      key: SITE_FILES.pageEn(n),
      type: HTML,
      body: renderBulletinHtml(issue.bulletin, {
        lang: 'en',
        indexHref: SITE_FILES.indexEn,
        ...(prev ? { previousIssueHref: SITE_FILES.pageEn(prev) } : {}),
        ...common,
      }),
    },
    {
      key: SITE_FILES.json(n),
      type: 'application/json; charset=utf-8',
      body: renderBulletinJson(issue.bulletin),
    },
  ];
}

/**
 * Publishes an approved draft. The transaction comes first: it claims the issue number and takes
 * the cases out of the queue atomically, so nothing public is written for a number this run does
 * not own. The files are derived from the stored issue and written by name, so a retry after any
 * failure rewrites the same bytes and the transaction answers 'already': no case is listed twice
 * or lost.
 */
export async function publishIssue(
  deps: BulletinDeps,
  draftId: string,
): Promise<{ issueNumber: number; totalCases: number; url: string }> {
  const draft = await requireDraft(deps, draftId);
  let issue = await deps.store.getIssue(draft.issueNumber);
  if (issue && issue.draftId !== draftId) throw new IssueNumberTakenError(draft.issueNumber);
  if (!issue) {
    if (draft.status !== 'approved')
      throw new ConflictError(`the draft is ${draft.status}, not approved`);
    const bulletin = publishBulletin(draft.bulletin, deps.now().toISOString());
    issue = {
      issueNumber: draft.issueNumber,
      draftId,
      ticketIds: draft.ticketIds,
      bulletin,
      summary: summarizeBulletin(bulletin, SITE_FILES.page(draft.issueNumber)),
    };
    if ((await deps.store.publish(issue)) === 'already') {
      issue = (await deps.store.getIssue(draft.issueNumber)) ?? issue;
    }
  }
  for (const file of issueFiles(issue)) await deps.site.put(file.key, file.body, file.type);
  const issues = await deps.store.listIssues();
  const latest = issues.reduce((a, b) => (a.publishedAt > b.publishedAt ? a : b));
  await deps.site.put(
    SITE_FILES.index,
    renderIndexHtml(issues, { lang: 'zh', feedHref: SITE_FILES.feed }),
    HTML,
  );
  await deps.site.put(
    SITE_FILES.indexEn,
    renderIndexHtml(
      issues.map((s) => ({ ...s, href: SITE_FILES.pageEn(s.issueNumber) })),
      { lang: 'en', feedHref: SITE_FILES.feed },
    ),
    HTML,
  );
  const siteUrl = deps.config.siteUrl;
  await deps.site.put(
    SITE_FILES.feed,
    renderAtomFeed(issues, {
      feedUrl: new URL(SITE_FILES.feed, siteUrl).href,
      siteUrl,
      updated: latest.publishedAt,
    }),
    'application/atom+xml; charset=utf-8',
  );
  return {
    issueNumber: issue.issueNumber,
    totalCases: issue.bulletin.totalCases,
    url: new URL(SITE_FILES.page(issue.issueNumber), siteUrl).href,
  };
}

export async function notifySubscribers(
  deps: BulletinDeps,
  issueNumber: number,
): Promise<{ notified: number }> {
  const issue = await deps.store.getIssue(issueNumber);
  if (!issue) throw new NotFoundError(`issue ${issueNumber} is not published`);
  const to = deps.config.subscribers;
  if (to.length === 0) return { notified: 0 };
  const url = new URL(SITE_FILES.page(issueNumber), deps.config.siteUrl).href;
  const zh = issue.bulletin.text.zh;
  // Claimed before sending: a retried step (or a duplicate invocation) finds the claim and sends
  // nothing, so no subscriber is mailed twice. A failed send gives the claim back for the retry;
  // only a crash between the claim and the send could leave an issue unannounced.
  if (!(await deps.store.claimNotification(issueNumber, deps.now().toISOString()))) {
    return { notified: 0 };
  }
  try {
    await deps.mailer.send({
      to,
      subject: `【12345】${zh.fullTitle}已发布`,
      text: `${zh.fullTitle}\n${zh.summary}\n${url}\n\n${issue.bulletin.text.en.fullTitle}: ${url}`,
      html: `<p>${escapeHtml(zh.fullTitle)}</p><p>${escapeHtml(zh.summary)}</p><p><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></p>`,
    });
  } catch (error) {
    await deps.store.releaseNotification(issueNumber);
    throw error;
  }
  return { notified: to.length };
}

/** The reviewers' page: the draft as it would be published, and its state. Never changes state. */
export async function viewDraft(deps: BulletinDeps, draftId: string): Promise<string> {
  const draft = await requireDraft(deps, draftId);
  const page = renderBulletinHtml(draft.bulletin, { lang: 'zh', indexHref: deps.config.siteUrl });
  const state = {
    drafted: '草稿 · drafted',
    awaiting:
      '待审核 · awaiting a decision: POST {"decision":"approve"} or {"decision":"reject","comments":"…"} to this address + /decision with a reviewer credential',
    approved: '已批准 · approved',
    rejected: `已退回 · rejected${draft.comments ? `: ${draft.comments}` : ''}`,
    expired: '已过期 · expired',
    published: '已发布 · published',
  }[draft.status];
  return page.replace(
    /<main id="main"/,
    `<p class="draft" role="status" data-status="${draft.status}">${escapeHtml(state)}</p>\n<main id="main"`,
  );
}

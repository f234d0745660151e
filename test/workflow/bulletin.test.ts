import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBulletinStore, recordApprovedCase } from '#adapters/dynamodb/bulletin-store';
import { INDEXES, keys, UNPUBLISHED_UNREASONABLE } from '#adapters/dynamodb/keys';
import type { Bulletin } from '#core/bulletin/model';
import type { ApprovedUnreasonableCase } from '#core/unreasonable';
import { invokeFunction } from '#local/functions';
import { LOCAL_BULLETIN_BUCKET, type LocalStack } from '#local/stack';
import { type Api, apiClient, eventually, startTestStack } from '../support/local-stack.ts';

/**
 * The bulletin run as synthesized from the CDK app, on the local Step Functions endpoint with the
 * real handlers, DynamoDB Local and the local S3 and SES. The tests run in order on one table:
 * the issue numbers they check span the runs before them.
 */
let stack: LocalStack;
let api: Api;
let sfn: SFNClient;
let s3: S3Client;
let documents: DynamoDBDocumentClient;
let table: string;

const REVIEWERS = 'bulletin-review@12345.qingshan.example.gov.cn';
const SUBSCRIBERS = 'bulletin-subscribers@qingshan.example.gov.cn';
const APPROVAL_TIMEOUT_MS = 7 * 24 * 3600_000;

beforeAll(async () => {
  stack = await startTestStack({ start: new Date('2026-11-16T02:00:00Z') });
  api = apiClient(stack);
  const local = {
    region: 'cn-north-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  sfn = new SFNClient({ endpoint: stack.urls.sfn, ...local });
  s3 = new S3Client({ endpoint: stack.urls.s3, forcePathStyle: true, ...local });
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.urls.dynamodb, ...local }),
  );
  table = process.env.TABLE_NAME as string;
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const settle = () => stack.sfn.waitForIdle();
let seeded = 0;

function approvedCase(overrides: Partial<ApprovedUnreasonableCase> = {}): ApprovedUnreasonableCase {
  seeded++;
  return {
    ticketId: `20261110-${String(seeded).padStart(6, '0')}`,
    category: 'no_factual_basis',
    publicSummary: `某市民来电反映，家中电热毯不够热，认为是供电电压不足所致，要求赔偿（样例${seeded}）。`,
    finding: '经供电公司上门检测，电压符合国家标准，诉求无事实依据。',
    basis: '《供电营业规则》有关供电质量的规定',
    reply: '已向市民解释检测结果，建议检修电热毯，感谢理解。',
    approvedAt: new Date(stack.clock.nowMs() - 3600_000).toISOString(),
    topic: '供电',
    district: '青山县',
    callerName: '赵德柱',
    callerPhone: '13987654321',
    callerAddress: '青山县幸福小区3号楼2单元501室',
    ...overrides,
  };
}

async function seed(...cases: ApprovedUnreasonableCase[]): Promise<string[]> {
  for (const c of cases) expect(await recordApprovedCase(documents, table, c)).toBe(true);
  return cases.map((c) => c.ticketId);
}

/** The ticket a case comes from: the correction is recorded in its history. */
async function seedTicket(ticketId: string): Promise<void> {
  await documents.send(
    new PutCommand({
      TableName: table,
      Item: { ...keys.ticket(ticketId), id: ticketId, status: 'closed', version: 4 },
    }),
  );
}

async function ticketHistory(ticketId: string): Promise<Record<string, unknown>[]> {
  const page = await documents.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :hist)',
      ExpressionAttributeValues: { ':pk': keys.ticket(ticketId).PK, ':hist': 'HIST#' },
    }),
  );
  return page.Items ?? [];
}

const holdMails = (ticketId: string) =>
  stack.ses.messages().filter((m) => m.subject.includes(`工单${ticketId}`));

function reviewLink(text: string): { path: string; holdId: string } {
  const m = /(\/bulletin-cases\/\d{8}-\d{6}\/review\/([A-Za-z0-9_-]{32}))/.exec(text);
  expect(m, 'a review link in the hold mail').not.toBeNull();
  return { path: m?.[1] as string, holdId: m?.[2] as string };
}

async function unpublished(): Promise<string[]> {
  const page = await documents.send(
    new QueryCommand({
      TableName: table,
      IndexName: INDEXES.bulletinQueue.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': INDEXES.bulletinQueue.partition },
      ExpressionAttributeValues: { ':pk': UNPUBLISHED_UNREASONABLE },
    }),
  );
  return (page.Items ?? []).map((i) => String(i.ticketId)).sort();
}

async function run(): Promise<string> {
  const arn = await stack.startBulletin();
  await settle();
  return arn;
}

const describeRun = (executionArn: string) =>
  sfn.send(new DescribeExecutionCommand({ executionArn }));

const reviewMails = () =>
  stack.ses
    .messages()
    .filter((m) => m.to.includes(REVIEWERS) && (m.text ?? '').includes('/bulletin-drafts/'));

/** The draft link of the latest review mail, and the issue number the mail announces. */
function latestDraft(): { draftId: string; issue: number } {
  const mail = reviewMails().at(-1);
  const draftId = /\/bulletin-drafts\/([A-Za-z0-9_-]{32})/.exec(mail?.text ?? '')?.[1];
  const issue = /第(\d+)期/.exec(mail?.subject ?? '')?.[1];
  expect(draftId, 'a draft link in the review mail').toBeDefined();
  return { draftId: draftId as string, issue: Number(issue) };
}

async function object(key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: LOCAL_BULLETIN_BUCKET, Key: key }));
  return (await got.Body?.transformToString('utf-8')) ?? '';
}

const draftIssueNumbers: number[] = [];

describe('the bulletin run on the synthesized ASL', () => {
  it('ends quietly when nothing is waiting to be published', async () => {
    const execution = await describeRun(await run());
    expect(execution.status).toBe('SUCCEEDED');
    expect(reviewMails()).toHaveLength(0);
  });

  it('holds a case with personal data, mails the reviewers at once, and lets the clean case go on', async () => {
    const clean = approvedCase();
    const leaky = approvedCase({
      category: 'harassment_no_substance',
      publicSummary: '赵德柱每日来电与话务员闲聊，回拨电话13987654321。',
    });
    await seedTicket(leaky.ticketId);
    await seed(clean, leaky);
    const arn = await run();
    // The clean case went on to approval; the leaky one waits for a person.
    expect((await describeRun(arn)).status).toBe('RUNNING');
    expect(await unpublished()).toEqual([clean.ticketId]);
    const mail = holdMails(leaky.ticketId);
    expect(mail).toHaveLength(1);
    const notice = mail[0]?.text ?? '';
    expect(notice).toContain('publicSummary');
    expect(notice).toContain('赵某某');
    expect(notice).not.toContain('13987654321');
    expect(notice).not.toContain('赵德柱');
    const review = reviewLink(notice);

    const page = await api('GET', review.path);
    expect(page.status).toBe(200);
    expect(page.text).toContain('赵某某每日来电与话务员闲聊，回拨电话139****4321。');
    expect(page.text).not.toContain('13987654321');
    expect(page.text).not.toContain('赵德柱');

    const correct = (token: string | undefined, body: unknown) =>
      api('POST', `/bulletin-cases/${leaky.ticketId}/public-text`, {
        ...(token ? { token } : {}),
        body,
      });
    expect(
      (await correct(stack.tokens.operator, { action: 'accept', holdId: review.holdId })).status,
    ).toBe(403);
    const still = await correct(stack.tokens.reviewer, {
      action: 'edit',
      holdId: review.holdId,
      publicSummary: '市民赵德柱每日来电与话务员闲聊。',
    });
    expect(still.status).toBe(400);
    expect(still.body.error.fields[0].field).toBe('publicSummary');
    expect(still.text).not.toContain('赵德柱');
    const accepted = await correct(stack.tokens.reviewer, {
      action: 'accept',
      holdId: review.holdId,
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect(
      (await correct(stack.tokens.reviewer, { action: 'accept', holdId: review.holdId })).status,
    ).toBe(404);
    expect(await unpublished()).toEqual([clean.ticketId, leaky.ticketId].sort());
    const history = await ticketHistory(leaky.ticketId);
    expect(history.at(-1)).toMatchObject({
      event: 'bulletin_text_corrected',
      actor: { kind: 'reviewer' },
      details: { fields: ['publicSummary'], holdId: review.holdId },
    });
  });

  it('mails the reviewers a link; a rejection with comments ends the run and publishes nothing', async () => {
    const arn = await run();
    expect((await describeRun(arn)).status).toBe('RUNNING');
    const { draftId, issue } = latestDraft();
    draftIssueNumbers.push(issue);
    const path = `/bulletin-drafts/${draftId}`;

    const page = await api('GET', path);
    expect(page.status).toBe(200);
    expect(page.text).toContain('某市民来电反映');
    expect(page.text).toContain('data-status="awaiting"');
    expect(page.text).not.toContain('13987654321');
    // A GET changes nothing, however often a mail scanner fetches it.
    await api('GET', path);
    expect((await describeRun(arn)).status).toBe('RUNNING');

    const decide = (token: string | undefined, body: unknown) =>
      api('POST', `${path}/decision`, { ...(token ? { token } : {}), body });
    expect((await decide(undefined, { decision: 'approve' })).status).toBe(401);
    expect((await decide(stack.tokens.operator, { decision: 'approve' })).status).toBe(403);
    const noReason = await decide(stack.tokens.reviewer, { decision: 'reject' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.fields[0].field).toBe('comments');

    const rejected = await decide(stack.tokens.reviewer, {
      decision: 'reject',
      comments: '案例2表述不够规范，请修改后再报。',
    });
    expect(rejected.status, rejected.text).toBe(200);
    await settle();
    expect((await describeRun(arn)).status).toBe('SUCCEEDED');
    expect((await decide(stack.tokens.reviewer, { decision: 'approve' })).status).toBe(409);
    expect((await api('GET', path)).text).toContain('案例2表述不够规范');
    expect(await unpublished()).toHaveLength(2);
  });

  it('ends the run when nobody decides in time; a late decision is refused', async () => {
    const arn = await run();
    const { draftId, issue } = latestDraft();
    draftIssueNumbers.push(issue);
    stack.clock.advance(APPROVAL_TIMEOUT_MS + 1000);
    await settle();
    const execution = await describeRun(arn);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ApprovalTimedOut');
    const late = await api('POST', `/bulletin-drafts/${draftId}/decision`, {
      token: stack.tokens.reviewer,
      body: { decision: 'approve' },
    });
    expect(late.status).toBe(410);
    expect(await unpublished()).toHaveLength(2);
  });

  it('publishes an approved issue; a publish step that fails half-way is retried without duplicating or losing a case', async () => {
    const [third] = await seed(approvedCase({ category: 'outside_remit' }));
    const waiting = await unpublished();
    expect(waiting).toHaveLength(3);
    // The fault: the bucket is gone when the first attempt writes the site, after its
    // transaction has claimed the issue number and the cases.
    await s3.send(new DeleteBucketCommand({ Bucket: LOCAL_BULLETIN_BUCKET }));
    const arn = await run();
    const { issue } = latestDraft();
    draftIssueNumbers.push(issue);
    const approved = await api('POST', `/bulletin-drafts/${latestDraft().draftId}/decision`, {
      token: stack.tokens.reviewer,
      body: { decision: 'approve' },
    });
    expect(approved.status, approved.text).toBe(200);
    await settle();
    expect((await describeRun(arn)).status).toBe('RUNNING');
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    expect(
      history.events?.some((e) => e.type === 'LambdaFunctionFailed' || e.type === 'TaskFailed'),
    ).toBe(true);
    // The cases are already taken out of the queue by the first attempt's transaction.
    expect(await unpublished()).toEqual([]);

    await s3.send(new CreateBucketCommand({ Bucket: LOCAL_BULLETIN_BUCKET }));
    stack.clock.advance(31_000);
    await settle();
    expect((await describeRun(arn)).status).toBe('SUCCEEDED');

    const published = JSON.parse(await object('1.json')) as Bulletin;
    expect(published.issueNumber).toBe(1);
    expect(published.totalCases).toBe(3);
    expect(published.cases).toHaveLength(3);
    expect(new Set(published.cases.map((c) => c.publicSummary)).size).toBe(3);
    expect(published.publishedAt).toBeDefined();
    expect(published.previousIssue).toBeUndefined();
    const store = new DynamoBulletinStore(documents, table);
    expect((await store.getIssue(1))?.ticketIds.sort()).toEqual(waiting);
    expect((await store.getIssue(1))?.ticketIds).toContain(third);
    expect(await object('1.html')).toContain('第1期');
    expect(await object('index.html')).toContain('1.html');
    const notices = stack.ses.messages().filter((m) => m.to.includes(SUBSCRIBERS));
    expect(notices).toHaveLength(1);
    expect(notices[0]?.text).toContain('/bulletins/1.html');
    // A retried or duplicated Notify finds the issue announced and mails nobody again.
    expect(await invokeFunction('bulletin-notify', { issueNumber: 1 })).toEqual({ notified: 0 });
    expect(stack.ses.messages().filter((m) => m.to.includes(SUBSCRIBERS))).toHaveLength(1);
  });

  it('numbers the next published issue 2, linked to issue 1, after a held case, a rejected and a timed-out run', async () => {
    await seed(approvedCase({ category: 'contrary_to_law_or_policy' }));
    const arn = await run();
    const { draftId, issue } = latestDraft();
    draftIssueNumbers.push(issue);
    const approved = await api('POST', `/bulletin-drafts/${draftId}/decision`, {
      token: stack.tokens.reviewer,
      body: { decision: 'approve', comments: '同意发布' },
    });
    expect(approved.status, approved.text).toBe(200);
    await settle();
    expect((await describeRun(arn)).status).toBe('SUCCEEDED');
    // Rejected and timed-out drafts were issue 1 too: no number was spent on them.
    expect(draftIssueNumbers).toEqual([1, 1, 1, 2]);
    const second = JSON.parse(await object('2.json')) as Bulletin;
    expect(second).toMatchObject({
      issueNumber: 2,
      totalCases: 1,
      previousIssue: { issueNumber: 1 },
    });
    expect(await object('2.html')).toContain('href="1.html"');
    const feed = await object('feed.atom');
    expect(feed.match(/<entry>/g)).toHaveLength(2);
    const index = await api('GET', '/bulletins/');
    expect(index.status).toBe(200);
    expect(index.text).toContain('2.html');
    expect(index.text).toContain('1.html');
    expect((await api('GET', '/bulletins/3.html')).status).toBe(404);
    expect(await unpublished()).toEqual([]);
  });

  it('publishes the clean cases of a run, holds the dirty one, and publishes it corrected in the next issue', async () => {
    const dirty = approvedCase({
      category: 'outside_remit',
      publicSummary: '市民赵建军来电，要求联系邻居马小兵，并将结果发送至zhaojj1985@163.com。',
    });
    const clean = [approvedCase(), approvedCase({ category: 'outside_remit' })];
    await seedTicket(dirty.ticketId);
    await seed(dirty, ...clean);
    const arn = await run();
    const { draftId, issue } = latestDraft();
    expect(issue).toBe(3);
    expect(holdMails(dirty.ticketId)).toHaveLength(1);
    const approved = await api('POST', `/bulletin-drafts/${draftId}/decision`, {
      token: stack.tokens.reviewer,
      body: { decision: 'approve' },
    });
    expect(approved.status, approved.text).toBe(200);
    await settle();
    expect((await describeRun(arn)).status).toBe('SUCCEEDED');
    const third = JSON.parse(await object('3.json')) as Bulletin;
    expect(third.totalCases).toBe(2);
    expect(JSON.stringify(third)).not.toContain('赵建军');
    expect(await unpublished()).toEqual([]);

    const { holdId } = reviewLink(holdMails(dirty.ticketId)[0]?.text ?? '');
    const accepted = await api('POST', `/bulletin-cases/${dirty.ticketId}/public-text`, {
      token: stack.tokens.reviewer,
      body: { action: 'accept', holdId },
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect(await unpublished()).toEqual([dirty.ticketId]);

    const next = await run();
    const fourth = latestDraft();
    expect(fourth.issue).toBe(4);
    await api('POST', `/bulletin-drafts/${fourth.draftId}/decision`, {
      token: stack.tokens.reviewer,
      body: { decision: 'approve' },
    });
    await settle();
    expect((await describeRun(next)).status).toBe('SUCCEEDED');
    const published = JSON.parse(await object('4.json')) as Bulletin;
    expect(published).toMatchObject({
      issueNumber: 4,
      totalCases: 1,
      previousIssue: { issueNumber: 3 },
    });
    expect(published.cases[0]?.publicSummary).toBe(
      '市民赵某某来电，要求联系邻居马某某，并将结果发送至（邮箱已隐去）。',
    );
    expect(holdMails(dirty.ticketId)).toHaveLength(1);
    expect(await unpublished()).toEqual([]);
  });

  it('starts a run on the schedule: 09:00 on the 1st of the month in Asia/Shanghai', async () => {
    const list = async () =>
      (await sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.bulletinArn })))
        .executions ?? [];
    const before = (await list()).filter((e) => e.name?.startsWith('scheduled-'));
    expect(before).toHaveLength(0);
    const due = Date.parse('2026-12-01T01:00:00Z');
    stack.clock.advance(due - stack.clock.nowMs() - 60_000);
    await settle();
    expect((await list()).filter((e) => e.name?.startsWith('scheduled-'))).toHaveLength(0);
    stack.clock.advance(61_000);
    // The schedule starts the run through the Step Functions API, asynchronously as in AWS.
    const scheduled = await eventually(async () => {
      await settle();
      const found = (await list()).filter((e) => e.name?.startsWith('scheduled-'));
      expect(found.map((e) => [e.name, e.status])).toEqual([
        ['scheduled-20261201T010000000Z', 'SUCCEEDED'],
      ]);
      return found;
    });
    expect(scheduled).toHaveLength(1);
  });
});

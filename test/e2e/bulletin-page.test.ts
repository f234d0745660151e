import { mkdirSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordApprovedCase } from '#adapters/dynamodb/bulletin-store';
import { keys } from '#adapters/dynamodb/keys';
import { findPersonalData } from '#core/bulletin/privacy';
import type { LocalStack } from '#local/stack';
import { launchBrowser } from '../support/browser.ts';
import { apiClient, startTestStack } from '../support/local-stack.ts';

const ARTIFACTS = 'test-artifacts';

/**
 * Two issues published through the whole local stack (schedule-equivalent start, reviewer's
 * approval over HTTP), then the public page opened in a real headless browser through the
 * gateway's /bulletins/ route.
 */
let stack: LocalStack;
let browser: Browser;

const CASES = [
  {
    category: 'superstition_or_public_order' as const,
    publicSummary: '某市民来电反映，小区门口的公共供水点“破坏风水”，要求立即拆除。',
    finding: '供水点为居民日常用水设施，诉求属封建迷信，不予支持。',
    basis: '《城市供水条例》关于公共供水设施保护的规定',
    reply: '已向市民耐心解释供水点的作用，倡导科学文明的生活方式。',
  },
  {
    category: 'outside_remit' as const,
    publicSummary: '某市民来电称工资已高于最低工资标准，仍要求政府责令公司为其涨工资。',
    finding: '工资水平属企业自主经营范围，超出热线受理范围。',
    basis: '《最低工资规定》',
    reply: '已告知可通过与用人单位协商等途径解决，感谢理解。',
  },
];

function localDocuments(): DynamoDBDocumentClient {
  const local = {
    region: 'cn-north-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.urls.dynamodb, ...local }),
  );
}

async function publishIssue(index: number): Promise<void> {
  const api = apiClient(stack);
  const documents = localDocuments();
  // index -1: publish what is already queued (a corrected held case).
  const c = CASES[index];
  if (c) {
    await recordApprovedCase(documents, process.env.TABLE_NAME as string, {
      ticketId: `20261105-00000${index + 1}`,
      ...c,
      approvedAt: new Date(stack.clock.nowMs() - 60_000).toISOString(),
      district: '青山县',
    });
  }
  await stack.startBulletin();
  await stack.sfn.waitForIdle();
  const mail = stack.ses
    .messages()
    .filter((m) => m.subject.includes('通报审核'))
    .at(-1);
  const draftId = /\/bulletin-drafts\/([A-Za-z0-9_-]{32})/.exec(mail?.text ?? '')?.[1];
  const decided = await api('POST', `/bulletin-drafts/${draftId}/decision`, {
    token: stack.tokens.reviewer,
    body: { decision: 'approve' },
  });
  expect(decided.status, decided.text).toBe(200);
  await stack.sfn.waitForIdle();
}

/**
 * A case naming people and a WeChat id: held by the run (which then has nothing left to
 * publish), corrected by a reviewer accepting the suggestion, published in the next run.
 */
async function publishHeldThenCorrected(): Promise<void> {
  const api = apiClient(stack);
  const documents = localDocuments();
  const table = process.env.TABLE_NAME as string;
  const ticketId = '20261105-000003';
  await documents.send(
    new PutCommand({
      TableName: table,
      Item: { ...keys.ticket(ticketId), id: ticketId, status: 'closed', version: 4 },
    }),
  );
  await recordApprovedCase(documents, table, {
    ticketId,
    category: 'harassment_no_substance',
    publicSummary: '市民赵建军每日来电，要求话务员周晓燕加其微信号zjj_19850312聊天。',
    finding: '来电无实质诉求，长期占用热线资源。',
    basis: '国办发〔2020〕53号',
    reply: '已提醒该市民合理使用热线。',
    approvedAt: new Date(stack.clock.nowMs() - 60_000).toISOString(),
    callerName: '赵建军',
  });
  await stack.startBulletin();
  await stack.sfn.waitForIdle();
  const mail = stack.ses
    .messages()
    .filter((m) => m.subject.includes(`工单${ticketId}`))
    .at(-1);
  const holdId = /\/review\/([A-Za-z0-9_-]{32})/.exec(mail?.text ?? '')?.[1];
  const accepted = await api('POST', `/bulletin-cases/${ticketId}/public-text`, {
    token: stack.tokens.reviewer,
    body: { action: 'accept', holdId },
  });
  expect(accepted.status, accepted.text).toBe(200);
  await publishIssue(-1);
}

beforeAll(async () => {
  stack = await startTestStack({ start: new Date('2026-11-16T02:00:00Z') });
  await publishIssue(0);
  await publishIssue(1);
  await publishHeldThenCorrected();
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the published bulletin in a browser', () => {
  it('shows the cases in Chinese on a phone-sized screen and links to the previous issue', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const response = await page.goto(`${stack.urls.api}/bulletins/2.html`);
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.locator('h1').textContent()).toContain('第2期');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    const main = await page.locator('main').textContent();
    expect(main).toContain('工资已高于最低工资标准');
    expect(main).toContain('超出热线受理范围');
    expect(main).not.toContain('破坏风水');
    // Nothing wider than the screen: the page is readable on a phone without side-scrolling.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/bulletin-issue-2.png`, fullPage: true });

    await page.locator('a[rel="prev"]').click();
    await page.waitForURL(/\/bulletins\/1\.html$/);
    expect(await page.locator('h1').textContent()).toContain('第1期');
    expect(await page.locator('main').textContent()).toContain('破坏风水');
    expect(await page.locator('a[rel="prev"]').count()).toBe(0);

    await page.locator('nav a', { hasText: '全部通报' }).click();
    await page.waitForURL(/\/bulletins\/index\.html$/);
    expect(await page.locator('main li').count()).toBe(3);
    await page.close();
  });

  it('shows the corrected held case with no personal data found on the rendered page', async () => {
    // The npm-shipped Chromium runs single-process: closing the last page ends it, so a browser
    // of its own.
    const own = await launchBrowser();
    try {
      const page = await own.newPage();
      const response = await page.goto(`${stack.urls.api}/bulletins/3.html`);
      expect(response?.status()).toBe(200);
      const main = (await page.locator('main').innerText()) ?? '';
      expect(main).toContain(
        '市民赵某某每日来电，要求话务员周某某加其微信号（微信号已隐去）聊天。',
      );
      expect(findPersonalData(main, { names: ['赵建军'] })).toEqual([]);
      const period = await page.locator('p.meta', { hasText: '通报期间' }).innerText();
      const json = (await (
        await page.request.get(`${stack.urls.api}/bulletins/3.json`)
      ).json()) as {
        text: { zh: { periodLabel: string } };
      };
      expect(period).toBe(json.text.zh.periodLabel);
    } finally {
      await own.close();
    }
  }, 60_000);
});

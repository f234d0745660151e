import { mkdirSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordApprovedCase } from '#adapters/dynamodb/bulletin-store';
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

async function publishIssue(index: number): Promise<void> {
  const api = apiClient(stack);
  const local = {
    region: 'cn-north-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.urls.dynamodb, ...local }),
  );
  const c = CASES[index]!;
  await recordApprovedCase(documents, process.env.TABLE_NAME as string, {
    ticketId: `20261105-00000${index + 1}`,
    ...c,
    approvedAt: new Date(stack.clock.nowMs() - 60_000).toISOString(),
    district: '青山县',
  });
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

beforeAll(async () => {
  stack = await startTestStack({ start: new Date('2026-11-16T02:00:00Z') });
  await publishIssue(0);
  await publishIssue(1);
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
    expect(await page.locator('main li').count()).toBe(2);
    await page.close();
  });
});

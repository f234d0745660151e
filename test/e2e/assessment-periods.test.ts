import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack';
import { type Api, apiClient, replyIdFrom, startTestStack } from '../support/local-stack.ts';

/**
 * A correction made in a later month than the counting, through the public interfaces only:
 * dispatched, signed for and applied for as unreasonable on 2026-09-29, approved after National
 * Day on 2026-10-08. Every period's metrics must read as if the ticket had never counted, and
 * none may go below zero.
 */
let stack: LocalStack;
let api: Api;

beforeAll(async () => {
  // Tuesday 29 September 2026, 10:00 in Qingshan: the last working day before National Day.
  stack = await startTestStack({ start: new Date('2026-09-29T02:00:00Z') });
  api = apiClient(stack);
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe('assessment across a month boundary', () => {
  it('takes an approved unreasonable ticket back in the month and day it counted in', async () => {
    const settle = () => stack.sfn.waitForIdle();
    const created = await api('POST', '/tickets', {
      token: stack.tokens.operator,
      body: {
        caller: { name: '钱七', phone: '13700002222' },
        content: '要求路灯通宵常亮',
        category: '投诉',
        topic: 'urban-management',
        place: { district: 'qingshan', township: 'nanhu', address: '南湖花园西门' },
      },
    });
    expect(created.status, created.text).toBe(201);
    const id: string = created.body.id;
    await settle();
    const link = replyIdFrom(stack.ses.messages().find((m) => m.subject.includes(id))!.text);
    for (const body of [
      { action: 'sign' },
      { action: 'unreasonable', category: 'no_factual_basis', evidence: '照明时段符合规定' },
    ]) {
      const response = await api('POST', `/replies/${link}`, { body });
      expect(response.status, response.text).toBe(200);
      await settle();
    }

    stack.clock.advance(Date.parse('2026-10-08T02:00:00Z') - stack.clock.nowMs());
    await settle();
    const approved = await api('POST', `/tickets/${id}/decisions`, {
      token: stack.tokens.reviewer,
      body: {
        decision: 'approve_unreasonable',
        publicSummary: '某市民要求路灯通宵常亮',
        finding: '照明时段符合规定',
        basis: '《城市照明管理规定》',
        reply: '感谢您的理解',
      },
    });
    expect(approved.status, approved.text).toBe(200);
    await settle();

    const unitIn = async (period: string) => {
      const r = await api('GET', `/metrics?period=${period}`, { token: stack.tokens.supervisor });
      expect(r.status, r.text).toBe(200);
      for (const u of r.body.units)
        for (const [k, n] of Object.entries(u.counters as Record<string, number>))
          expect(n, `${period} ${u.unitId} ${k}`).toBeGreaterThanOrEqual(0);
      return r.body.units.find((u: { unitId: string }) => u.unitId === 'urban-management');
    };
    for (const period of ['2026-09', '2026-09-29']) {
      const unit = await unitIn(period);
      expect(unit.counters).toMatchObject({ received: 0, signedOnTime: 0, unreasonableApplied: 1 });
      expect(unit.rank).toBeNull();
    }
    for (const period of ['2026-10', '2026-10-08']) {
      const unit = await unitIn(period);
      expect(unit.counters).toMatchObject({
        received: 0,
        signedOnTime: 0,
        unreasonableApproved: 1,
      });
    }
  }, 120_000);
});

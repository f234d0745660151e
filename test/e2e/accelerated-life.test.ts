import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack';
import {
  type Api,
  apiClient,
  eventually,
  replyIdFrom,
  startTestStack,
} from '../support/local-stack.ts';

/**
 * One ticket's whole life on the local stack, through its public interfaces only: the API, the
 * unit's mailed link, and the simulated phone system answering the callback surveys with signed
 * webhooks. The virtual clock jumps over the working days in between.
 */
let stack: LocalStack;
let api: Api;

beforeAll(async () => {
  stack = await startTestStack({ start: new Date('2026-11-16T02:00:00Z') });
  api = apiClient(stack);
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe('a ticket lived at an accelerated clock', () => {
  it('goes through reminder, escalation, reply, unsatisfied callback, reopen, second reply, satisfied callback, close', async () => {
    const created = await api('POST', '/tickets', {
      token: stack.tokens.operator,
      body: {
        caller: { name: '赵六', phone: '13700001111' },
        content: '小区门口路灯连续一周不亮',
        category: '投诉',
        topic: 'urban-management',
        place: { district: 'qingshan', township: 'nanhu', address: '南湖花园东门' },
      },
    });
    expect(created.status, created.text).toBe(201);
    const id: string = created.body.id;
    const view = async () =>
      (await api('GET', `/tickets/${id}`, { token: stack.tokens.supervisor })).body;
    const settle = () => stack.sfn.waitForIdle();
    const advanceTo = async (iso: string) => {
      stack.clock.advance(Date.parse(iso) - stack.clock.nowMs() + 1000);
      await settle();
    };
    await settle();
    const link = replyIdFrom(stack.ses.messages().find((m) => m.subject.includes(id))!.text);
    const act = async (body: unknown) => {
      const response = await api('POST', `/replies/${link}`, { body });
      expect(response.status, response.text).toBe(200);
      await settle();
    };

    await act({ action: 'sign' });
    const { deadlines } = (await view()).ticket;
    await advanceTo(deadlines.remindAt);
    await advanceTo(deadlines.replyBy);
    await advanceTo(deadlines.reportAt);

    // The caller says: not resolved (2), unsatisfied (3).
    stack.phone.simulator.configure({
      answer: { kind: 'completed', resolvedKey: '2', satisfactionKey: '3' },
    });
    await act({ action: 'reply', content: '已报修', resolved: false });
    await eventually(async () => expect((await view()).ticket.status).toBe('handling'));
    // The clerk learns of the reopen (重办) from its mail, then acts.
    await eventually(async () =>
      expect(
        stack.ses.messages().some((m) => m.subject.includes(id) && m.subject.includes('重办')),
      ).toBe(true),
    );

    // After the second reply: resolved (1), satisfied (1).
    stack.phone.simulator.configure({
      answer: { kind: 'completed', resolvedKey: '1', satisfactionKey: '1' },
    });
    await act({ action: 'reply', content: '已更换灯具，恢复照明', resolved: true });
    await eventually(async () => expect((await view()).ticket.status).toBe('closed'));

    const { ticket, history } = await view();
    expect(history.map((h: { event: string }) => h.event)).toEqual([
      'received',
      'dispatched',
      'signed',
      'reminded',
      'overdue',
      'marked_for_report',
      'replied',
      'survey_requested',
      'reopened',
      'replied',
      'survey_requested',
      'closed',
    ]);
    expect(ticket).toMatchObject({
      closure: 'callback_done',
      reopenCount: 1,
      survey: { reached: true, resolved: true, satisfaction: 'satisfied' },
    });
    await eventually(async () =>
      expect(stack.phone.simulator.answers.map((a) => a.status)).toEqual([200, 200]),
    );

    const unitMails = stack.ses
      .messages()
      .filter(
        (m) => m.subject.includes(id) && m.to.includes('urban-management@qingshan.example.gov.cn'),
      );
    expect(unitMails.map((m) => m.subject.slice(0, 9))).toEqual([
      '【12345派单】',
      '【12345催办】',
      '【12345督办】',
      '【12345通报】',
      '【12345重办】',
    ]);

    // Each event counts in the month it happened: the deadlines ran into December. The counters
    // come from the table's stream, so the closing version is counted only once the stack is idle.
    await settle();
    const counters: Record<string, number> = {};
    for (const period of ['2026-11', '2026-12']) {
      const month = await api('GET', `/metrics?period=${period}`, {
        token: stack.tokens.supervisor,
      });
      const unit = month.body.units.find(
        (u: { unitId: string }) => u.unitId === 'urban-management',
      );
      for (const [k, n] of Object.entries(unit.counters as Record<string, number>))
        counters[k] = (counters[k] ?? 0) + n;
    }
    expect(counters).toMatchObject({
      received: 1,
      signedOnTime: 1,
      overdue: 1,
      repliedLate: 1,
      repliedOnTime: 1,
      unresolved: 1,
      unsatisfied: 1,
      reopened: 1,
      resolved: 1,
      satisfied: 1,
      unreached: 0,
    });
  }, 120_000);
});

import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack';
import { type Api, apiClient, eventually, replyIdFrom, startTestStack } from '../support/local-stack.ts';

/**
 * The lifecycle state machine as synthesized from the CDK app, executed by the local Step
 * Functions endpoint with the real handlers, on a virtual clock that the test moves forward.
 */
let stack: LocalStack;
let api: Api;
let sfn: SFNClient;
const HOUR = 3600_000;

beforeAll(async () => {
  // Monday 16 November 2026, 10:00 in Qingshan: a plain working week ahead.
  stack = await startTestStack({ start: new Date('2026-11-16T02:00:00Z') });
  api = apiClient(stack);
  sfn = new SFNClient({ endpoint: stack.urls.sfn, region: 'cn-north-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

function executionArn(ticketId: string): string {
  return `${stack.lifecycleArn.replace(':stateMachine:', ':execution:')}:${ticketId}`;
}

async function file(body: Record<string, unknown>): Promise<string> {
  const created = await api('POST', '/tickets', {
    token: stack.tokens.operator,
    body: { content: '小区供暖温度不达标', category: '投诉', topic: 'heating', place: { district: 'qingshan', township: 'beiyuan' }, ...body },
  });
  expect(created.status, created.text).toBe(201);
  await stack.sfn.waitForIdle();
  return created.body.id;
}

async function view(id: string) {
  return (await api('GET', `/tickets/${id}`, { token: stack.tokens.supervisor })).body;
}

function mailsFor(id: string) {
  return stack.ses.messages().filter((m) => m.subject.includes(id));
}

async function advanceTo(iso: string): Promise<void> {
  const ms = Date.parse(iso) - stack.clock.nowMs();
  if (ms > 0) stack.clock.advance(ms + 1000);
  await stack.sfn.waitForIdle();
}

describe('the ticket lifecycle on the synthesized ASL', () => {
  it('reminds, chases when overdue, marks for report, then takes a late reply and closes', async () => {
    const id = await file({});
    const { ticket } = await view(id);
    expect(ticket.status).toBe('dispatched');
    const { remindAt, replyBy, reportAt } = ticket.deadlines;

    await advanceTo(remindAt);
    await advanceTo(replyBy);
    await advanceTo(reportAt);
    const chased = await view(id);
    expect(chased.history.map((h: { event: string }) => h.event)).toEqual([
      'received',
      'dispatched',
      'reminded',
      'overdue',
      'marked_for_report',
    ]);
    const subjects = mailsFor(id).map((m) => m.subject);
    expect(subjects).toHaveLength(4);
    expect(subjects[0]).toContain('派单');
    expect(subjects[1]).toContain('催办');
    expect(subjects[2]).toContain('督办');
    expect(subjects[3]).toContain('通报');

    // Each chase mail carries a fresh link; the dispatch link no longer works.
    const firstLink = replyIdFrom(mailsFor(id)[0]!.text);
    const latestLink = replyIdFrom(mailsFor(id).at(-1)!.text);
    const stale = await api('POST', `/replies/${firstLink}`, { body: { content: '已处理', resolved: true } });
    expect(stale.status).toBe(410);
    const late = await api('POST', `/replies/${latestLink}`, { body: { content: '已更换换热站阀门', resolved: true } });
    expect(late.status, late.text).toBe(200);

    await stack.sfn.waitForIdle();
    const closed = await view(id);
    expect(closed.ticket.status).toBe('closed');
    expect(closed.history.find((h: { event: string }) => h.event === 'replied').details).toEqual({ onTime: false });
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(id) }));
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('spends the same number of transitions on a 24-hour and a 15-working-day deadline', async () => {
    const transitionsFor = async (extra: Record<string, unknown>) => {
      const id = await file(extra);
      const mail = mailsFor(id)[0]!;
      expect((await api('POST', `/replies/${replyIdFrom(mail.text)}`, { body: { content: '已处理', resolved: true } })).status).toBe(200);
      await stack.sfn.waitForIdle();
      expect((await view(id)).ticket.status).toBe('closed');
      return stack.sfn.stats(executionArn(id)).stateTransitions;
    };
    const urgent = await transitionsFor({ urgency: 'urgent' });
    const complaint = await transitionsFor({ category: '投诉' });
    expect(urgent).toBe(complaint);
    expect(urgent).toBeLessThan(20);
  });

  it('resumes an open ticket in a fresh execution from the stage stored on the ticket', async () => {
    const id = await file({});
    const before = await view(id);
    // Simulate the engine losing the execution (a restart): stop it, then start a new one as the
    // stack does at start-up. The ticket, not the execution, says where it is.
    const { StopExecutionCommand, StartExecutionCommand } = await import('@aws-sdk/client-sfn');
    await sfn.send(new StopExecutionCommand({ executionArn: executionArn(id) }));
    await sfn.send(new StartExecutionCommand({ stateMachineArn: stack.lifecycleArn, name: `${id}-resumed`, input: JSON.stringify({ ticketId: id }) }));
    await stack.sfn.waitForIdle();

    const resumed = await view(id);
    expect(resumed.ticket.version).toBe(before.ticket.version);
    expect(resumed.ticket.deadlines).toEqual(before.ticket.deadlines);
    // The unit keeps the link it already has: no second dispatch mail.
    expect(mailsFor(id)).toHaveLength(1);
    const reply = await api('POST', `/replies/${replyIdFrom(mailsFor(id)[0]!.text)}`, { body: { content: '已处理', resolved: true } });
    expect(reply.status, reply.text).toBe(200);
    await eventually(async () => expect((await view(id)).ticket.status).toBe('closed'));
  });
});

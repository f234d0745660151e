import {
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBulletinStore } from '#adapters/dynamodb/bulletin-store';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { closingDay, WorkingCalendar } from '#core/calendar';
import { LONGEST_WAIT_SECONDS } from '#core/lifecycle';
import { metricPeriods } from '#core/metrics';
import { recordSurveyAnswer, recordSurveyUnreachable } from '#core/tickets';
import calendarData from '#data/calendar/cn-holidays.json' with { type: 'json' };
import { ticketDeps } from '#functions/lib/deps';
import { asFunction } from '#local/functions';
import type { LocalStack } from '#local/stack';
import { type Api, apiClient, replyIdFrom, startTestStack } from '../support/local-stack.ts';

/**
 * Every path of the lifecycle state machine as synthesized from the CDK app, executed by the
 * local Step Functions endpoint with the real handlers and DynamoDB Local, on a virtual clock
 * the test moves forward (no test waits for a deadline).
 */
let stack: LocalStack;
let api: Api;
let sfn: SFNClient;
const surveysRequested: string[] = [];

beforeAll(async () => {
  // Monday 16 November 2026, 10:00 in Qingshan: a plain working week ahead.
  stack = await startTestStack({ start: new Date('2026-11-16T02:00:00Z') });
  api = apiClient(stack);
  sfn = new SFNClient({
    endpoint: stack.urls.sfn,
    region: 'cn-north-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // The phone system is a port: here it only notes the request, and the test answers for the
  // caller. Each function has its own container, so the port is replaced in survey-caller's.
  asFunction('survey-caller', () => {
    ticketDeps().surveys = {
      requestSurvey: async ({ surveyId }) => void surveysRequested.push(surveyId),
    };
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

let callers = 0;
const executionArn = (id: string, name = id) =>
  `${stack.lifecycleArn.replace(':stateMachine:', ':execution:')}:${name}`;
const settle = () => stack.sfn.waitForIdle();

async function file(body: Record<string, unknown> = {}): Promise<string> {
  callers++;
  const created = await api('POST', '/tickets', {
    token: stack.tokens.operator,
    body: {
      caller: { name: '王五', phone: `138${String(20_000_000 + callers).slice(-8)}` },
      content: '小区供暖温度不达标',
      category: '投诉',
      topic: 'heating',
      place: { district: 'qingshan', township: 'beiyuan', address: `北苑小区${callers}号楼` },
      ...body,
    },
  });
  expect(created.status, created.text).toBe(201);
  await settle();
  return created.body.id;
}

async function view(id: string) {
  return (await api('GET', `/tickets/${id}`, { token: stack.tokens.supervisor })).body;
}
const events = async (id: string) =>
  (await view(id)).history.map((h: { event: string }) => h.event);
const mailsFor = (id: string) => stack.ses.messages().filter((m) => m.subject.includes(id));
const linkOf = (id: string) =>
  replyIdFrom(
    mailsFor(id).find((m) => m.to.includes('heating-supply@qingshan.example.gov.cn'))?.text ??
      mailsFor(id)[0]!.text,
  );

async function act(id: string, body: Record<string, unknown>, expected = 200) {
  const response = await api('POST', `/replies/${linkOf(id)}`, { body });
  expect(response.status, response.text).toBe(expected);
  await settle();
  return response;
}

async function decide(
  id: string,
  body: Record<string, unknown>,
  role: 'dispatcher' | 'reviewer' = 'dispatcher',
) {
  const response = await api('POST', `/tickets/${id}/decisions`, {
    token: stack.tokens[role],
    body,
  });
  expect(response.status, response.text).toBe(200);
  await settle();
}

async function advanceTo(iso: string): Promise<void> {
  const ms = Date.parse(iso) - stack.clock.nowMs();
  if (ms > 0) stack.clock.advance(ms + 1000);
  await settle();
}

async function answerSurvey(
  id: string,
  answer: { resolved: boolean; satisfaction: 'satisfied' | 'basically_satisfied' | 'unsatisfied' },
) {
  const { ticket } = await view(id);
  const surveyId = ticket.surveys.at(-1).surveyId;
  expect(surveysRequested).toContain(surveyId);
  expect(await recordSurveyAnswer(ticketDeps(), surveyId, answer)).toBe('recorded');
  await settle();
}

async function succeeded(id: string, name = id) {
  await settle();
  const execution = await sfn.send(
    new DescribeExecutionCommand({ executionArn: executionArn(id, name) }),
  );
  expect(execution.status).toBe('SUCCEEDED');
}

describe('the ticket lifecycle on the synthesized ASL', () => {
  it('chases a late sign-for, reminds, escalates when overdue, marks for report, then closes on a late reply', async () => {
    const id = await file();
    const { deadlines } = (await view(id)).ticket;
    await advanceTo(deadlines.signRemindAt);
    await advanceTo(deadlines.signBy);
    await act(id, { action: 'sign' });
    await advanceTo(deadlines.remindAt);
    await advanceTo(deadlines.replyBy);
    await advanceTo(deadlines.reportAt);
    await act(id, { action: 'reply', content: '已更换换热站阀门', resolved: true });
    await answerSurvey(id, {
      resolved: true,
      satisfied: undefined,
      satisfaction: 'satisfied',
    } as never);
    expect(await events(id)).toEqual([
      'received',
      'dispatched',
      'sign_reminded',
      'sign_overdue',
      'signed',
      'reminded',
      'overdue',
      'marked_for_report',
      'replied',
      'survey_requested',
      'closed',
    ]);
    const { ticket, history } = await view(id);
    expect(ticket).toMatchObject({
      status: 'closed',
      closure: 'callback_done',
      survey: { reached: true, resolved: true, satisfaction: 'satisfied' },
    });
    expect(history.find((h: { event: string }) => h.event === 'signed').details).toEqual({
      onTime: false,
    });
    expect(history.find((h: { event: string }) => h.event === 'replied').details).toEqual({
      onTime: false,
    });
    const toUnit = mailsFor(id).filter((m) =>
      m.to.includes('heating-supply@qingshan.example.gov.cn'),
    );
    expect(toUnit.map((m) => m.subject.slice(0, 9))).toEqual([
      '【12345派单】',
      '【12345催签】',
      '【12345督办】',
      '【12345催办】',
      '【12345督办】',
      '【12345通报】',
    ]);
    // One link per assignment: every mail to the unit carries the same one.
    expect(new Set(toUnit.map((m) => replyIdFrom(m.text))).size).toBe(1);
    // The supervisors hear of each chase (督办), through the staff link, never the unit's.
    const toSupervisors = mailsFor(id).filter((m) =>
      m.to.includes('supervision@12345.qingshan.example.gov.cn'),
    );
    expect(toSupervisors).toHaveLength(3);
    for (const mail of toSupervisors) {
      expect(mail.text).toContain(`/tickets/${id}`);
      expect(mail.text).not.toContain('/replies/');
    }
    await succeeded(id);
  });

  it('spends the same number of transitions on a 24-hour and a 15-working-day deadline', async () => {
    const transitionsFor = async (extra: Record<string, unknown>) => {
      const id = await file({ noCallback: true, ...extra });
      await act(id, { action: 'sign' });
      await act(id, { action: 'reply', content: '已处理', resolved: true });
      expect((await view(id)).ticket.status).toBe('closed');
      await succeeded(id);
      return stack.sfn.stats(executionArn(id)).stateTransitions;
    };
    const urgent = await transitionsFor({ urgency: 'urgent' });
    const complaint = await transitionsFor({});
    expect(urgent).toBe(complaint);
    expect(urgent).toBeLessThan(25);
  });

  it('counts the transitions of a happy ticket (10) and of a late one with three deadline events (19)', async () => {
    // Every task and every waker hands over the next step, and the stream starts the execution
    // at Route: WhichStep, Route, WhichStep, AwaitUnit (sign), WhichStep, AwaitUnit (reply),
    // WhichStep, Survey, WhichStep, Closed. No NextStep at all (15 when each stage read the ticket).
    const happy = await file();
    await act(happy, { action: 'sign' });
    await act(happy, { action: 'reply', content: '已处理', resolved: true });
    await answerSurvey(happy, { resolved: true, satisfaction: 'satisfied' });
    await succeeded(happy);
    expect(stack.sfn.stats(executionArn(happy))).toEqual({
      stateTransitions: 10,
      lambdaInvocations: 4,
    });
    // bench/waiting.ts's late ticket: each deadline event is the wait's timeout, caught straight
    // into Chase (Chase, WhichStep, AwaitUnit); the reply's waker hands over Close (was 33).
    const late = await file({ noCallback: true });
    await act(late, { action: 'sign' });
    const { deadlines } = (await view(late)).ticket;
    await advanceTo(deadlines.remindAt);
    await advanceTo(deadlines.replyBy);
    await advanceTo(deadlines.reportAt);
    await act(late, { action: 'reply', content: '已处理', resolved: true });
    await succeeded(late);
    expect(await events(late)).toEqual([
      'received',
      'dispatched',
      'signed',
      'reminded',
      'overdue',
      'marked_for_report',
      'replied',
      'closed',
    ]);
    expect(stack.sfn.stats(executionArn(late))).toEqual({
      stateTransitions: 19,
      lambdaInvocations: 10,
    });
  });

  it("decides afresh when a waker's step is stale: the ticket changed again, a deadline is still chased", async () => {
    const id = await file();
    const deps = ticketDeps();
    const decided = (await deps.store.get(id))!;
    const wait = (await deps.store.getWait(id))!;
    // A waker takes the token and decides its step on the ticket it saved...
    expect(await deps.store.takeToken(id, wait.taskToken!)).toBe(true);
    // ...the ticket changes again meanwhile (a note wakes nobody, and the token is gone anyway)...
    await act(id, { action: 'note', note: '已联系来电人' });
    // ...and the step arrives late, decided on the older version, with a far timeout.
    expect(
      await deps.workflow.resume(wait.taskToken!, {
        kind: 'await_unit',
        timeoutSeconds: LONGEST_WAIT_SECONDS,
        version: decided.version,
      }),
    ).toBe('resumed');
    await settle();
    // AwaitUnit saw the newer version and waited on the step decided afresh: the sign-for
    // reminder falls due on time instead of a year later.
    await advanceTo(decided.deadlines.signRemindAt!);
    expect(await events(id)).toEqual(['received', 'dispatched', 'note', 'sign_reminded']);
    // The unit is told once per event, never twice for the re-decided wait.
    const toUnit = mailsFor(id).filter((m) =>
      m.to.includes('heating-supply@qingshan.example.gov.cn'),
    );
    expect(toUnit.map((m) => m.subject.slice(0, 9))).toEqual(['【12345派单】', '【12345催签】']);
  });

  it('returns a ticket, and the centre re-dispatches it to the right unit', async () => {
    const id = await file({ topic: 'water-supply' });
    await act(id, { action: 'return', reason: '属供热管网问题，非供水' });
    expect((await view(id)).ticket.status).toBe('return_review');
    expect(mailsFor(id).some((m) => m.to.includes('dispatch@12345.qingshan.example.gov.cn'))).toBe(
      true,
    );
    await decide(id, { decision: 'dispatch', lead: 'heating-supply', assist: [] });
    const { ticket } = await view(id);
    expect(ticket).toMatchObject({
      status: 'dispatched',
      leadUnit: 'heating-supply',
      returnedBy: ['water-supply'],
    });
    // The new unit got its own link; the old one no longer works.
    const waterMails = mailsFor(id).filter((m) =>
      m.to.includes('water-supply@qingshan.example.gov.cn'),
    );
    const heatingMails = mailsFor(id).filter((m) =>
      m.to.includes('heating-supply@qingshan.example.gov.cn'),
    );
    expect(heatingMails.map((m) => m.subject.slice(0, 9))).toEqual(['【12345派单】']);
    const oldLink = replyIdFrom(waterMails[0]!.text);
    const newLink = replyIdFrom(heatingMails[0]!.text);
    expect(newLink).not.toBe(oldLink);
    expect((await api('POST', `/replies/${oldLink}`, { body: { action: 'sign' } })).status).toBe(
      410,
    );
    const signed = await api('POST', `/replies/${newLink}`, { body: { action: 'sign' } });
    expect(signed.status, signed.text).toBe(200);
    await settle();
    expect((await view(id)).ticket).toMatchObject({
      status: 'handling',
      leadUnit: 'heating-supply',
    });
  });

  it('approves an extension and refuses the next one', async () => {
    const id = await file();
    await act(id, { action: 'sign' });
    const before = (await view(id)).ticket.deadlines.replyBy;
    await act(id, { action: 'extend', workingDays: 5, reason: '需更换主管道' });
    await decide(id, { decision: 'approve_extension' });
    const extended = (await view(id)).ticket;
    expect(extended).toMatchObject({ status: 'handling', extendedWorkingDays: 5 });
    // Five working days on from the old deadline, on the holiday calendar the handlers use.
    const calendar = new WorkingCalendar(calendarData);
    expect(extended.deadlines.replyBy).toBe(
      calendar.addWorkingDays(new Date(before), 5).toISOString(),
    );
    // The caller is told the new date through the phone system (as an SMS), and the history says so.
    const notice = stack.phone.simulator.notifications.find((n) => n.ticketId === id);
    expect(notice?.text).toContain(id);
    expect(notice?.text).toContain(`${closingDay(new Date(extended.deadlines.replyBy))}前答复`);
    expect(notice?.text).not.toMatch(/138\d{8}/);
    expect(await events(id)).toContain('caller_informed');
    await act(id, { action: 'extend', workingDays: 3, reason: '仍需时间' });
    await decide(id, { decision: 'refuse_extension', note: '理由不充分' });
    expect((await view(id)).ticket).toMatchObject({
      status: 'handling',
      extendedWorkingDays: 5,
      deadlines: { replyBy: extended.deadlines.replyBy },
    });
    expect(await events(id)).toContain('extension_refused');
    expect(mailsFor(id).some((m) => m.subject.includes('延期'))).toBe(true);
  });

  it('approves an unreasonable-request application: closed, out of assessment, queued for the bulletin', async () => {
    const id = await file({ content: '要求为其每天送水上门' });
    await act(id, { action: 'sign' });
    await act(id, {
      action: 'unreasonable',
      category: 'outside_remit',
      evidence: '诉求超出公共服务范围',
    });
    const response = await api('POST', `/tickets/${id}/decisions`, {
      token: stack.tokens.dispatcher,
      body: {
        decision: 'approve_unreasonable',
        publicSummary: '某市民来电要求每天送水上门。',
        finding: '超出热线受理范围',
        basis: '《12345热线管理办法》',
        reply: '感谢来电，建议通过市场化服务解决。',
      },
    });
    expect(response.status).toBe(403);
    await decide(
      id,
      {
        decision: 'approve_unreasonable',
        publicSummary: '某市民来电要求每天送水上门。',
        finding: '超出热线受理范围',
        basis: '《12345热线管理办法》',
        reply: '感谢来电，建议通过市场化服务解决。',
      },
      'reviewer',
    );
    const { ticket } = await view(id);
    // Approval queued the anonymised case for the next bulletin, in the same write.
    const queued = await new DynamoBulletinStore(documentClient, tableName()).listUnpublished(100);
    expect(queued.map((c) => c.ticketId)).toContain(id);
    expect(ticket).toMatchObject({
      status: 'closed',
      closure: 'unreasonable',
      assessed: {},
      unreasonable: { category: 'outside_remit' },
    });
    await succeeded(id);
  });

  it('refuses an unreasonable-request application and gives back the remaining time', async () => {
    const id = await file();
    await act(id, { action: 'sign' });
    const remaining = Date.parse((await view(id)).ticket.deadlines.replyBy) - stack.clock.nowMs();
    await act(id, {
      action: 'unreasonable',
      category: 'no_factual_basis',
      evidence: '经检测温度达标',
    });
    stack.clock.advance(3 * 24 * 3600_000);
    await decide(id, { decision: 'refuse_unreasonable', note: '室温检测记录不完整' }, 'reviewer');
    const { ticket } = await view(id);
    expect(ticket.status).toBe('handling');
    expect(
      Math.abs(Date.parse(ticket.deadlines.replyBy) - stack.clock.nowMs() - remaining),
    ).toBeLessThan(5_000);
  });

  it('reopens an unresolved, unsatisfied ticket to the same unit and closes on the second, satisfied callback', async () => {
    const id = await file();
    await act(id, { action: 'sign' });
    await act(id, { action: 'reply', content: '已调节', resolved: true });
    await answerSurvey(id, { resolved: false, satisfaction: 'unsatisfied' });
    expect((await view(id)).ticket).toMatchObject({
      status: 'handling',
      reopenCount: 1,
      leadUnit: 'heating-supply',
    });
    expect(mailsFor(id).some((m) => m.subject.includes('重办'))).toBe(true);
    await act(id, { action: 'reply', content: '已更换暖气片', resolved: true });
    await answerSurvey(id, { resolved: true, satisfaction: 'basically_satisfied' });
    const { ticket } = await view(id);
    expect(ticket).toMatchObject({
      status: 'closed',
      closure: 'callback_done',
      survey: { resolved: true, satisfaction: 'basically_satisfied' },
    });
    await succeeded(id);
  });

  it('records an unreachable caller as unreached after every attempt, including one that timed out', async () => {
    const id = await file();
    await act(id, { action: 'sign' });
    await act(id, { action: 'reply', content: '已处理', resolved: true });
    const first = (await view(id)).ticket.surveys[0];
    expect(await recordSurveyUnreachable(ticketDeps(), first.surveyId, 'busy')).toBe('recorded');
    await settle();
    await advanceTo((await view(id)).ticket.surveys[1].dueAt);
    const third = (await view(id)).ticket.surveys[2];
    expect(await recordSurveyUnreachable(ticketDeps(), third.surveyId, 'no_answer')).toBe(
      'recorded',
    );
    await settle();
    const { ticket } = await view(id);
    expect(ticket).toMatchObject({
      status: 'closed',
      closure: 'unreached',
      survey: { reached: false },
    });
    expect(ticket.surveys.map((s: { outcome: string }) => s.outcome)).toEqual([
      'busy',
      'no_answer',
      'no_answer',
    ]);
    expect(await recordSurveyUnreachable(ticketDeps(), `${id}.9`, 'busy')).toBe('unknown');
  });

  it('merges a repeat request about the same matter into the open ticket', async () => {
    const first = await file();
    const phone = (await view(first)).ticket.caller.phone;
    const created = await api('POST', '/tickets', {
      token: stack.tokens.operator,
      body: {
        caller: { phone },
        content: '还是不热',
        category: '投诉',
        topic: 'heating',
        place: { district: 'qingshan', township: 'beiyuan' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('merged');
    const merged = await view(created.body.id);
    expect(merged.ticket.mergedInto).toBe(first);
    // The dispatcher sees why: the same caller, the same topic, the same township.
    expect(merged.ticket.mergeReason).toBe('same_caller_same_place');
    expect(merged.history[0].reason).toContain('同一来电人');
    expect(merged.mergedWith).toMatchObject({
      id: first,
      status: 'dispatched',
      leadUnit: 'heating-supply',
    });
  });

  it('flags a repeat caller without substance for a human after the threshold, and never blocks', async () => {
    const call = () =>
      api('POST', '/tickets', {
        token: stack.tokens.operator,
        body: {
          caller: { phone: '13911112222' },
          content: '来电闲聊，无具体诉求',
          category: '咨询',
          topic: 'permits',
          place: { district: 'qingshan' },
          noSubstance: true,
          disposition: { kind: 'answered', answer: '已告知热线用途' },
        },
      });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await call();
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const flagged = await Promise.all(
      ids.map(async (id) => Boolean((await view(id)).ticket.flaggedRepeatCaller)),
    );
    expect(flagged).toEqual([false, false, false, false, true]);
    const list = await api(
      'GET',
      `/flags?month=${new Date(stack.clock.nowMs() + 8 * 3600_000).toISOString().slice(0, 7)}`,
      { token: stack.tokens.supervisor },
    );
    expect(list.body.flagged.map((f: { ticketId: string }) => f.ticketId)).toEqual([ids[4]]);
    expect(JSON.stringify(list.body)).not.toContain('13911112222');
  });

  it('queues a ticket no rule fits for a dispatcher, who routes it', async () => {
    const id = await file({ topic: 'neighbourhood', place: { district: 'qingshan' } });
    expect((await view(id)).ticket.status).toBe('awaiting_dispatch');
    await decide(id, { decision: 'dispatch', lead: 'chengguan-office', assist: ['justice'] });
    expect((await view(id)).ticket).toMatchObject({
      status: 'dispatched',
      leadUnit: 'chengguan-office',
      assistingUnits: ['justice'],
    });
  });

  it('gives the centre a time limit: the AwaitCentre wait times out to a reminder, then 督办 to supervisors, shown overdue in its queue', async () => {
    const id = await file({ topic: 'neighbourhood', place: { district: 'qingshan' } });
    const { ticket } = await view(id);
    expect(ticket.status).toBe('awaiting_dispatch');
    const { centreBy, centreRemindAt } = ticket.deadlines;
    expect(centreBy > centreRemindAt).toBe(true);
    const centreMails = () =>
      mailsFor(id).filter((m) => m.to.includes('dispatch@12345.qingshan.example.gov.cn'));
    const supervisorMails = () =>
      mailsFor(id).filter((m) => m.to.includes('supervision@12345.qingshan.example.gov.cn'));
    expect(centreMails()).toHaveLength(1);
    const queue = async () =>
      (await api('GET', '/work-queue', { token: stack.tokens.dispatcher })).body;
    expect((await queue()).tickets.find((t: { id: string }) => t.id === id)).toMatchObject({
      status: 'awaiting_dispatch',
      overdue: false,
    });

    // The wait's timeout (States.Timeout, caught) leads to the chase, then a fresh wait.
    await advanceTo(centreRemindAt);
    expect(await events(id)).toEqual(['received', 'manual_dispatch_needed', 'centre_reminded']);
    expect(centreMails()).toHaveLength(2);
    expect(centreMails()[1]!.subject).toContain('催办');
    expect(supervisorMails()).toHaveLength(0);

    await advanceTo(centreBy);
    expect((await events(id)).at(-1)).toBe('centre_overdue');
    expect(centreMails()).toHaveLength(3);
    expect(supervisorMails()).toHaveLength(1);
    expect(supervisorMails()[0]!.text).not.toContain('王五');
    const overdue = await queue();
    expect(overdue.queue).toBe('centre');
    expect(overdue.tickets.find((t: { id: string }) => t.id === id)).toMatchObject({
      overdue: true,
    });
    const execution = await sfn.send(
      new DescribeExecutionCommand({ executionArn: executionArn(id) }),
    );
    expect(execution.status).toBe('RUNNING');

    // Nothing more is due: no further mail however long it waits, until the centre decides.
    await advanceTo(new Date(Date.parse(centreBy) + 3 * 24 * 3600_000).toISOString());
    expect(mailsFor(id).length).toBe(4);
    await decide(id, { decision: 'dispatch', lead: 'chengguan-office', assist: [] });
    expect((await view(id)).ticket.deadlines.centreBy).toBeUndefined();
    expect((await queue()).tickets.map((t: { id: string }) => t.id)).not.toContain(id);
  });

  it('resumes an open ticket in a fresh execution from its stored stage, without mailing the unit again', async () => {
    const id = await file();
    await act(id, { action: 'sign' });
    const before = await view(id);
    const mails = mailsFor(id).length;
    await sfn.send(new StopExecutionCommand({ executionArn: executionArn(id) }));
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.lifecycleArn,
        name: `${id}-resumed`,
        input: JSON.stringify({ ticketId: id }),
      }),
    );
    await settle();
    const resumed = await view(id);
    expect(resumed.ticket.version).toBe(before.ticket.version);
    expect(resumed.ticket.deadlines).toEqual(before.ticket.deadlines);
    expect(mailsFor(id)).toHaveLength(mails);
    await act(id, { action: 'reply', content: '已处理', resolved: true });
    expect((await view(id)).ticket.status).toBe('callback');
  });

  it('settles a reply racing its deadline into one outcome with a consistent history', async () => {
    const id = await file({ noCallback: true });
    await act(id, { action: 'sign' });
    const { replyBy } = (await view(id)).ticket.deadlines;
    stack.clock.advance(Date.parse(replyBy) - stack.clock.nowMs());
    const reply = api('POST', `/replies/${linkOf(id)}`, {
      body: { action: 'reply', content: '刚好处理完', resolved: true },
    });
    expect((await reply).status).toBe(200);
    await settle();
    const { ticket, history } = await view(id);
    expect(ticket.status).toBe('closed');
    expect(history.map((h: { version: number }) => h.version)).toEqual(
      history.map((_: unknown, i: number) => i + 1),
    );
    expect(history.filter((h: { event: string }) => h.event === 'replied')).toHaveLength(1);
    await succeeded(id);
  });

  it('counts each event once in the month’s metrics even when a step is retried', async () => {
    // The month the ticket is received in, on the stack's clock (earlier tests move it).
    const [, month] = metricPeriods(new Date(stack.clock.nowMs()));
    const heatingCounters = async () => {
      const metrics = await api('GET', `/metrics?period=${month}`, {
        token: stack.tokens.supervisor,
      });
      expect(metrics.status).toBe(200);
      return metrics.body.units.find((u: { unitId: string }) => u.unitId === 'heating-supply')
        ?.counters as Record<string, number> | undefined;
    };
    const before = (await heatingCounters())?.received ?? 0;
    const id = await file({ noCallback: true });
    const counted = await heatingCounters();
    expect(counted?.received).toBe(before + 1);
    const { invokeFunction } = await import('#local/functions');
    // Run the routing and chase steps again as a Lambda retry would: nothing changes twice.
    await invokeFunction('route-ticket', { ticketId: id });
    await invokeFunction('chase-ticket', { ticketId: id });
    await settle();
    expect(await heatingCounters()).toEqual(counted);
    expect(await events(id)).toEqual(['received', 'dispatched']);
  });
});

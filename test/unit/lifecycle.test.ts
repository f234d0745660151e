import { describe, expect, it } from 'vitest';
import { assertCanView, redactFor } from '#core/access';
import { WorkingCalendar } from '#core/calendar';
import { type Catalogue, catalogueSchema, routeByCatalogue } from '#core/catalogue';
import { parseLifecycleConfig } from '#core/config';
import { ForbiddenError } from '#core/errors';
import {
  applyCentreDecision,
  applyUnitAction,
  type Context,
  dispatchTicket,
  dueDeadlineEvent,
  nextStep,
  openTicket,
  surveyAnswered,
  surveyRequested,
  surveyUnreached,
  toManualDispatch,
} from '#core/lifecycle';
import { deadlineText } from '#core/mails';
import { intakeSchema, type Ticket } from '#core/ticket';
import { shanghaiDay } from '#core/tickets';
import calendarData from '#data/calendar/cn-holidays.json' with { type: 'json' };
import sampleCounty from '#data/sample-county.json' with { type: 'json' };

const county: Catalogue = catalogueSchema.parse(sampleCounty);
const units = new Map(county.units.map((u) => [u.id, u]));
const topic = (id: string) => county.topics.find((t) => t.id === id)!;
const calendar = new WorkingCalendar(calendarData);
const config = parseLifecycleConfig({});
const operator = { kind: 'operator', id: 'op-1' } as const;
const ctx = (at: Date): Context => ({ at, config, add: calendar.addDuration });

function intake(overrides: Record<string, unknown> = {}) {
  return intakeSchema.parse({
    caller: { name: '张三', phone: '13800138000' },
    content: '小区停水三天了',
    category: '投诉',
    topic: 'water-supply',
    place: { district: 'qingshan', township: 'chengguan' },
    ...overrides,
  });
}

function dispatched(at: Date, overrides: Record<string, unknown> = {}): Ticket {
  const opened = openTicket({
    id: '20261118-000001',
    intake: intake(overrides),
    actor: operator,
    at,
  }).ticket;
  const decision = routeByCatalogue(topic(opened.topic!), opened.place, units);
  if (decision.kind !== 'unit') throw new Error('expected a unit');
  return dispatchTicket(
    opened,
    { lead: decision.lead, assist: decision.assist, actor: operator, reason: 'test' },
    ctx(at),
  ).ticket;
}

describe('the sample county', () => {
  it('has at least 30 departments, 12 townships and a topic for every common matter', () => {
    expect(county.units.filter((u) => u.kind === 'department').length).toBeGreaterThanOrEqual(30);
    expect(county.units.filter((u) => u.kind === 'township').length).toBeGreaterThanOrEqual(12);
    for (const id of [
      'water-supply',
      'power',
      'gas',
      'heating',
      'property-management',
      'demolition',
      'wages',
      'market',
      'traffic',
      'environment',
      'education',
      'health',
      'social-security',
      'urban-management',
    ]) {
      expect(county.topics.map((t) => t.id)).toContain(id);
    }
  });

  it('names only units that exist in its dispatch rules', () => {
    for (const t of county.topics) {
      for (const rule of t.rules) {
        if (rule.lead !== '@township')
          expect(units.has(rule.lead), `${t.id} → ${rule.lead}`).toBe(true);
        for (const a of rule.assist) expect(units.has(a), `${t.id} assists ${a}`).toBe(true);
      }
    }
  });
});

describe('routing by the dispatch catalogue', () => {
  it('sends a department matter to its department with assisting units', () => {
    const decision = routeByCatalogue(
      topic('water-supply'),
      { district: 'qingshan', township: 'liuhe' },
      units,
    );
    expect(decision).toMatchObject({
      kind: 'unit',
      lead: 'water-supply',
      assist: ['water-resources'],
    });
  });

  it('sends a local matter straight to the township where it happens', () => {
    const decision = routeByCatalogue(
      topic('neighbourhood'),
      { district: 'qingshan', township: 'shiqiao' },
      units,
    );
    expect(decision).toMatchObject({ kind: 'unit', lead: 'shiqiao-office' });
  });

  it('prefers the most specific rule', () => {
    const urban = routeByCatalogue(
      topic('roads'),
      { district: 'qingshan', township: 'chengguan' },
      units,
    );
    const rural = routeByCatalogue(
      topic('roads'),
      { district: 'qingshan', township: 'songlin' },
      units,
    );
    expect(urban).toMatchObject({ lead: 'housing-construction' });
    expect(rural).toMatchObject({ lead: 'transport' });
  });

  it('leaves a local matter without a known township to a dispatcher', () => {
    expect(routeByCatalogue(topic('neighbourhood'), { district: 'qingshan' }, units).kind).toBe(
      'manual',
    );
  });

  it('never pushes a department matter down to a township', () => {
    const pushedDown = { ...topic('wages'), rules: [{ area: '*', lead: '@township', assist: [] }] };
    const decision = routeByCatalogue(
      pushedDown,
      { district: 'qingshan', township: 'hekou' },
      units,
    );
    expect(decision).toEqual({
      kind: 'manual',
      reason: 'a department matter may not be routed to a township',
    });
  });
});

describe('intake', () => {
  it('accepts the Chinese category label and fills defaults', () => {
    const parsed = intake();
    expect(parsed).toMatchObject({
      category: 'complaint',
      urgency: 'normal',
      channel: 'phone',
      confidential: false,
    });
  });

  it('numbers tickets by the day in Asia/Shanghai', () => {
    expect(shanghaiDay(new Date('2026-11-20T16:30:00Z'))).toBe('20261121');
    expect(shanghaiDay(new Date('2026-11-20T15:59:59Z'))).toBe('20261120');
  });
});

describe('the lifecycle of a ticket', () => {
  const monday = new Date('2026-11-16T02:00:00Z'); // 10:00 in Qingshan
  const clerk = { kind: 'unit', id: 'clerk', unitId: 'water-supply' } as const;
  const dispatcher = { kind: 'dispatcher', id: 'd' } as const;
  const at = (iso: string) => ctx(new Date(iso));

  it('gives a complaint 15 working days, one working day to sign for it, and reminders before both', () => {
    const ticket = dispatched(monday);
    expect(ticket.deadlines.replyBy).toBe(calendar.addWorkingDays(monday, 15).toISOString());
    expect(ticket.deadlines.remindAt).toBe(calendar.addWorkingDays(monday, 14).toISOString());
    expect(ticket.deadlines.signBy).toBe(calendar.addWorkingDays(monday, 1).toISOString());
    expect(ticket.deadlines.reportAt).toBe(
      calendar.addWorkingDays(new Date(ticket.deadlines.replyBy!), 3).toISOString(),
    );
  });

  it('gives an urgent ticket 24 natural hours and two hours to sign for it', () => {
    const ticket = dispatched(monday, { urgency: 'urgent' });
    expect(ticket.deadlines.replyBy).toBe('2026-11-17T02:00:00.000Z');
    expect(ticket.deadlines.signBy).toBe('2026-11-16T04:00:00.000Z');
  });

  it('chases an unsigned ticket, then the reply deadline, each event once and in order', () => {
    let ticket = dispatched(monday);
    const d = ticket.deadlines;
    const events: string[] = [];
    for (const moment of [d.signRemindAt!, d.signBy!, d.remindAt!, d.replyBy!, d.reportAt!]) {
      expect(nextStep(ticket, ctx(new Date(moment))).kind).toBe('chase');
      const t = dueDeadlineEvent(ticket, at(moment))!;
      events.push(t.history.event);
      ticket = t.ticket;
      expect(dueDeadlineEvent(ticket, at(moment))).toBeUndefined();
    }
    expect(events).toEqual([
      'sign_reminded',
      'sign_overdue',
      'reminded',
      'overdue',
      'marked_for_report',
    ]);
    expect(nextStep(ticket, ctx(new Date(d.reportAt!)))).toMatchObject({
      kind: 'await_unit',
      timeoutSeconds: 365 * 24 * 3600,
    });
  });

  it('waits exactly until the next deadline event', () => {
    const ticket = dispatched(monday);
    expect(nextStep(ticket, ctx(monday))).toEqual({
      kind: 'await_unit',
      timeoutSeconds: (Date.parse(ticket.deadlines.signRemindAt!) - monday.getTime()) / 1000,
      // The version it was decided on: a waiting task that finds a newer one decides afresh.
      version: ticket.version,
    });
  });

  it('signs, replies on time and moves to the callback, counting each once', () => {
    const signed = applyUnitAction(
      dispatched(monday),
      'water-supply',
      { action: 'sign' },
      clerk,
      at('2026-11-16T03:00:00Z'),
    );
    expect(signed.metrics).toEqual([{ unitId: 'water-supply', counters: { signedOnTime: 1 } }]);
    const replied = applyUnitAction(
      signed.ticket,
      'water-supply',
      { action: 'reply', content: '已恢复供水', resolved: true },
      clerk,
      at('2026-11-17T02:00:00Z'),
    );
    expect(replied.ticket.status).toBe('callback');
    expect(replied.history).toMatchObject({
      from: 'handling',
      to: 'callback',
      details: { onTime: true },
    });
    expect(replied.ticket.assessed['water-supply']).toEqual({
      '2026-11-16': { received: 1, signedOnTime: 1 },
      '2026-11-17': { repliedOnTime: 1 },
    });
  });

  it('refuses a reply before sign-for, and any action by another unit', () => {
    const ticket = dispatched(monday);
    expect(() =>
      applyUnitAction(
        ticket,
        'water-supply',
        { action: 'reply', content: 'x', resolved: true },
        clerk,
        ctx(monday),
      ),
    ).toThrow(/sign for it first/);
    expect(() =>
      applyUnitAction(ticket, 'power-supply', { action: 'sign' }, clerk, ctx(monday)),
    ).toThrow(/lead unit/);
  });

  it('returns within the limit; the centre re-dispatches to another unit with the original reply deadline', () => {
    const ticket = dispatched(monday);
    const returned = applyUnitAction(
      ticket,
      'water-supply',
      { action: 'return', reason: '属于供热公司管辖' },
      clerk,
      at('2026-11-16T05:00:00Z'),
    );
    expect(returned.ticket).toMatchObject({
      status: 'return_review',
      returnedBy: ['water-supply'],
    });
    const again = applyCentreDecision(
      returned.ticket,
      { decision: 'dispatch', lead: 'heating-supply', assist: [] },
      dispatcher,
      at('2026-11-16T06:00:00Z'),
    );
    expect(again.ticket).toMatchObject({ status: 'dispatched', leadUnit: 'heating-supply' });
    expect(again.ticket.deadlines.replyBy).toBe(ticket.deadlines.replyBy);
    expect(again.history.event).toBe('redispatched');
    // The return was right: the ticket leaves the returning unit's response rate; the bounce counts.
    expect(again.metrics).toEqual([
      { unitId: 'water-supply', counters: { received: -1 }, day: '2026-11-16' },
      { unitId: 'heating-supply', counters: { received: 1 } },
    ]);
    expect(again.ticket.assessed).toEqual({
      'water-supply': { '2026-11-16': { returned: 1 } },
      'heating-supply': { '2026-11-16': { received: 1 } },
    });
    expect(() =>
      applyUnitAction(
        ticket,
        'water-supply',
        { action: 'return', reason: 'late' },
        clerk,
        at('2026-11-25T02:00:00Z'),
      ),
    ).toThrow(/within 2 workingDays/);
  });

  it('sends a refused return back to the unit in the stage it was in', () => {
    const signed = applyUnitAction(
      dispatched(monday),
      'water-supply',
      { action: 'sign' },
      clerk,
      ctx(monday),
    ).ticket;
    const returned = applyUnitAction(
      signed,
      'water-supply',
      { action: 'return', reason: '非我单位' },
      clerk,
      ctx(monday),
    ).ticket;
    const back = applyCentreDecision(
      returned,
      { decision: 'send_back', note: '供水管网属贵单位' },
      dispatcher,
      ctx(monday),
    );
    expect(back.ticket.status).toBe('handling');
  });

  it('extends a deadline up to the cap and tells the caller; a refusal keeps the old date', () => {
    const signed = applyUnitAction(
      dispatched(monday),
      'water-supply',
      { action: 'sign' },
      clerk,
      ctx(monday),
    ).ticket;
    const asked = applyUnitAction(
      signed,
      'water-supply',
      { action: 'extend', workingDays: 5, reason: '需更换主管道' },
      clerk,
      ctx(monday),
    ).ticket;
    const approved = applyCentreDecision(
      asked,
      { decision: 'approve_extension' },
      dispatcher,
      ctx(monday),
    );
    expect(approved.ticket.deadlines.replyBy).toBe(
      calendar.addWorkingDays(new Date(signed.deadlines.replyBy!), 5).toISOString(),
    );
    expect(approved.history.details).toMatchObject({ workingDays: 5, callerInformed: true });
    expect(approved.ticket.extendedWorkingDays).toBe(5);
    expect(() =>
      applyUnitAction(
        approved.ticket,
        'water-supply',
        { action: 'extend', workingDays: 6, reason: 'again' },
        clerk,
        ctx(monday),
      ),
    ).toThrow(/at most 5 more/);
    const asked2 = applyUnitAction(
      approved.ticket,
      'water-supply',
      { action: 'extend', workingDays: 2, reason: 'again' },
      clerk,
      ctx(monday),
    ).ticket;
    const refused = applyCentreDecision(
      asked2,
      { decision: 'refuse_extension', note: '理由不充分' },
      dispatcher,
      ctx(monday),
    );
    expect(refused.ticket).toMatchObject({ status: 'handling', extendedWorkingDays: 5 });
    expect(refused.ticket.deadlines.replyBy).toBe(approved.ticket.deadlines.replyBy);
  });

  it('reminds the configured lead time before an extended deadline, not days after the approval', () => {
    // Approve 5 working days on 2026-09-29, across National Day.
    const sept29 = new Date('2026-09-29T02:00:00Z');
    const signed = applyUnitAction(
      dispatched(sept29),
      'water-supply',
      { action: 'sign' },
      clerk,
      ctx(sept29),
    ).ticket;
    const asked = applyUnitAction(
      signed,
      'water-supply',
      { action: 'extend', workingDays: 5, reason: '需更换主管道' },
      clerk,
      ctx(sept29),
    ).ticket;
    const approved = applyCentreDecision(
      asked,
      { decision: 'approve_extension' },
      dispatcher,
      ctx(sept29),
    ).ticket;
    const replyBy = new Date(approved.deadlines.replyBy!);
    const remindAt = new Date(approved.deadlines.remindAt!);
    expect(replyBy.toISOString()).toBe(
      calendar.addWorkingDays(new Date(signed.deadlines.replyBy!), 5).toISOString(),
    );
    // One working day (remindBefore) before the new deadline.
    expect(calendar.workingDaysBetween(remindAt, replyBy)).toBe(1);
    expect(calendar.addWorkingDays(remindAt, 1).toISOString()).toBe(replyBy.toISOString());
    expect(remindAt > new Date(signed.deadlines.replyBy!)).toBe(true);
    // A one-day extension is reminded at the old deadline, one working day before the new one.
    const asked1 = applyUnitAction(
      { ...approved, extendedWorkingDays: 0 },
      'water-supply',
      { action: 'extend', workingDays: 1, reason: 'again' },
      clerk,
      ctx(sept29),
    ).ticket;
    const one = applyCentreDecision(
      asked1,
      { decision: 'approve_extension' },
      dispatcher,
      ctx(sept29),
    ).ticket;
    expect(new Date(one.deadlines.remindAt!) < new Date(one.deadlines.replyBy!)).toBe(true);
    expect(new Date(one.deadlines.remindAt!) >= new Date(approved.deadlines.replyBy!)).toBe(true);
  });

  it('excludes an approved unreasonable ticket from assessment and records its public case', () => {
    const signed = applyUnitAction(
      dispatched(monday),
      'water-supply',
      { action: 'sign' },
      clerk,
      ctx(monday),
    ).ticket;
    const applied = applyUnitAction(
      signed,
      'water-supply',
      { action: 'unreasonable', category: 'no_factual_basis', evidence: '检测电压正常' },
      clerk,
      ctx(monday),
    );
    expect(applied.metrics).toEqual([
      { unitId: 'water-supply', counters: { unreasonableApplied: 1 } },
    ]);
    const approved = applyCentreDecision(
      applied.ticket,
      {
        decision: 'approve_unreasonable',
        publicSummary: '某市民来电反映…',
        finding: '无事实依据',
        basis: '《条例》',
        reply: '感谢理解',
      },
      { kind: 'reviewer', id: 'r' },
      ctx(monday),
    );
    expect(approved.ticket).toMatchObject({
      status: 'closed',
      closure: 'unreasonable',
      assessed: {},
    });
    expect(approved.ticket.unreasonable).toMatchObject({
      ticketId: signed.id,
      category: 'no_factual_basis',
      callerName: '张三',
      callerPhone: '13800138000',
    });
    expect(approved.metrics).toEqual([
      { unitId: 'water-supply', counters: { received: -1, signedOnTime: -1 }, day: '2026-11-16' },
      { unitId: 'water-supply', counters: { unreasonableApproved: 1 } },
    ]);
  });

  it('takes the counters of an approved unreasonable ticket back in the days they were counted', () => {
    // Dispatched, signed and applied for on 2026-09-29, approved after National Day.
    const sept29 = new Date('2026-09-29T02:00:00Z');
    const signed = applyUnitAction(
      dispatched(sept29),
      'water-supply',
      { action: 'sign' },
      clerk,
      ctx(sept29),
    ).ticket;
    const applied = applyUnitAction(
      signed,
      'water-supply',
      { action: 'unreasonable', category: 'no_factual_basis', evidence: '检测正常' },
      clerk,
      ctx(sept29),
    ).ticket;
    const approved = applyCentreDecision(
      applied,
      {
        decision: 'approve_unreasonable',
        publicSummary: '某市民来电反映…',
        finding: '无事实依据',
        basis: '《条例》',
        reply: '感谢理解',
      },
      { kind: 'reviewer', id: 'r' },
      at('2026-10-08T02:00:00Z'),
    );
    expect(approved.metrics).toEqual([
      { unitId: 'water-supply', counters: { received: -1, signedOnTime: -1 }, day: '2026-09-29' },
      { unitId: 'water-supply', counters: { unreasonableApproved: 1 } },
    ]);
    expect(approved.ticket.assessed).toEqual({});
  });

  it('takes back an approved return in the day the returning unit signed, not the day of the decision', () => {
    const signed = applyUnitAction(
      dispatched(monday),
      'water-supply',
      { action: 'sign' },
      clerk,
      ctx(monday),
    ).ticket;
    const returned = applyUnitAction(
      signed,
      'water-supply',
      { action: 'return', reason: '属于供热公司管辖' },
      clerk,
      at('2026-11-17T02:00:00Z'),
    ).ticket;
    const again = applyCentreDecision(
      returned,
      { decision: 'dispatch', lead: 'heating-supply', assist: [] },
      dispatcher,
      at('2026-11-18T02:00:00Z'),
    );
    expect(again.metrics).toEqual([
      {
        unitId: 'water-supply',
        counters: { received: -1, signedOnTime: -1 },
        day: '2026-11-16',
      },
      { unitId: 'heating-supply', counters: { received: 1 } },
    ]);
    expect(again.history.details).toMatchObject({ returnApproved: 'water-supply' });
  });

  it('reads the counters of a ticket stored before days were recorded as counted on its dispatch day', () => {
    const ticket = dispatched(monday);
    const legacy = {
      ...ticket,
      assessed: { 'water-supply': { received: 1 } },
    } as unknown as Ticket;
    const returned = applyUnitAction(
      legacy,
      'water-supply',
      { action: 'return', reason: '非我单位' },
      clerk,
      at('2026-11-17T02:00:00Z'),
    ).ticket;
    expect(returned.assessed).toEqual({
      'water-supply': { '2026-11-16': { received: 1 }, '2026-11-17': { returned: 1 } },
    });
  });

  it('gives back the remaining time when an unreasonable application is refused', () => {
    const signed = applyUnitAction(
      dispatched(monday),
      'water-supply',
      { action: 'sign' },
      clerk,
      ctx(monday),
    ).ticket;
    const remaining = Date.parse(signed.deadlines.replyBy!) - monday.getTime();
    const applied = applyUnitAction(
      signed,
      'water-supply',
      { action: 'unreasonable', category: 'other', evidence: 'x' },
      clerk,
      ctx(monday),
    ).ticket;
    const later = new Date(monday.getTime() + 3 * 24 * 3600_000);
    const refused = applyCentreDecision(
      applied,
      { decision: 'refuse_unreasonable', note: '诉求合理' },
      { kind: 'reviewer', id: 'r' },
      ctx(later),
    );
    expect(refused.ticket.status).toBe('handling');
    expect(Date.parse(refused.ticket.deadlines.replyBy!) - later.getTime()).toBe(remaining);
  });

  function inCallback(overrides: Record<string, unknown> = {}) {
    const signed = applyUnitAction(
      dispatched(monday, overrides),
      'water-supply',
      { action: 'sign' },
      clerk,
      ctx(monday),
    ).ticket;
    const replied = applyUnitAction(
      signed,
      'water-supply',
      { action: 'reply', content: '已处理', resolved: true },
      clerk,
      ctx(monday),
    ).ticket;
    return surveyRequested(replied, `${replied.id}.1`, ctx(monday)).ticket;
  }

  it('records resolved and satisfaction separately and closes', () => {
    const ticket = inCallback();
    const t = surveyAnswered(
      ticket,
      { surveyId: `${ticket.id}.1`, resolved: false, satisfaction: 'basically_satisfied' },
      ctx(monday),
    )!;
    expect(t.ticket).toMatchObject({
      status: 'closed',
      closure: 'callback_done',
      survey: { reached: true, resolved: false, satisfaction: 'basically_satisfied' },
    });
    expect(t.metrics).toEqual([
      { unitId: 'water-supply', counters: { unresolved: 1, basicallySatisfied: 1 } },
    ]);
  });

  it('reopens an unresolved, unsatisfied ticket to the same unit, then escalates at the limit', () => {
    let ticket = inCallback();
    for (let reopen = 1; reopen <= config.maxReopens; reopen++) {
      const surveyId = ticket.surveys.at(-1)!.surveyId;
      const t = surveyAnswered(
        ticket,
        { surveyId, resolved: false, satisfaction: 'unsatisfied' },
        ctx(monday),
      )!;
      expect(t.ticket).toMatchObject({
        status: 'handling',
        leadUnit: 'water-supply',
        reopenCount: reopen,
      });
      const replied = applyUnitAction(
        t.ticket,
        'water-supply',
        { action: 'reply', content: '再次处理', resolved: true },
        clerk,
        ctx(monday),
      ).ticket;
      ticket = surveyRequested(
        replied,
        `${replied.id}.${replied.surveys.length + 1}`,
        ctx(monday),
      ).ticket;
    }
    const last = surveyAnswered(
      ticket,
      { surveyId: ticket.surveys.at(-1)!.surveyId, resolved: false, satisfaction: 'unsatisfied' },
      ctx(monday),
    )!;
    expect(last.ticket).toMatchObject({ status: 'closed', closure: 'reopen_limit' });
    expect(last.history.event).toBe('escalated');
  });

  it('records an unreachable caller as unreached after the last attempt, never as satisfied', () => {
    let ticket = inCallback();
    for (let attempt = 1; attempt < config.callback.attempts; attempt++) {
      ticket = surveyUnreached(
        ticket,
        { surveyId: ticket.surveys.at(-1)!.surveyId, outcome: 'busy' },
        ctx(monday),
      )!.ticket;
      expect(ticket.status).toBe('callback');
      ticket = surveyRequested(ticket, `${ticket.id}.${attempt + 1}`, ctx(monday)).ticket;
    }
    const last = surveyUnreached(
      ticket,
      { surveyId: ticket.surveys.at(-1)!.surveyId, outcome: 'no_answer' },
      ctx(monday),
    )!;
    expect(last.ticket).toMatchObject({
      status: 'closed',
      closure: 'unreached',
      survey: { reached: false },
    });
    expect(last.metrics).toEqual([{ unitId: 'water-supply', counters: { unreached: 1 } }]);
  });

  it('gives a reopened ticket a fresh set of callback attempts', () => {
    let ticket = inCallback();
    ticket = surveyUnreached(
      ticket,
      { surveyId: ticket.surveys.at(-1)!.surveyId, outcome: 'busy' },
      ctx(monday),
    )!.ticket;
    ticket = surveyRequested(ticket, `${ticket.id}.2`, ctx(monday)).ticket;
    ticket = surveyAnswered(
      ticket,
      { surveyId: `${ticket.id}.2`, resolved: false, satisfaction: 'unsatisfied' },
      ctx(monday),
    )!.ticket;
    expect(ticket.status).toBe('handling');
    ticket = applyUnitAction(
      ticket,
      'water-supply',
      { action: 'reply', content: '再次处理', resolved: true },
      clerk,
      ctx(monday),
    ).ticket;
    ticket = surveyRequested(ticket, `${ticket.id}.3`, ctx(monday)).ticket;
    // Two attempts were used before the reopen; this round's first busy line is not the last try.
    const busy = surveyUnreached(
      ticket,
      { surveyId: `${ticket.id}.3`, outcome: 'busy' },
      ctx(monday),
    )!;
    expect(busy.ticket.status).toBe('callback');
  });

  it('closes at intake a consultation answered on the spot, or an out-of-scope matter', () => {
    const answered = openTicket({
      id: '20261118-000003',
      intake: intake({
        category: '咨询',
        disposition: { kind: 'answered', answer: '办理时间为工作日9:00-17:00' },
      }),
      actor: operator,
      at: monday,
    });
    expect(answered.ticket).toMatchObject({ status: 'closed', closure: 'answered_on_the_spot' });
    const referred = openTicket({
      id: '20261118-000004',
      intake: intake({ disposition: { kind: 'referred', referral: 'litigation' } }),
      actor: operator,
      at: monday,
    });
    expect(referred.ticket).toMatchObject({
      status: 'closed',
      closure: 'referred',
      referral: 'litigation',
    });
    expect(nextStep(referred.ticket, ctx(monday)).kind).toBe('done');
  });

  it('asks the centre when no dispatch rule fits', () => {
    const opened = openTicket({
      id: '20261118-000005',
      intake: intake(),
      actor: operator,
      at: monday,
    }).ticket;
    const queued = toManualDispatch(opened, 'no rule', ctx(monday)).ticket;
    expect(nextStep(queued, ctx(monday))).toMatchObject({ kind: 'await_centre' });
    const routed = applyCentreDecision(
      queued,
      { decision: 'dispatch', lead: 'water-supply', assist: [] },
      dispatcher,
      ctx(monday),
    );
    expect(routed.ticket.status).toBe('dispatched');
  });

  it('gives the centre its own time limit per stage: a reminder, then 督办 at the limit, once each', () => {
    const opened = openTicket({
      id: '20261118-000006',
      intake: intake(),
      actor: operator,
      at: monday,
    }).ticket;
    let queued = toManualDispatch(opened, 'no rule', ctx(monday)).ticket;
    const { centreBy, centreRemindAt } = queued.deadlines;
    // Manual dispatch: two working hours, reminded one working hour before.
    expect(centreBy).toBe(calendar.addWorkingHours(monday, 2).toISOString());
    expect(centreRemindAt).toBe(calendar.addWorkingHours(monday, 1).toISOString());
    // The workflow's wait times out at the reminder, not after a year.
    expect(nextStep(queued, ctx(monday))).toEqual({
      kind: 'await_centre',
      timeoutSeconds: 3600,
      version: queued.version,
    });
    const events: string[] = [];
    for (const moment of [centreRemindAt!, centreBy!]) {
      expect(nextStep(queued, at(moment)).kind).toBe('chase');
      const chased = dueDeadlineEvent(queued, at(moment))!;
      events.push(chased.history.event);
      expect(chased.history.details).toMatchObject({ stage: 'awaiting_dispatch', centreBy });
      expect(chased.metrics).toEqual([]);
      queued = chased.ticket;
    }
    expect(events).toEqual(['centre_reminded', 'centre_overdue']);
    expect(dueDeadlineEvent(queued, at('2026-12-30T02:00:00Z'))).toBeUndefined();
    // Leaving the centre's stage stops its clock; a unit's request starts the next one afresh.
    const routed = applyCentreDecision(
      queued,
      { decision: 'dispatch', lead: 'water-supply', assist: [] },
      dispatcher,
      at(centreBy!),
    ).ticket;
    expect(routed.deadlines.centreBy).toBeUndefined();
    expect(routed.chase).toEqual({});
    const returned = applyUnitAction(
      routed,
      'water-supply',
      { action: 'return', reason: '非我单位' },
      clerk,
      at('2026-11-17T02:00:00Z'),
    ).ticket;
    expect(returned.deadlines.centreBy).toBe(
      calendar.addWorkingDays(new Date('2026-11-17T02:00:00Z'), 1).toISOString(),
    );
    expect(returned.chase.centreOverdueAt).toBeUndefined();
  });

  it('validates the centre time limits in the configuration', () => {
    expect(parseLifecycleConfig({}).centre.unreasonable_review).toEqual({
      amount: 3,
      unit: 'workingDays',
    });
    const hours4 = { amount: 4, unit: 'workingHours' } as const;
    expect(parseLifecycleConfig({ centre: { awaiting_dispatch: hours4 } }).centre).toMatchObject({
      awaiting_dispatch: hours4,
      return_review: { amount: 1, unit: 'workingDays' },
    });
    expect(() =>
      parseLifecycleConfig({ centre: { return_review: { amount: -1, unit: 'workingDays' } } }),
    ).toThrow(/centre\.return_review\.amount/);
  });
});

describe('deadlines as people read them', () => {
  it('shows a limit ending at midnight in Qingshan as 24:00 of its last day', () => {
    expect(deadlineText('2026-12-11T16:00:00.000Z')).toBe('2026-12-11 24:00');
    expect(deadlineText('2026-11-17T02:00:00.000Z')).toBe('2026-11-17 10:00');
    expect(deadlineText(undefined)).toBe('—');
  });
});

describe('who sees what', () => {
  const ticket = dispatched(new Date('2026-11-16T02:00:00Z'));

  it('lets a unit see only tickets it handles', () => {
    expect(() =>
      assertCanView({ subject: 'c', role: 'unit', unitId: 'water-supply' }, ticket),
    ).not.toThrow();
    expect(() =>
      assertCanView({ subject: 'c', role: 'unit', unitId: 'power-supply' }, ticket),
    ).toThrow(ForbiddenError);
    expect(() => assertCanView({ subject: 's', role: 'supervisor' }, ticket)).not.toThrow();
  });

  it('never shows a unit the phone number, nor a confidential caller at all', () => {
    const unit = { subject: 'c', role: 'unit', unitId: 'water-supply' } as const;
    expect(redactFor(unit, ticket).caller).toEqual({ name: '张三' });
    expect(redactFor(unit, { ...ticket, confidential: true }).caller).toBeUndefined();
    expect(redactFor({ subject: 'o', role: 'operator' }, ticket).caller?.phone).toBe('13800138000');
  });
});

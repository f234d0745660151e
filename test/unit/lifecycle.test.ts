import { describe, expect, it } from 'vitest';
import { assertCanView, redactFor } from '#core/access';
import { WorkingCalendar } from '#core/calendar';
import { type Catalogue, catalogueSchema, routeByCatalogue } from '#core/catalogue';
import { parseLifecycleConfig } from '#core/config';
import { ForbiddenError } from '#core/errors';
import {
  closeTicket,
  deadlinesFor,
  dispatchTicket,
  dueDeadlineEvent,
  nextStep,
  openTicket,
  recordReply,
} from '#core/lifecycle';
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
  const decision = routeByCatalogue(topic(opened.topic), opened.place, units);
  if (decision.kind !== 'unit') throw new Error('expected a unit');
  return dispatchTicket(opened, {
    decision,
    deadlines: deadlinesFor(opened, config, calendar.addDuration, at),
    at,
  }).ticket;
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

  it('gives a complaint 15 working days and reminds one working day earlier', () => {
    const ticket = dispatched(monday);
    expect(ticket.deadlines.replyBy).toBe(calendar.addWorkingDays(monday, 15).toISOString());
    expect(ticket.deadlines.remindAt).toBe(calendar.addWorkingDays(monday, 14).toISOString());
    expect(ticket.deadlines.reportAt).toBe(
      calendar.addWorkingDays(new Date(ticket.deadlines.replyBy!), 3).toISOString(),
    );
  });

  it('gives an urgent ticket 24 natural hours', () => {
    const ticket = dispatched(monday, { urgency: 'urgent' });
    expect(ticket.deadlines.replyBy).toBe('2026-11-17T02:00:00.000Z');
  });

  it('chases in order: reminder, overdue, report, each once', () => {
    let ticket = dispatched(monday);
    const { remindAt, replyBy, reportAt } = ticket.deadlines;
    expect(nextStep(ticket, monday)).toMatchObject({ kind: 'await_unit' });
    const events: string[] = [];
    for (const at of [remindAt!, replyBy!, reportAt!]) {
      expect(nextStep(ticket, new Date(at)).kind).toBe('chase');
      const t = dueDeadlineEvent(ticket, new Date(at))!;
      events.push(t.history.event);
      ticket = t.ticket;
      expect(dueDeadlineEvent(ticket, new Date(at))).toBeUndefined();
    }
    expect(events).toEqual(['reminded', 'overdue', 'marked_for_report']);
    expect(nextStep(ticket, new Date(reportAt!))).toMatchObject({
      kind: 'await_unit',
      timeoutSeconds: 365 * 24 * 3600,
    });
  });

  it('waits exactly until the next deadline event', () => {
    const ticket = dispatched(monday);
    const step = nextStep(ticket, monday);
    expect(step).toEqual({
      kind: 'await_unit',
      timeoutSeconds: (Date.parse(ticket.deadlines.remindAt!) - monday.getTime()) / 1000,
    });
  });

  it('records the reply, whether it was on time, and closes with full history', () => {
    const ticket = dispatched(monday);
    const replied = recordReply(ticket, {
      reply: { content: '已恢复供水', resolved: true },
      unitId: 'water-supply',
      actor: { kind: 'unit', id: 'clerk', unitId: 'water-supply' },
      at: new Date('2026-11-17T02:00:00Z'),
    });
    expect(replied.history).toMatchObject({
      from: 'dispatched',
      to: 'replied',
      details: { onTime: true },
    });
    const closed = closeTicket(replied.ticket, new Date('2026-11-17T03:00:00Z'));
    expect(closed.ticket).toMatchObject({ status: 'closed', version: ticket.version + 2 });
    expect(nextStep(closed.ticket, new Date()).kind).toBe('done');
  });

  it('refuses a reply to a ticket that is not waiting for one', () => {
    const opened = openTicket({
      id: '20261118-000002',
      intake: intake(),
      actor: operator,
      at: monday,
    }).ticket;
    expect(() =>
      recordReply(opened, {
        reply: { content: 'x', resolved: true },
        unitId: 'u',
        actor: operator,
        at: monday,
      }),
    ).toThrow(/cannot reply/);
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

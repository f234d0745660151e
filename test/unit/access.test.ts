import { describe, expect, it } from 'vitest';
import {
  type Principal,
  redactFor,
  redactHistoryFor,
  STAFF_ROLES,
  type StaffRole,
} from '#core/access';
import { WorkingCalendar } from '#core/calendar';
import { type Catalogue, catalogueSchema, routeByCatalogue } from '#core/catalogue';
import { parseLifecycleConfig } from '#core/config';
import {
  applyCentreDecision,
  applyUnitAction,
  type Context,
  dispatchTicket,
  openTicket,
  surveyAnswered,
  surveyRequested,
  toManualDispatch,
} from '#core/lifecycle';
import { intakeSchema, STATUSES, type Ticket } from '#core/ticket';
import calendarData from '#data/calendar/cn-holidays.json' with { type: 'json' };
import sampleCounty from '#data/sample-county.json' with { type: 'json' };

const county: Catalogue = catalogueSchema.parse(sampleCounty);
const units = new Map(county.units.map((u) => [u.id, u]));
const calendar = new WorkingCalendar(calendarData);
const config = parseLifecycleConfig({});
const monday = new Date('2026-11-16T02:00:00Z');
const ctx: Context = { at: monday, config, add: calendar.addDuration };
const operator = { kind: 'operator', id: 'op-1' } as const;
const clerk = { kind: 'unit', id: 'c', unitId: 'water-supply' } as const;

const PHONE = '13912345678';
const NAME = '李四保密';
const ADDRESS = '青山路88号3单元';
const CALL_ID = 'call-7d1e';

/**
 * What each role may see, written out independently of core/access.ts: a path is allowed when it
 * equals or lies under one of these. Anything else that reaches the role is a leak.
 */
const CENTRE_PATHS = ['*'];
const UNIT_PATHS = [
  'id',
  'channel',
  'caller.name',
  'confidential',
  'noCallback',
  'content',
  'category',
  'topic',
  'place',
  'urgency',
  'noSubstance',
  'disposition',
  'status',
  'leadUnit',
  'assistingUnits',
  'dispatchedAt',
  'signedAt',
  'deadlines',
  'chase',
  'pending',
  'reply',
  'returnedBy',
  'extendedWorkingDays',
  'reopenCount',
  'surveys',
  'survey',
  'unreasonable.ticketId',
  'unreasonable.category',
  'unreasonable.publicSummary',
  'unreasonable.finding',
  'unreasonable.basis',
  'unreasonable.reply',
  'unreasonable.approvedAt',
  'unreasonable.topic',
  'unreasonable.district',
  'mergedInto',
  'referral',
  'answer',
  'closure',
  'createdAt',
  'updatedAt',
  'closedAt',
  'version',
];
const ALLOWED: Record<StaffRole, string[]> = {
  operator: CENTRE_PATHS,
  dispatcher: CENTRE_PATHS,
  reviewer: CENTRE_PATHS,
  supervisor: CENTRE_PATHS,
  unit: UNIT_PATHS,
};

function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return [prefix];
  return entries.flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

const allowed = (role: StaffRole, path: string) =>
  ALLOWED[role].some((p) => p === '*' || path === p || path.startsWith(`${p}.`));

function intake(confidential: boolean) {
  return intakeSchema.parse({
    caller: { name: NAME, phone: PHONE },
    confidential,
    callId: CALL_ID,
    content: '小区停水三天了',
    category: '投诉',
    topic: 'water-supply',
    place: { district: 'qingshan', township: 'chengguan', address: ADDRESS },
  });
}

/** Tickets in every stage, as the real transitions leave them (incl. unreasonable, merged, reopened). */
function ticketsInEveryStage(confidential: boolean): Ticket[] {
  const opened = openTicket({
    id: '20261116-000001',
    intake: intake(confidential),
    actor: operator,
    at: monday,
    flaggedRepeatCaller: true,
  }).ticket;
  const merged = openTicket({
    id: '20261116-000002',
    intake: intake(confidential),
    actor: operator,
    at: monday,
    mergeInto: { ticketId: opened.id, reason: 'same_place' },
  }).ticket;
  const manual = toManualDispatch(opened, 'no rule', ctx).ticket;
  const route = routeByCatalogue(
    county.topics.find((t) => t.id === 'water-supply')!,
    opened.place,
    units,
  );
  if (route.kind !== 'unit') throw new Error('expected a unit');
  const dispatched = dispatchTicket(
    opened,
    { lead: route.lead, assist: route.assist, actor: operator, reason: 'test' },
    ctx,
  ).ticket;
  const act = (t: Ticket, action: Parameters<typeof applyUnitAction>[2]) =>
    applyUnitAction(t, 'water-supply', action, clerk, ctx).ticket;
  const handling = act(dispatched, { action: 'sign' });
  const returned = act(handling, { action: 'return', reason: '不属本单位' });
  const extension = act(handling, { action: 'extend', workingDays: 3, reason: '需协调' });
  const applied = act(handling, {
    action: 'unreasonable',
    category: 'no_factual_basis',
    evidence: '检测正常',
  });
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
    ctx,
  ).ticket;
  const replied = act(handling, { action: 'reply', content: '已修复', resolved: true });
  const requested = surveyRequested(replied, 'survey-1', ctx).ticket;
  const reopened = surveyAnswered(
    requested,
    { surveyId: 'survey-1', resolved: false, satisfaction: 'unsatisfied' },
    ctx,
  )!.ticket;
  const stages = [
    opened,
    merged,
    manual,
    dispatched,
    handling,
    returned,
    extension,
    applied,
    approved,
    replied,
    requested,
    reopened,
  ];
  // Every status, with every field a stage may have set, and an attribute nobody classified.
  const everything = {
    ...approved,
    ...reopened,
    unreasonable: approved.unreasonable,
    mergedInto: opened.id,
    pending: applied.pending,
    reply: replied.reply,
    referral: 'other_channel',
    answer: '已答复',
    survey: { reached: true, resolved: false, satisfaction: 'unsatisfied' },
    closure: 'unreasonable',
    closedAt: monday.toISOString(),
    internalNote: PHONE,
  } as Ticket;
  return [...stages, ...STATUSES.map((status) => ({ ...everything, status }))];
}

const principal = (role: StaffRole): Principal =>
  role === 'unit'
    ? { subject: 'c', role, unitId: 'water-supply' }
    : { subject: `dev-${role}`, role };

describe('what each role sees of a ticket', () => {
  const all = [...ticketsInEveryStage(false), ...ticketsInEveryStage(true)];

  it('has the stages the test claims: approved unreasonable, merged and reopened among them', () => {
    expect(all.some((t) => t.unreasonable?.callerPhone === PHONE)).toBe(true);
    expect(all.some((t) => t.status === 'merged')).toBe(true);
    expect(all.some((t) => t.reopenCount > 0)).toBe(true);
  });

  it('gives no role a field outside its allow-list', () => {
    for (const role of STAFF_ROLES) {
      for (const ticket of all) {
        const leaks = leafPaths(redactFor(principal(role), ticket)).filter(
          (path) => !allowed(role, path),
        );
        expect(leaks, `${role} sees of a ${ticket.status} ticket`).toEqual([]);
      }
    }
  });

  it('shows the phone number and call id to the centre roles only', () => {
    for (const role of STAFF_ROLES) {
      for (const ticket of all) {
        const text = JSON.stringify(redactFor(principal(role), ticket));
        if (role === 'unit') {
          expect(text, `${role}, ${ticket.status}`).not.toContain(PHONE);
          expect(text, `${role}, ${ticket.status}`).not.toContain(CALL_ID);
        } else {
          expect(text, `${role}, ${ticket.status}`).toContain(PHONE);
        }
      }
    }
  });

  it('hides a confidential caller from the units in every stage, incl. after approve_unreasonable', () => {
    for (const ticket of ticketsInEveryStage(true)) {
      const text = JSON.stringify(redactFor(principal('unit'), ticket));
      expect(text, ticket.status).not.toContain(NAME);
      expect(text, ticket.status).not.toContain(PHONE);
    }
    const approved = ticketsInEveryStage(true).find((t) => t.unreasonable)!;
    const view = redactFor(principal('unit'), approved);
    expect(view.unreasonable).toMatchObject({ publicSummary: '某市民来电反映…' });
    expect(view.unreasonable).not.toHaveProperty('callerPhone');
    expect(view.unreasonable).not.toHaveProperty('callerName');
    expect(view.unreasonable).not.toHaveProperty('callerAddress');
  });

  it('shows a unit a non-confidential caller by name only', () => {
    const view = redactFor(principal('unit'), ticketsInEveryStage(false)[3]!);
    expect(view.caller).toEqual({ name: NAME });
  });
});

describe("what each role sees of a ticket's history", () => {
  it("keeps the centre's notes on the caller out of the details a unit sees", () => {
    const flagged = openTicket({
      id: '20261116-000009',
      intake: intake(false),
      actor: operator,
      at: monday,
      flaggedRepeatCaller: true,
    }).history;
    const merged = openTicket({
      id: '20261116-000010',
      intake: intake(false),
      actor: operator,
      at: monday,
      mergeInto: { ticketId: '20261116-000009', reason: 'same_caller_same_place' },
    }).history;
    const unit = redactHistoryFor(principal('unit'), [flagged, merged]);
    expect(JSON.stringify(unit)).not.toContain('flaggedRepeatCaller');
    expect(unit[0]).not.toHaveProperty('details');
    expect(unit[1]?.details).toEqual({ mergedInto: '20261116-000009' });
    const centre = redactHistoryFor(principal('dispatcher'), [flagged, merged]);
    expect(centre[0]?.details).toEqual({ flaggedRepeatCaller: true });
    expect(centre[1]?.details).toMatchObject({ mergeReason: 'same_caller_same_place' });
  });
});

import { shanghaiDate } from './calendar.ts';
import type { LifecycleConfig, LimitDuration } from './config.ts';
import { replyLimit } from './config.ts';
import { ConflictError } from './errors.ts';
import type { Duplicate } from './ports.ts';
import type {
  Actor,
  CentreDecision,
  HistoryEntry,
  Intake,
  MetricCounter,
  Satisfaction,
  SurveyAttempt,
  Ticket,
  TicketStatus,
  UnitAction,
} from './ticket.ts';
import { CENTRE_STAGES, MERGE_REASONS, METRIC_COUNTERS, UNIT_STAGES } from './ticket.ts';

/** Adds a time limit to an instant on the hotline's calendar (working days, hours…). */
export type AddDuration = (from: Date, duration: LimitDuration) => Date;

/** What a transition adds to one unit's assessment counters (per day and per month). */
export interface MetricDelta {
  unitId: string;
  counters: Partial<Record<MetricCounter, number>>;
  /**
   * The day (Asia/Shanghai, YYYY-MM-DD) these counters belong to, when not the transition's own:
   * a correction takes a counter back in the day and month it was counted in, so that no period
   * is left with a count it should not have, nor a negative one.
   */
  day?: string;
}

/**
 * A change to a ticket, the history line that explains it and the metrics it moves; the store
 * writes all three in one transaction conditioned on the ticket's version, so a retried step can
 * neither lose nor double-count an event.
 */
export interface Transition {
  before: Ticket | null;
  ticket: Ticket;
  history: HistoryEntry;
  metrics: MetricDelta[];
}

export interface Context {
  at: Date;
  config: LifecycleConfig;
  add: AddDuration;
}

export const SYSTEM: Actor = { kind: 'system', id: 'workflow' };

/** Counters that describe the unit's work, and so are taken back if the ticket is unreasonable. */
const ASSESSED: readonly MetricCounter[] = METRIC_COUNTERS.filter(
  (c) => !c.startsWith('unreasonable'),
);

type Assessed = Ticket['assessed'];
type DayCounters = Partial<Record<MetricCounter, number>>;

/**
 * What the ticket has counted, per unit and per day. Tickets stored before the day was recorded
 * hold counters directly under the unit; those are read as counted on the dispatch day.
 */
function assessedOf(ticket: Ticket): Assessed {
  const out: Assessed = {};
  for (const [unitId, value] of Object.entries(ticket.assessed ?? {})) {
    const entries = Object.entries(value ?? {});
    if (entries.some(([, v]) => typeof v === 'number')) {
      const day = shanghaiDate(ticket.dispatchedAt ?? ticket.createdAt);
      out[unitId] = { [day]: { ...(value as DayCounters) } };
    } else {
      out[unitId] = structuredClone(value as Record<string, DayCounters>);
    }
  }
  return out;
}

function addAssessed(ticket: Ticket, metrics: MetricDelta[], at: Date): Assessed {
  const assessed = assessedOf(ticket);
  const today = shanghaiDate(at);
  for (const { unitId, counters, day = today } of metrics) {
    for (const [counter, n] of Object.entries(counters) as [MetricCounter, number][]) {
      if (!ASSESSED.includes(counter)) continue;
      const unit = assessed[unitId] ?? {};
      const onDay = unit[day] ?? {};
      const sum = (onDay[counter] ?? 0) + n;
      if (sum === 0) delete onDay[counter];
      else onDay[counter] = sum;
      if (Object.keys(onDay).length > 0) unit[day] = onDay;
      else delete unit[day];
      if (Object.keys(unit).length > 0) assessed[unitId] = unit;
      else delete assessed[unitId];
    }
  }
  return assessed;
}

/**
 * The deltas that take back what the ticket counted for a unit (or every unit), each in the day
 * it was counted, limited to `only` counters when given.
 */
function takeBack(ticket: Ticket, unitId?: string, only?: readonly MetricCounter[]): MetricDelta[] {
  const deltas: MetricDelta[] = [];
  for (const [unit, days] of Object.entries(assessedOf(ticket))) {
    if (unitId !== undefined && unit !== unitId) continue;
    for (const [day, counters] of Object.entries(days)) {
      const back = Object.fromEntries(
        (Object.entries(counters) as [MetricCounter, number][])
          .filter(([k, n]) => n && (!only || only.includes(k)))
          .map(([k, n]) => [k, -n]),
      );
      if (Object.keys(back).length > 0) deltas.push({ unitId: unit, counters: back, day });
    }
  }
  return deltas;
}

function change(
  before: Ticket,
  patch: Partial<Ticket>,
  line: {
    at: Date;
    actor: Actor;
    event: string;
    reason: string;
    details?: Record<string, unknown>;
  },
  metrics: MetricDelta[] = [],
): Transition {
  const at = line.at.toISOString();
  const ticket: Ticket = {
    ...before,
    ...patch,
    assessed: addAssessed({ ...before, ...patch } as Ticket, metrics, line.at),
    updatedAt: at,
    version: before.version + 1,
  };
  return {
    before,
    ticket,
    history: {
      version: ticket.version,
      at,
      actor: line.actor,
      event: line.event,
      from: before.status,
      to: ticket.status,
      reason: line.reason,
      ...(line.details ? { details: line.details } : {}),
    },
    metrics,
  };
}

function expectStatus(ticket: Ticket, allowed: readonly TicketStatus[], action: string): void {
  if (!allowed.includes(ticket.status)) {
    throw new ConflictError(`ticket ${ticket.id} is ${ticket.status}; cannot ${action}`, [
      { field: 'status', problem: `is ${ticket.status}, expected ${allowed.join(' or ')}` },
    ]);
  }
}

function refuse(field: string, problem: string): never {
  throw new ConflictError(`${field}: ${problem}`, [{ field, problem }]);
}

const iso = (d: Date) => d.toISOString();

// ─── Intake ──────────────────────────────────────────────────────────────────────────────────

export function openTicket(input: {
  id: string;
  intake: Intake;
  actor: Actor;
  at: Date;
  /** An open ticket about the same matter (并单): this one follows its outcome. */
  mergeInto?: Duplicate;
  flaggedRepeatCaller?: boolean;
}): Transition {
  const at = iso(input.at);
  const { intake } = input;
  const base: Ticket = {
    ...intake,
    id: input.id,
    status: 'received',
    assistingUnits: [],
    deadlines: {},
    chase: {},
    returnedBy: [],
    extendedWorkingDays: 0,
    reopenCount: 0,
    surveys: [],
    assessed: {},
    createdAt: at,
    updatedAt: at,
    version: 1,
    ...(input.flaggedRepeatCaller ? { flaggedRepeatCaller: true } : {}),
  };
  let ticket = base;
  let reason = `受理 via ${intake.channel}`;
  let details: Record<string, unknown> | undefined;
  if (input.mergeInto) {
    const { ticketId, reason: why } = input.mergeInto;
    ticket = { ...base, status: 'merged', mergedInto: ticketId, mergeReason: why };
    reason = `并单: ${MERGE_REASONS[why].zh}，并入工单 ${ticketId} (${MERGE_REASONS[why].en})`;
    details = { mergedInto: ticketId, mergeReason: why };
  } else if (intake.disposition.kind === 'answered') {
    ticket = {
      ...base,
      status: 'closed',
      closure: 'answered_on_the_spot',
      answer: intake.disposition.answer,
      closedAt: at,
    };
    reason = '直接办结: consultation answered on the spot';
  } else if (intake.disposition.kind === 'referred') {
    ticket = {
      ...base,
      status: 'closed',
      closure: 'referred',
      referral: intake.disposition.referral,
      closedAt: at,
    };
    reason = `告知: out of the hotline's scope (${intake.disposition.referral})`;
  }
  return {
    before: null,
    ticket,
    history: {
      version: 1,
      at,
      actor: input.actor,
      event:
        ticket.status === 'received'
          ? 'received'
          : ticket.status === 'merged'
            ? 'merged'
            : 'closed_at_intake',
      from: null,
      to: ticket.status,
      reason,
      ...(details || input.flaggedRepeatCaller
        ? {
            details: {
              ...details,
              ...(input.flaggedRepeatCaller ? { flaggedRepeatCaller: true } : {}),
            },
          }
        : {}),
    },
    metrics: [],
  };
}

// ─── Deadlines ───────────────────────────────────────────────────────────────────────────────

/**
 * A reminder `before` ahead of `deadline` when both are counted in the same unit; otherwise at
 * four fifths of the allowed time, so a short urgent limit still gets one.
 */
function reminderFor(
  from: Date,
  limit: LimitDuration,
  before: LimitDuration,
  deadline: Date,
  add: AddDuration,
): Date {
  if (before.unit === limit.unit && before.amount < limit.amount) {
    return add(from, { amount: limit.amount - before.amount, unit: limit.unit });
  }
  return new Date(from.getTime() + (deadline.getTime() - from.getTime()) * 0.8);
}

function replyDeadlines(ticket: Ticket, from: Date, ctx: Context): Ticket['deadlines'] {
  const limit = replyLimit(ctx.config, ticket.category, ticket.urgency);
  const replyBy = ctx.add(from, limit);
  return replyDeadlinesEndingAt(from, replyBy, limit, ctx);
}

function replyDeadlinesEndingAt(from: Date, replyBy: Date, limit: LimitDuration, ctx: Context) {
  return {
    replyBy: iso(replyBy),
    remindAt: iso(reminderFor(from, limit, ctx.config.remindBefore, replyBy, ctx.add)),
    reportAt: iso(ctx.add(replyBy, ctx.config.reportAfter)),
  };
}

/** All deadlines of a ticket dispatched at `ctx.at`: sign-for and reply. */
export function deadlinesFor(ticket: Ticket, ctx: Context): Ticket['deadlines'] {
  const signLimit = ctx.config.signFor[ticket.urgency];
  const signBy = ctx.add(ctx.at, signLimit);
  return {
    signBy: iso(signBy),
    signRemindAt: iso(reminderFor(ctx.at, signLimit, ctx.config.signRemindBefore, signBy, ctx.add)),
    ...replyDeadlines(ticket, ctx.at, ctx),
  };
}

// ─── Dispatch ────────────────────────────────────────────────────────────────────────────────

/** The counters of the response rate (响应率), which an approved return takes back. */
const RESPONSE_COUNTERS: readonly MetricCounter[] = ['received', 'signedOnTime', 'signedLate'];

export function dispatchTicket(
  ticket: Ticket,
  input: { lead: string; assist: string[]; actor: Actor; reason: string },
  ctx: Context,
): Transition {
  expectStatus(ticket, ['received', 'awaiting_dispatch', 'return_review'], 'dispatch');
  const redispatch = ticket.status === 'return_review';
  // Re-dispatching approves the return as correct: the ticket was never the returning unit's,
  // so it leaves that unit's response rate (in the days it counted in); the bounce still counts.
  const approvedReturn =
    redispatch && ticket.pending?.kind === 'return'
      ? takeBack(ticket, ticket.pending.unitId, RESPONSE_COUNTERS)
      : [];
  return change(
    ticket,
    {
      status: 'dispatched',
      leadUnit: input.lead,
      assistingUnits: input.assist.filter((u) => u !== input.lead),
      dispatchedAt: iso(ctx.at),
      signedAt: undefined,
      deadlines:
        redispatch && ticket.deadlines.replyBy
          ? { ...deadlinesFor(ticket, ctx), ...keepReply(ticket) }
          : deadlinesFor(ticket, ctx),
      chase: {},
      pending: undefined,
    },
    {
      at: ctx.at,
      actor: input.actor,
      event: redispatch ? 'redispatched' : 'dispatched',
      reason: input.reason,
      details: {
        lead: input.lead,
        assist: input.assist,
        ...(redispatch && ticket.pending?.kind === 'return'
          ? { returnApproved: ticket.pending.unitId }
          : {}),
      },
    },
    [...approvedReturn, { unitId: input.lead, counters: { received: 1 } }],
  );
}

/** A re-dispatched ticket keeps the citizen's original reply deadline: bouncing buys no time. */
function keepReply(ticket: Ticket): Ticket['deadlines'] {
  const { replyBy, remindAt, reportAt } = ticket.deadlines;
  return { replyBy, remindAt, reportAt };
}

/**
 * Starts the centre's own clock when a ticket enters a stage in which the centre must decide,
 * and stops it when the ticket leaves: the limit of that stage, a reminder before it, and the
 * chase fields of both, fresh for each stage.
 */
function centreClock(transition: Transition, ctx: Context): Transition {
  const { before, ticket } = transition;
  const { centreBy, centreRemindAt, ...deadlines } = ticket.deadlines;
  const { centreRemindedAt, centreOverdueAt, ...chase } = ticket.chase;
  const inCentre = CENTRE_STAGES.includes(ticket.status);
  if (inCentre && before?.status === ticket.status) return transition;
  if (!inCentre && !centreBy && !centreRemindAt && !centreRemindedAt && !centreOverdueAt)
    return transition;
  if (!inCentre) return { ...transition, ticket: { ...ticket, deadlines, chase } };
  const { remindBefore, ...limits } = ctx.config.centre;
  const limit = limits[ticket.status as keyof typeof limits];
  const by = ctx.add(ctx.at, limit);
  return {
    ...transition,
    ticket: {
      ...ticket,
      deadlines: {
        ...deadlines,
        centreBy: iso(by),
        centreRemindAt: iso(reminderFor(ctx.at, limit, remindBefore, by, ctx.add)),
      },
      chase,
    },
  };
}

export function toManualDispatch(ticket: Ticket, reason: string, ctx: Context): Transition {
  expectStatus(ticket, ['received'], 'queue for manual dispatch');
  return centreClock(
    change(
      ticket,
      { status: 'awaiting_dispatch' },
      {
        at: ctx.at,
        actor: SYSTEM,
        event: 'manual_dispatch_needed',
        reason: `待人工派单: ${reason}`,
      },
    ),
    ctx,
  );
}

// ─── What the lead unit does ─────────────────────────────────────────────────────────────────

export function applyUnitAction(
  ticket: Ticket,
  unitId: string,
  action: UnitAction,
  actor: Actor,
  ctx: Context,
): Transition {
  return centreClock(unitAction(ticket, unitId, action, actor, ctx), ctx);
}

function unitAction(
  ticket: Ticket,
  unitId: string,
  action: UnitAction,
  actor: Actor,
  ctx: Context,
): Transition {
  if (ticket.leadUnit !== unitId) refuse('unit', 'only the lead unit may act on this ticket');
  expectStatus(ticket, UNIT_STAGES, action.action);
  const at = iso(ctx.at);
  const line = { at: ctx.at, actor };
  switch (action.action) {
    case 'sign': {
      expectStatus(ticket, ['dispatched'], 'sign for it');
      const onTime = !ticket.deadlines.signBy || at <= ticket.deadlines.signBy;
      return change(
        ticket,
        { status: 'handling', signedAt: at },
        { ...line, event: 'signed', reason: '签收', details: { onTime } },
        [{ unitId, counters: onTime ? { signedOnTime: 1 } : { signedLate: 1 } }],
      );
    }
    case 'note':
      return change(ticket, {}, { ...line, event: 'note', reason: action.note });
    case 'reply': {
      expectStatus(ticket, ['handling'], 'reply (sign for it first)');
      const onTime = !ticket.deadlines.replyBy || at <= ticket.deadlines.replyBy;
      const { action: _, ...reply } = action;
      return change(
        ticket,
        {
          status: ctx.config.replyReview ? 'reply_review' : 'callback',
          reply: { ...reply, unitId, repliedAt: at },
        },
        {
          ...line,
          event: 'replied',
          reason: action.resolved ? '回复: resolved' : '回复: not resolved',
          details: { onTime },
        },
        [{ unitId, counters: onTime ? { repliedOnTime: 1 } : { repliedLate: 1 } }],
      );
    }
    case 'return': {
      const window = ticket.dispatchedAt
        ? ctx.add(new Date(ticket.dispatchedAt), ctx.config.returnWithin)
        : undefined;
      if (window && ctx.at > window)
        refuse(
          'action',
          `a ticket can only be returned within ${ctx.config.returnWithin.amount} ${ctx.config.returnWithin.unit} of dispatch`,
        );
      return change(
        ticket,
        {
          status: 'return_review',
          pending: { kind: 'return', unitId, reason: action.reason, at },
          returnedBy: [...ticket.returnedBy, unitId],
        },
        {
          ...line,
          event: 'return_requested',
          reason: `退单: ${action.reason}`,
          details: { bounces: ticket.returnedBy.length + 1 },
        },
        [{ unitId, counters: { returned: 1 } }],
      );
    }
    case 'extend': {
      expectStatus(ticket, ['handling'], 'ask for an extension');
      if (ticket.deadlines.replyBy && at > ticket.deadlines.replyBy)
        refuse('action', 'an extension must be asked for before the deadline');
      const left = ctx.config.maxExtensionWorkingDays - ticket.extendedWorkingDays;
      if (action.workingDays > left)
        refuse('workingDays', `at most ${left} more working days can be granted`);
      return change(
        ticket,
        {
          status: 'extension_review',
          pending: {
            kind: 'extension',
            unitId,
            workingDays: action.workingDays,
            reason: action.reason,
            at,
          },
        },
        {
          ...line,
          event: 'extension_requested',
          reason: `延期申请: ${action.reason}`,
          details: { workingDays: action.workingDays },
        },
      );
    }
    case 'unreasonable': {
      const remainingMs = ticket.deadlines.replyBy
        ? Math.max(0, Date.parse(ticket.deadlines.replyBy) - ctx.at.getTime())
        : 0;
      return change(
        ticket,
        {
          status: 'unreasonable_review',
          pending: {
            kind: 'unreasonable',
            unitId,
            category: action.category,
            evidence: action.evidence,
            at,
            remainingMs,
          },
        },
        { ...line, event: 'unreasonable_requested', reason: `不合理诉求申请: ${action.category}` },
        [{ unitId, counters: { unreasonableApplied: 1 } }],
      );
    }
  }
}

// ─── What the centre decides ─────────────────────────────────────────────────────────────────

export function applyCentreDecision(
  ticket: Ticket,
  decision: CentreDecision,
  actor: Actor,
  ctx: Context,
): Transition {
  return centreClock(centreDecision(ticket, decision, actor, ctx), ctx);
}

function centreDecision(
  ticket: Ticket,
  decision: CentreDecision,
  actor: Actor,
  ctx: Context,
): Transition {
  const line = { at: ctx.at, actor };
  switch (decision.decision) {
    case 'dispatch':
      expectStatus(ticket, ['awaiting_dispatch', 'return_review'], 'dispatch');
      if (ticket.status === 'return_review' && decision.lead === ticket.pending?.unitId) {
        refuse('lead', 'use send_back to give the ticket back to the unit that returned it');
      }
      return dispatchTicket(
        ticket,
        {
          lead: decision.lead,
          assist: decision.assist,
          actor,
          reason: decision.note ?? '派单: by a dispatcher',
        },
        ctx,
      );
    case 'send_back': {
      expectStatus(ticket, ['return_review'], 'send back');
      return change(
        ticket,
        { status: ticket.signedAt ? 'handling' : 'dispatched', pending: undefined },
        { ...line, event: 'return_refused', reason: `退单不予认可: ${decision.note}` },
      );
    }
    case 'approve_extension':
    case 'refuse_extension': {
      expectStatus(ticket, ['extension_review'], 'decide an extension');
      const pending = ticket.pending;
      if (pending?.kind !== 'extension') refuse('status', 'no extension is pending');
      if (decision.decision === 'refuse_extension') {
        return change(
          ticket,
          { status: 'handling', pending: undefined },
          { ...line, event: 'extension_refused', reason: `延期不予批准: ${decision.note}` },
        );
      }
      const granted = Math.min(
        decision.workingDays ?? pending.workingDays,
        ctx.config.maxExtensionWorkingDays - ticket.extendedWorkingDays,
      );
      if (granted < 1) refuse('workingDays', 'the extension cap is reached');
      // The extension runs on from the old deadline, and so does its reminder: the configured
      // lead time before the new deadline, not a count of days from the approval.
      const from = new Date(ticket.deadlines.replyBy ?? iso(ctx.at));
      const extension: LimitDuration = { amount: granted, unit: 'workingDays' };
      const replyBy = ctx.add(from, extension);
      return change(
        ticket,
        {
          status: 'handling',
          pending: undefined,
          extendedWorkingDays: ticket.extendedWorkingDays + granted,
          deadlines: {
            ...ticket.deadlines,
            ...replyDeadlinesEndingAt(from, replyBy, extension, ctx),
          },
          chase: {
            ...ticket.chase,
            remindedAt: undefined,
            overdueAt: undefined,
            reportedAt: undefined,
          },
        },
        {
          ...line,
          event: 'extension_approved',
          reason: `延期批准: ${granted} working days; the caller is told the new date`,
          details: {
            workingDays: granted,
            replyBy: iso(replyBy),
            callerInformed: !ticket.noCallback,
          },
        },
        [{ unitId: pending.unitId, counters: { extended: 1 } }],
      );
    }
    case 'approve_unreasonable':
    case 'refuse_unreasonable': {
      expectStatus(ticket, ['unreasonable_review'], 'decide an unreasonable-request application');
      const pending = ticket.pending;
      if (pending?.kind !== 'unreasonable') refuse('status', 'no application is pending');
      if (decision.decision === 'refuse_unreasonable') {
        const replyBy = new Date(ctx.at.getTime() + pending.remainingMs);
        const limit = replyLimit(ctx.config, ticket.category, ticket.urgency);
        return change(
          ticket,
          {
            status: 'handling',
            pending: undefined,
            deadlines: {
              ...ticket.deadlines,
              ...replyDeadlinesEndingAt(ctx.at, replyBy, limit, ctx),
            },
          },
          {
            ...line,
            event: 'unreasonable_refused',
            reason: `不合理诉求申请不予认定: ${decision.note}`,
            details: { replyBy: iso(replyBy) },
          },
        );
      }
      // Approved: the ticket leaves the unit's assessment entirely, as if it had never counted,
      // in every day and month it had counted in.
      const taken = takeBack(ticket);
      const { decision: _, ...record } = decision;
      const approved = change(
        ticket,
        {
          status: 'closed',
          closure: 'unreasonable',
          closedAt: iso(ctx.at),
          pending: undefined,
          unreasonable: {
            ticketId: ticket.id,
            category: pending.category,
            ...record,
            approvedAt: iso(ctx.at),
            ...(ticket.caller?.name ? { callerName: ticket.caller.name } : {}),
            ...(ticket.caller?.phone ? { callerPhone: ticket.caller.phone } : {}),
            ...(ticket.place.address ? { callerAddress: ticket.place.address } : {}),
            ...(ticket.callId ? { callId: ticket.callId } : {}),
          },
        },
        {
          ...line,
          event: 'unreasonable_approved',
          reason: `不合理诉求认定: ${pending.category}; excluded from assessment`,
        },
        [...taken, { unitId: pending.unitId, counters: { unreasonableApproved: 1 } }],
      );
      return approved;
    }
    case 'approve_reply':
    case 'return_reply':
      expectStatus(ticket, ['reply_review'], 'review the reply');
      return decision.decision === 'approve_reply'
        ? change(
            ticket,
            { status: 'callback' },
            { ...line, event: 'reply_approved', reason: '审核通过' },
          )
        : change(
            ticket,
            { status: 'handling', reply: undefined },
            { ...line, event: 'reply_returned', reason: `审核退回: ${decision.note}` },
          );
  }
}

/** Records whether the caller could be told (e.g. of a new reply date); the ticket stays as it is. */
export function callerInformed(
  ticket: Ticket,
  result: { accepted: boolean; via: string; reason?: string },
  ctx: Context,
): Transition {
  return change(
    ticket,
    {},
    {
      at: ctx.at,
      actor: SYSTEM,
      event: result.accepted ? 'caller_informed' : 'caller_not_informed',
      reason: result.accepted
        ? '告知来电人: new reply date sent'
        : `告知来电人失败: ${result.reason ?? 'refused'}`,
      details: { via: result.via },
    },
  );
}

// ─── Callback survey (回访) ──────────────────────────────────────────────────────────────────

export function surveyRequested(ticket: Ticket, surveyId: string, ctx: Context): Transition {
  expectStatus(ticket, ['callback'], 'survey the caller');
  const attempt: SurveyAttempt = {
    surveyId,
    round: ticket.reopenCount,
    requestedAt: iso(ctx.at),
    dueAt: iso(ctx.add(ctx.at, ctx.config.callback.attemptTimeout)),
  };
  return change(
    ticket,
    { surveys: [...ticket.surveys, attempt] },
    {
      at: ctx.at,
      actor: SYSTEM,
      event: 'survey_requested',
      reason: `回访: attempt ${attemptsThisRound(ticket) + 1}`,
      details: { surveyId },
    },
  );
}

function withOutcome(
  ticket: Ticket,
  surveyId: string,
  outcome: NonNullable<SurveyAttempt['outcome']>,
) {
  const index = ticket.surveys.findIndex((s) => s.surveyId === surveyId);
  if (index < 0 || ticket.surveys[index]!.outcome) return undefined;
  return ticket.surveys.map((s, i) => (i === index ? { ...s, outcome } : s));
}

const SATISFACTION_COUNTER: Record<Satisfaction, MetricCounter> = {
  satisfied: 'satisfied',
  basically_satisfied: 'basicallySatisfied',
  unsatisfied: 'unsatisfied',
};

/**
 * The caller answered. Resolved and satisfaction are recorded separately; an unresolved and
 * unsatisfied caller reopens the ticket (重办) to the same unit until the reopen limit, after
 * which the ticket is closed and marked for report rather than bounced forever.
 */
export function surveyAnswered(
  ticket: Ticket,
  input: { surveyId: string; resolved: boolean; satisfaction: Satisfaction },
  ctx: Context,
): Transition | undefined {
  if (ticket.status !== 'callback') return undefined;
  const surveys = withOutcome(ticket, input.surveyId, 'answered');
  if (!surveys) return undefined;
  const unitId = ticket.reply?.unitId ?? ticket.leadUnit!;
  const counters: MetricDelta['counters'] = {
    [input.resolved ? 'resolved' : 'unresolved']: 1,
    [SATISFACTION_COUNTER[input.satisfaction]]: 1,
  };
  const survey = { reached: true, resolved: input.resolved, satisfaction: input.satisfaction };
  const details = { resolved: input.resolved, satisfaction: input.satisfaction };
  const line = { at: ctx.at, actor: { kind: 'phone', id: input.surveyId } as Actor };
  if (!input.resolved && input.satisfaction === 'unsatisfied') {
    if (ticket.reopenCount < ctx.config.maxReopens) {
      return change(
        ticket,
        {
          status: 'handling',
          surveys,
          survey,
          reopenCount: ticket.reopenCount + 1,
          reply: undefined,
          deadlines: { ...ticket.deadlines, ...replyDeadlines(ticket, ctx.at, ctx) },
          chase: {},
        },
        {
          ...line,
          event: 'reopened',
          reason: `重办: unresolved and unsatisfied (reopen ${ticket.reopenCount + 1})`,
          details,
        },
        [{ unitId, counters: { ...counters, reopened: 1 } }],
      );
    }
    return change(
      ticket,
      {
        status: 'closed',
        closure: 'reopen_limit',
        closedAt: iso(ctx.at),
        surveys,
        survey,
        chase: { ...ticket.chase, reportedAt: iso(ctx.at) },
      },
      {
        ...line,
        event: 'escalated',
        reason: '督办: still unresolved after the reopen limit; closed and marked for report',
        details,
      },
      [{ unitId, counters }],
    );
  }
  return change(
    ticket,
    { status: 'closed', closure: 'callback_done', closedAt: iso(ctx.at), surveys, survey },
    { ...line, event: 'closed', reason: '办结: callback recorded', details },
    [{ unitId, counters }],
  );
}

/** Survey attempts since the last reply: a reopened ticket gets a fresh set of attempts. */
function attemptsThisRound(ticket: Ticket): number {
  return ticket.surveys.filter((s) => (s.round ?? 0) === ticket.reopenCount).length;
}

/** A survey attempt failed (busy, no answer, failed). After the last attempt: unreached. */
export function surveyUnreached(
  ticket: Ticket,
  input: { surveyId: string; outcome: 'busy' | 'no_answer' | 'failed'; reason?: string },
  ctx: Context,
): Transition | undefined {
  if (ticket.status !== 'callback') return undefined;
  const surveys = withOutcome(ticket, input.surveyId, input.outcome);
  if (!surveys) return undefined;
  const line = { at: ctx.at, actor: { kind: 'phone', id: input.surveyId } as Actor };
  const attempts = attemptsThisRound({ ...ticket, surveys });
  if (attempts >= ctx.config.callback.attempts) {
    const unitId = ticket.reply?.unitId ?? ticket.leadUnit!;
    return change(
      ticket,
      {
        status: 'closed',
        closure: 'unreached',
        closedAt: iso(ctx.at),
        surveys,
        survey: { reached: false },
      },
      {
        ...line,
        event: 'closed',
        reason: `办结: caller unreached after ${attempts} attempts (recorded as unreached, not satisfied)`,
      },
      [{ unitId, counters: { unreached: 1 } }],
    );
  }
  return change(
    ticket,
    { surveys },
    {
      ...line,
      event: 'survey_unreached',
      reason: `回访未接通: ${input.outcome}`,
      ...(input.reason ? { details: { reason: input.reason } } : {}),
    },
  );
}

/** Closes a ticket whose caller asked not to be called back, or left no number. */
export function closeWithoutCallback(ticket: Ticket, ctx: Context): Transition {
  expectStatus(ticket, ['callback'], 'close');
  return change(
    ticket,
    { status: 'closed', closure: 'no_callback', closedAt: iso(ctx.at) },
    {
      at: ctx.at,
      actor: SYSTEM,
      event: 'closed',
      reason: '办结: the caller asked for no callback or left no number',
    },
  );
}

export function wantsCallback(ticket: Ticket): boolean {
  return !ticket.noCallback && Boolean(ticket.caller?.phone);
}

// ─── Deadline events ─────────────────────────────────────────────────────────────────────────

type TimerEvent =
  | 'sign_reminded'
  | 'sign_overdue'
  | 'reminded'
  | 'overdue'
  | 'marked_for_report'
  | 'centre_reminded'
  | 'centre_overdue'
  | 'survey_timed_out';

function dueTimer(ticket: Ticket, now: string): TimerEvent | undefined {
  const d = ticket.deadlines;
  const c = ticket.chase;
  if (ticket.status === 'dispatched') {
    if (
      d.signRemindAt &&
      !c.signRemindedAt &&
      now >= d.signRemindAt &&
      (!d.signBy || now < d.signBy)
    )
      return 'sign_reminded';
    if (d.signBy && !c.signOverdueAt && now >= d.signBy) return 'sign_overdue';
  }
  if (ticket.status === 'dispatched' || ticket.status === 'handling') {
    if (d.remindAt && !c.remindedAt && now >= d.remindAt && (!d.replyBy || now < d.replyBy))
      return 'reminded';
    if (d.replyBy && !c.overdueAt && now >= d.replyBy) return 'overdue';
    if (d.reportAt && !c.reportedAt && now >= d.reportAt) return 'marked_for_report';
  }
  if (CENTRE_STAGES.includes(ticket.status)) {
    if (
      d.centreRemindAt &&
      !c.centreRemindedAt &&
      now >= d.centreRemindAt &&
      (!d.centreBy || now < d.centreBy)
    )
      return 'centre_reminded';
    if (d.centreBy && !c.centreOverdueAt && now >= d.centreBy) return 'centre_overdue';
  }
  if (ticket.status === 'callback') {
    const last = ticket.surveys.at(-1);
    if (last && !last.outcome && now >= last.dueAt) return 'survey_timed_out';
  }
  return undefined;
}

const TIMER_REASONS: Record<Exclude<TimerEvent, 'survey_timed_out'>, string> = {
  sign_reminded: '催签: the sign-for limit is near',
  sign_overdue: '督办: not signed for in time',
  reminded: '催办: the reply deadline is near',
  overdue: '督办: the reply deadline has passed',
  marked_for_report: '通报: still open after the escalation period',
  centre_reminded: '中心催办: the centre’s time limit for this stage is near',
  centre_overdue: '中心督办: the centre’s time limit for this stage has passed',
};

const TIMER_CHASE_FIELD: Record<Exclude<TimerEvent, 'survey_timed_out'>, keyof Ticket['chase']> = {
  sign_reminded: 'signRemindedAt',
  sign_overdue: 'signOverdueAt',
  reminded: 'remindedAt',
  overdue: 'overdueAt',
  marked_for_report: 'reportedAt',
  centre_reminded: 'centreRemindedAt',
  centre_overdue: 'centreOverdueAt',
};

/**
 * The deadline event due now, if any: reminders before a limit, the chase (督办) at it, the
 * report mark (通报) after it, or a survey attempt that went unanswered. A reminder whose moment
 * passed because the limit itself has passed is skipped rather than sent late.
 */
export function dueDeadlineEvent(ticket: Ticket, ctx: Context): Transition | undefined {
  const event = dueTimer(ticket, iso(ctx.at));
  if (!event) return undefined;
  if (event === 'survey_timed_out') {
    return surveyUnreached(
      ticket,
      { surveyId: ticket.surveys.at(-1)!.surveyId, outcome: 'no_answer' },
      ctx,
    );
  }
  const at = iso(ctx.at);
  const chase = { ...ticket.chase, [TIMER_CHASE_FIELD[event]]: at };
  if (event === 'overdue' && !chase.remindedAt) chase.remindedAt = 'skipped';
  if (event === 'sign_overdue' && !chase.signRemindedAt) chase.signRemindedAt = 'skipped';
  if (event === 'centre_overdue' && !chase.centreRemindedAt) chase.centreRemindedAt = 'skipped';
  const unitId = ticket.leadUnit;
  const details = event.startsWith('centre_')
    ? { stage: ticket.status, centreBy: ticket.deadlines.centreBy }
    : { unit: unitId };
  return change(
    ticket,
    { chase },
    { at: ctx.at, actor: SYSTEM, event, reason: TIMER_REASONS[event], details },
    event === 'overdue' && unitId ? [{ unitId, counters: { overdue: 1 } }] : [],
  );
}

/** The next moment a deadline event is due, or undefined when none is left. */
export function nextDeadlineAt(ticket: Ticket): Date | undefined {
  const d = ticket.deadlines;
  const c = ticket.chase;
  const pending: (string | undefined)[] = [];
  if (ticket.status === 'dispatched')
    pending.push(
      !c.signRemindedAt ? d.signRemindAt : undefined,
      !c.signOverdueAt ? d.signBy : undefined,
    );
  if (ticket.status === 'dispatched' || ticket.status === 'handling') {
    pending.push(
      !c.remindedAt ? d.remindAt : undefined,
      !c.overdueAt ? d.replyBy : undefined,
      !c.reportedAt ? d.reportAt : undefined,
    );
  }
  if (CENTRE_STAGES.includes(ticket.status)) {
    pending.push(
      !c.centreRemindedAt ? d.centreRemindAt : undefined,
      !c.centreOverdueAt ? d.centreBy : undefined,
    );
  }
  if (ticket.status === 'callback') {
    const last = ticket.surveys.at(-1);
    if (last && !last.outcome) pending.push(last.dueAt);
  }
  const due = pending.filter((x): x is string => Boolean(x)).sort()[0];
  return due ? new Date(due) : undefined;
}

// ─── The workflow's next step ────────────────────────────────────────────────────────────────

/**
 * What the workflow does next for a ticket, read from the ticket record alone. A wait carries the
 * version it was decided on: the step may reach the workflow after the ticket changed again (a
 * waker's SendTaskSuccess races the next action), and the waiting task then decides afresh.
 */
export type Step =
  | { kind: 'route' }
  | { kind: 'chase' }
  | { kind: 'await_unit'; timeoutSeconds: number; version: number }
  | { kind: 'await_centre'; timeoutSeconds: number; version: number }
  | { kind: 'survey'; timeoutSeconds: number; version: number }
  | { kind: 'close' }
  | { kind: 'done' };

export type WaitStep = Extract<Step, { timeoutSeconds: number }>;

/** A newly stored ticket (received, no deadline yet) is routed first, whatever else it holds. */
export const FIRST_STEP: Step = { kind: 'route' };

/**
 * Step Functions accepts task timeouts up to a year; a ticket with no deadline event left waits
 * that long, and a supervisor sees it in the overdue list meanwhile.
 */
export const LONGEST_WAIT_SECONDS = 365 * 24 * 3600;

function secondsUntil(due: Date | undefined, now: Date): number {
  if (!due) return LONGEST_WAIT_SECONDS;
  const seconds = Math.ceil((due.getTime() - now.getTime()) / 1000);
  return Math.min(Math.max(seconds, 1), LONGEST_WAIT_SECONDS);
}

export function nextStep(ticket: Ticket, ctx: Context): Step {
  const now = ctx.at;
  if (dueTimer(ticket, iso(now))) return { kind: 'chase' };
  const { version } = ticket;
  const timeoutSeconds = secondsUntil(nextDeadlineAt(ticket), now);
  switch (ticket.status) {
    case 'received':
      return { kind: 'route' };
    case 'dispatched':
    case 'handling':
      return { kind: 'await_unit', timeoutSeconds, version };
    case 'awaiting_dispatch':
    case 'return_review':
    case 'extension_review':
    case 'unreasonable_review':
    case 'reply_review':
      return { kind: 'await_centre', timeoutSeconds, version };
    case 'callback': {
      if (!wantsCallback(ticket)) return { kind: 'close' };
      const outstanding = ticket.surveys.at(-1);
      if (outstanding && !outstanding.outcome) return { kind: 'survey', timeoutSeconds, version };
      // The survey task starts a new attempt, which may take this long.
      return {
        kind: 'survey',
        timeoutSeconds: secondsUntil(ctx.add(now, ctx.config.callback.attemptTimeout), now),
        version,
      };
    }
    case 'closed':
    case 'merged':
      return { kind: 'done' };
  }
}

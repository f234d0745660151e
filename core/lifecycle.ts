import type { RoutingDecision } from './catalogue.ts';
import { type LifecycleConfig, type LimitDuration, replyLimit } from './config.ts';
import { ConflictError } from './errors.ts';
import type { Actor, HistoryEntry, Intake, Ticket, TicketStatus, UnitReply } from './ticket.ts';

/** Adds a time limit to an instant on the hotline's calendar (working days, hours…). */
export type AddDuration = (from: Date, duration: LimitDuration) => Date;

/** A change to a ticket and the history line that explains it; written together or not at all. */
export interface Transition {
  before: Ticket | null;
  ticket: Ticket;
  history: HistoryEntry;
}

export const SYSTEM: Actor = { kind: 'system', id: 'workflow' };

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
): Transition {
  const at = line.at.toISOString();
  const ticket: Ticket = { ...before, ...patch, updatedAt: at, version: before.version + 1 };
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
  };
}

function expectStatus(ticket: Ticket, allowed: TicketStatus[], action: string): void {
  if (!allowed.includes(ticket.status)) {
    throw new ConflictError(`ticket ${ticket.id} is ${ticket.status}; cannot ${action}`, [
      { field: 'status', problem: `is ${ticket.status}, expected ${allowed.join(' or ')}` },
    ]);
  }
}

export function openTicket(input: {
  id: string;
  intake: Intake;
  actor: Actor;
  at: Date;
}): Transition {
  const at = input.at.toISOString();
  const ticket: Ticket = {
    ...input.intake,
    id: input.id,
    status: 'received',
    assistingUnits: [],
    deadlines: {},
    chase: {},
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  return {
    before: null,
    ticket,
    history: {
      version: 1,
      at,
      actor: input.actor,
      event: 'received',
      from: null,
      to: 'received',
      reason: `受理 via ${input.intake.channel}`,
    },
  };
}

/**
 * Computes the reply deadline, the reminder point and the report point for a ticket dispatched
 * at `at`. The reminder sits `remindBefore` ahead of the deadline when both are counted in the
 * same unit; otherwise at four fifths of the allowed time, so a short urgent limit still gets one.
 */
export function deadlinesFor(
  ticket: Ticket,
  config: LifecycleConfig,
  addDuration: AddDuration,
  at: Date,
): Ticket['deadlines'] {
  const limit = replyLimit(config, ticket.category, ticket.urgency);
  const replyBy = addDuration(at, limit);
  const before = config.remindBefore;
  const remindAt =
    before.unit === limit.unit && before.amount < limit.amount
      ? addDuration(at, { amount: limit.amount - before.amount, unit: limit.unit })
      : new Date(at.getTime() + (replyBy.getTime() - at.getTime()) * 0.8);
  const reportAt = addDuration(replyBy, config.reportAfter);
  return {
    replyBy: replyBy.toISOString(),
    remindAt: remindAt.toISOString(),
    reportAt: reportAt.toISOString(),
  };
}

export function dispatchTicket(
  ticket: Ticket,
  input: {
    decision: Extract<RoutingDecision, { kind: 'unit' }>;
    deadlines: Ticket['deadlines'];
    at: Date;
  },
): Transition {
  expectStatus(ticket, ['received'], 'dispatch');
  const { lead, assist } = input.decision;
  return change(
    ticket,
    {
      status: 'dispatched',
      leadUnit: lead,
      assistingUnits: assist,
      deadlines: input.deadlines,
      chase: {},
    },
    {
      at: input.at,
      actor: SYSTEM,
      event: 'dispatched',
      reason: '派单: by the dispatch catalogue',
      details: { lead, assist, replyBy: input.deadlines.replyBy },
    },
  );
}

export function recordReply(
  ticket: Ticket,
  input: { reply: UnitReply; unitId: string; actor: Actor; at: Date },
): Transition {
  expectStatus(ticket, ['dispatched'], 'reply');
  const repliedAt = input.at.toISOString();
  const onTime = !ticket.deadlines.replyBy || repliedAt <= ticket.deadlines.replyBy;
  return change(
    ticket,
    { status: 'replied', reply: { ...input.reply, unitId: input.unitId, repliedAt } },
    {
      at: input.at,
      actor: input.actor,
      event: 'replied',
      reason: input.reply.resolved ? '回复: resolved' : '回复: not resolved',
      details: { onTime },
    },
  );
}

export function closeTicket(ticket: Ticket, at: Date): Transition {
  expectStatus(ticket, ['replied'], 'close');
  return change(
    ticket,
    { status: 'closed', closedAt: at.toISOString() },
    { at, actor: SYSTEM, event: 'closed', reason: '办结: the unit replied' },
  );
}

type TimerEvent = 'reminded' | 'overdue' | 'marked_for_report';

function dueTimer(ticket: Ticket, now: Date): TimerEvent | undefined {
  if (ticket.status !== 'dispatched') return undefined;
  const iso = now.toISOString();
  const { remindAt, replyBy, reportAt } = ticket.deadlines;
  if (remindAt && !ticket.chase.remindedAt && iso >= remindAt && (!replyBy || iso < replyBy)) {
    return 'reminded';
  }
  if (replyBy && !ticket.chase.overdueAt && iso >= replyBy) return 'overdue';
  if (reportAt && !ticket.chase.reportedAt && iso >= reportAt) return 'marked_for_report';
  return undefined;
}

/**
 * The deadline event due now, if any, as a transition: a reminder (催办) before the deadline, the
 * overdue chase (督办) at it, and the report mark (通报) after it. A reminder whose moment has
 * passed because the ticket is already overdue is skipped rather than sent late.
 */
export function dueDeadlineEvent(ticket: Ticket, now: Date): Transition | undefined {
  const event = dueTimer(ticket, now);
  if (!event) return undefined;
  const at = now.toISOString();
  const reasons: Record<TimerEvent, string> = {
    reminded: '催办: the reply deadline is near',
    overdue: '督办: the reply deadline has passed',
    marked_for_report: '通报: still open after the escalation period',
  };
  const chase =
    event === 'reminded'
      ? { ...ticket.chase, remindedAt: at }
      : event === 'overdue'
        ? { ...ticket.chase, overdueAt: at, remindedAt: ticket.chase.remindedAt ?? 'skipped' }
        : { ...ticket.chase, reportedAt: at };
  return change(
    ticket,
    { chase },
    { at: now, actor: SYSTEM, event, reason: reasons[event], details: { unit: ticket.leadUnit } },
  );
}

/** The next moment a deadline event is due, or undefined when none is left. */
export function nextDeadlineAt(ticket: Ticket): Date | undefined {
  if (ticket.status !== 'dispatched') return undefined;
  const { remindAt, replyBy, reportAt } = ticket.deadlines;
  const pending = [
    !ticket.chase.remindedAt ? remindAt : undefined,
    !ticket.chase.overdueAt ? replyBy : undefined,
    !ticket.chase.reportedAt ? reportAt : undefined,
  ].filter((d): d is string => Boolean(d));
  if (pending.length === 0) return undefined;
  return new Date(pending.sort()[0]!);
}

/** What the workflow does next for a ticket, read from the ticket record alone. */
export type Step =
  | { kind: 'route' }
  | { kind: 'chase' }
  | { kind: 'await_unit'; timeoutSeconds: number }
  | { kind: 'close' }
  | { kind: 'done' };

/**
 * Step Functions accepts task timeouts up to a year; a ticket with no deadline event left waits
 * that long for its unit, and a supervisor sees it in the overdue list meanwhile.
 */
export const LONGEST_WAIT_SECONDS = 365 * 24 * 3600;

export function nextStep(ticket: Ticket, now: Date): Step {
  switch (ticket.status) {
    case 'received':
      return { kind: 'route' };
    case 'dispatched': {
      if (dueDeadlineEvent(ticket, now)) return { kind: 'chase' };
      const due = nextDeadlineAt(ticket);
      const seconds = due
        ? Math.ceil((due.getTime() - now.getTime()) / 1000)
        : LONGEST_WAIT_SECONDS;
      return {
        kind: 'await_unit',
        timeoutSeconds: Math.min(Math.max(seconds, 1), LONGEST_WAIT_SECONDS),
      };
    }
    case 'replied':
      return { kind: 'close' };
    case 'closed':
      return { kind: 'done' };
  }
}

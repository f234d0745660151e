import { ForbiddenError } from './errors.ts';
import type { Actor, HistoryEntry, Ticket } from './ticket.ts';
import type { ApprovedUnreasonableCase } from './unreasonable.ts';

export const STAFF_ROLES = ['operator', 'dispatcher', 'unit', 'reviewer', 'supervisor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** Who is calling, as established by the authorizer (a JWT in AWS, a dev token locally). */
export interface Principal {
  subject: string;
  role: StaffRole;
  /** Present for the unit role: the unit the clerk works for. */
  unitId?: string;
}

export function requireRole(principal: Principal, allowed: readonly StaffRole[]): void {
  if (!allowed.includes(principal.role)) {
    throw new ForbiddenError(`the ${principal.role} role may not do this`, [
      {
        field: 'authorization',
        problem: `role ${principal.role} is not one of ${allowed.join(', ')}`,
      },
    ]);
  }
}

export function actorOf(principal: Principal): Actor {
  return {
    kind: principal.role,
    id: principal.subject,
    ...(principal.unitId ? { unitId: principal.unitId } : {}),
  };
}

function involves(ticket: Ticket, unitId: string | undefined): boolean {
  return Boolean(unitId) && (ticket.leadUnit === unitId || ticket.assistingUnits.includes(unitId!));
}

/** A unit sees only the tickets it handles; the hotline centre's roles see every ticket. */
export function assertCanView(principal: Principal, ticket: Ticket): void {
  if (principal.role === 'unit' && !involves(ticket, principal.unitId)) {
    throw new ForbiddenError('this ticket is not handled by your unit', [
      { field: 'id', problem: 'ticket belongs to another unit' },
    ]);
  }
}

/**
 * What each role may see of a stored ticket, field by field: an allow-list, so that a field added
 * to the ticket (or copied in by a later stage, like the approved unreasonable case) stays hidden
 * from a role until someone decides that role may see it. `true` shows the field as stored, a
 * function shows what it returns (nothing when it returns undefined), and every field the list
 * does not name is dropped. The `Record<keyof Ticket, …>` type makes a new ticket field a compile
 * error here until it is classified.
 */
type FieldRule<T> = boolean | ((value: T, ticket: Ticket) => unknown);
export type TicketPolicy = { [K in keyof Ticket]-?: FieldRule<Ticket[K]> };

/** Only what an anonymised bulletin publishes: never the caller's name, phone, address or call. */
export const PUBLIC_UNREASONABLE_FIELDS = [
  'ticketId',
  'category',
  'publicSummary',
  'finding',
  'basis',
  'reply',
  'approvedAt',
  'topic',
  'district',
] as const satisfies readonly (keyof ApprovedUnreasonableCase)[];

function pick<T extends object>(value: T | undefined, keys: readonly string[]): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(
    Object.entries(value).filter(([key, v]) => keys.includes(key) && v !== undefined),
  ) as Partial<T>;
}

/** The hotline centre's roles work with the caller (callback, survey): they see every field. */
const CENTRE_VIEW: TicketPolicy = {
  id: true,
  channel: true,
  caller: true,
  confidential: true,
  noCallback: true,
  content: true,
  category: true,
  topic: true,
  place: true,
  urgency: true,
  callId: true,
  noSubstance: true,
  disposition: true,
  status: true,
  leadUnit: true,
  assistingUnits: true,
  dispatchedAt: true,
  signedAt: true,
  deadlines: true,
  chase: true,
  pending: true,
  reply: true,
  returnedBy: true,
  extendedWorkingDays: true,
  reopenCount: true,
  surveys: true,
  survey: true,
  unreasonable: true,
  mergedInto: true,
  mergeReason: true,
  topicChoice: true,
  referral: true,
  answer: true,
  flaggedRepeatCaller: true,
  assessed: true,
  closure: true,
  createdAt: true,
  updatedAt: true,
  closedAt: true,
  version: true,
};

/**
 * A handling unit (承办单位) needs the matter, the place and its own deadlines. It never gets the
 * caller's phone number or call id (only the centre calls back), a confidential caller (举报人保密)
 * not even a name, and of an approved unreasonable case only what the bulletin publishes.
 */
const UNIT_VIEW: TicketPolicy = {
  ...CENTRE_VIEW,
  caller: (caller, ticket) =>
    ticket.confidential || !caller ? undefined : caller.name ? { name: caller.name } : {},
  callId: false,
  unreasonable: (value) => (value ? pick(value, PUBLIC_UNREASONABLE_FIELDS) : undefined),
  // Repeat-caller flags and other units' assessment counters are the centre's business.
  flaggedRepeatCaller: false,
  assessed: false,
  // "Same caller" would tell a unit that a confidential caller called before.
  mergeReason: false,
};

export const VIEW_POLICIES: Record<StaffRole, TicketPolicy> = {
  operator: CENTRE_VIEW,
  dispatcher: CENTRE_VIEW,
  reviewer: CENTRE_VIEW,
  supervisor: CENTRE_VIEW,
  unit: UNIT_VIEW,
};

/** What a viewer may see of a ticket, by the viewer's role (see VIEW_POLICIES). */
export function redactFor(principal: Principal, ticket: Ticket): Ticket {
  const policy = VIEW_POLICIES[principal.role] as Record<string, FieldRule<unknown>>;
  const view: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(ticket)) {
    const rule = policy[field];
    if (!rule || value === undefined) continue;
    const shown = rule === true ? value : rule(value, ticket);
    if (shown !== undefined) view[field] = shown;
  }
  return view as unknown as Ticket;
}

/**
 * What a unit may see of a history line's details, by allow-list like the ticket: the facts of
 * its handling, never the centre's notes on the caller (a repeat-caller flag, why tickets were
 * merged, the model's suggestions).
 */
const UNIT_HISTORY_DETAILS = new Set([
  'onTime',
  'bounces',
  'workingDays',
  'replyBy',
  'callerInformed',
  'via',
  'surveyId',
  'resolved',
  'satisfaction',
  'lead',
  'assist',
  'returnApproved',
  'mergedInto',
  'topic',
  'previousTopic',
  'failedState',
  'error',
  'resumeAt',
  'fields',
  'holdId',
]);

/** A ticket's history as the viewer's role may see it (see UNIT_HISTORY_DETAILS). */
export function redactHistoryFor(principal: Principal, history: HistoryEntry[]): HistoryEntry[] {
  if (principal.role !== 'unit') return history;
  return history.map(({ details, ...line }) => {
    const kept = Object.entries(details ?? {}).filter(([key]) => UNIT_HISTORY_DETAILS.has(key));
    return kept.length > 0 ? { ...line, details: Object.fromEntries(kept) } : line;
  });
}

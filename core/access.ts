import { ForbiddenError } from './errors.ts';
import type { Actor, Ticket } from './ticket.ts';

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
 * What a viewer may see of a ticket: a confidential caller (举报人保密) is hidden from units, and
 * units never get the caller's phone number, which only the centre uses for the callback.
 */
export function redactFor(principal: Principal, ticket: Ticket): Ticket {
  if (principal.role !== 'unit') return ticket;
  const { caller, ...rest } = ticket;
  if (ticket.confidential || !caller) return rest;
  return { ...rest, caller: caller.name ? { name: caller.name } : {} };
}

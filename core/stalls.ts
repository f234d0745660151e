import type { Ticket } from './ticket.ts';

/**
 * A ticket whose workflow step kept failing after its retries (停滞): the execution recorded it
 * and ended, the ticket record is untouched, and a fresh execution resumes it at its stage.
 */
export interface StalledTicket {
  ticketId: string;
  stalledAt: string;
  /** The state that failed, e.g. `Route`; never the error's cause (it may quote data). */
  failedState: string;
  /** The error name Step Functions reported, e.g. `States.Timeout`. */
  error: string;
  /** How many times this ticket was resumed before; the next execution is `<id>-r<resumes + 1>`. */
  resumes: number;
  /** Not resumed before this instant: a step that keeps failing is retried ever more rarely. */
  resumeAt: string;
}

export interface StallStore {
  /** Marks the ticket stalled (listed, due for resumption) and appends a history line. */
  markStalled(
    stall: Omit<StalledTicket, 'resumes' | 'resumeAt'>,
    ticket: Ticket,
  ): Promise<StalledTicket>;
  /** Stalled tickets due for resumption at `atIso`, soonest first, at most `limit`. */
  due(atIso: string, limit: number): Promise<StalledTicket[]>;
  /** Every stalled ticket, soonest resumption first. */
  list(): Promise<StalledTicket[]>;
  /** Takes the ticket off the stalled list; false when someone else resumed it first. */
  markResumed(stall: StalledTicket, atIso: string): Promise<boolean>;
}

export interface StallDeps {
  stalls: StallStore;
  getTicket(id: string): Promise<Ticket | undefined>;
  /** Starts a new execution under a fresh name (a name once used is refused in AWS). */
  startLifecycle(ticketId: string, attempt: number): Promise<void>;
  now: () => Date;
}

/** First resumption after five minutes, then doubling, at most once a day. */
export function resumeDelayMs(resumes: number): number {
  return Math.min(5 * 60_000 * 2 ** Math.min(resumes, 16), 24 * 3600_000);
}

export const executionName = (ticketId: string, attempt: number) =>
  attempt === 0 ? ticketId : `${ticketId}-r${attempt}`;

export async function recordStall(
  deps: StallDeps,
  failure: { ticketId: string; failedState: string; error: string },
): Promise<StalledTicket | undefined> {
  const ticket = await deps.getTicket(failure.ticketId);
  if (!ticket) return undefined;
  return deps.stalls.markStalled({ ...failure, stalledAt: deps.now().toISOString() }, ticket);
}

/**
 * Resumes the stalled tickets that are due: one Query of the sparse stalled index, so the cost
 * grows with the stalled count, never with the table. A closed ticket just leaves the list.
 */
export async function resumeDueStalls(
  deps: StallDeps,
  limit = 50,
): Promise<{ resumed: string[]; cleared: string[] }> {
  const at = deps.now().toISOString();
  const resumed: string[] = [];
  const cleared: string[] = [];
  for (const stall of await deps.stalls.due(at, limit)) {
    if (!(await deps.stalls.markResumed(stall, at))) continue;
    const ticket = await deps.getTicket(stall.ticketId);
    if (!ticket || ticket.status === 'closed' || ticket.status === 'merged') {
      cleared.push(stall.ticketId);
      continue;
    }
    await deps.startLifecycle(stall.ticketId, stall.resumes + 1);
    resumed.push(stall.ticketId);
  }
  return { resumed, cleared };
}

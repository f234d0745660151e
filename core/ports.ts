import type { Area, Topic, Unit } from './catalogue.ts';
import type { Transition } from './lifecycle.ts';
import type { HistoryEntry, Ticket } from './ticket.ts';

/**
 * A human step the workflow is waiting for. The Step Functions task token stays here, server-side;
 * the unit only ever sees the opaque reply id.
 */
export interface Wait {
  ticketId: string;
  kind: 'unit_reply';
  unitId: string;
  replyId: string;
  taskToken: string;
  issuedAt: string;
}

/** What a reply link (the opaque id in a unit's mail) leads to. */
export interface ReplyLink {
  replyId: string;
  ticketId: string;
  unitId: string;
  kind: Wait['kind'];
  status: 'open' | 'used';
  createdAt: string;
}

export interface TicketDetail {
  ticket: Ticket;
  history: HistoryEntry[];
  wait?: Wait;
}

/** Things written in the same all-or-nothing write as a transition. */
export interface SaveOptions {
  /** Starts a new wait (replacing the previous one) and its reply link. */
  openWait?: Wait;
  /** Ends the current wait: only if it is still the one with this reply id. */
  consumeWait?: { replyId: string };
}

export interface TicketStore {
  /** The next ticket number of the day, like 20261121-000123, from an atomic counter. */
  nextTicketId(day: string): Promise<string>;
  /** Throws VersionConflictError when the ticket changed since `transition.before` was read. */
  save(transition: Transition, options?: SaveOptions): Promise<void>;
  openWait(wait: Wait): Promise<void>;
  get(id: string): Promise<Ticket | undefined>;
  getDetail(id: string): Promise<TicketDetail | undefined>;
  getReplyLink(replyId: string): Promise<ReplyLink | undefined>;
}

export interface CatalogueStore {
  getTopic(id: string): Promise<Topic | undefined>;
  getArea(id: string): Promise<Area | undefined>;
  getUnit(id: string): Promise<Unit | undefined>;
  listUnits(): Promise<Unit[]>;
}

export interface Mail {
  to: string[];
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

export interface Workflow {
  /** Starts (or, for a ticket already running, finds) the lifecycle execution of a ticket. */
  startLifecycle(ticketId: string): Promise<void>;
  /**
   * Wakes the workflow waiting on `taskToken`. Returns 'stale' when that wait already ended
   * (timed out, superseded): a normal race, because the ticket record is the truth either way.
   */
  resume(taskToken: string, output: unknown): Promise<'resumed' | 'stale'>;
}

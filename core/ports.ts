import type { Area, Topic, Unit } from './catalogue.ts';
import type { DispatchModel, Suggestion } from './dispatch-model/model.ts';
import type { Step, Transition } from './lifecycle.ts';
import type { HistoryEntry, MergeReason, Ticket } from './ticket.ts';

/**
 * What the workflow of a ticket is waiting for: the lead unit, the hotline centre, or the phone
 * system's survey. The Step Functions task token stays here, server-side; a unit only ever sees
 * the opaque reply id of its link.
 */
export interface Wait {
  ticketId: string;
  party: 'unit' | 'centre' | 'phone';
  /** The ticket status this wait belongs to. */
  stage: string;
  unitId?: string;
  /** The unit's link: one per assignment, kept across the unit's stages and chase mails. */
  replyId?: string;
  surveyId?: string;
  /** Absent once used: an action that already woke the workflow does not wake it twice. */
  taskToken?: string;
  issuedAt: string;
  /** The last event the waiting party was mailed about, so nothing is mailed twice. */
  mailedAt?: string;
}

/** What a unit's link (the opaque id in its mail) leads to. */
export interface ReplyLink {
  replyId: string;
  ticketId: string;
  unitId: string;
  createdAt: string;
}

export interface TicketDetail {
  ticket: Ticket;
  history: HistoryEntry[];
  wait?: Wait;
}

/** An open ticket a new one is merged into (并单), and why they are the same matter. */
export interface Duplicate {
  ticketId: string;
  reason: MergeReason;
}

/**
 * Things written in the same all-or-nothing write as a transition. (A unit's link needs no check
 * of its own: a link is replaced only with a new assignment, a change of the ticket's version.)
 */
export interface SaveOptions {
  /** Another adapter's items, stored with the ticket or not at all (see WriteAlongside). */
  alongside?: WriteAlongside;
}

/**
 * Items another adapter stores in a new ticket's own write, so that both are stored or neither:
 * a phone delivery's record and effects, an Idempotency-Key's answer. Opaque to the domain; if
 * the condition of one of them fails, save throws AlongsideRefusedError with its index.
 */
export interface WriteAlongside {
  readonly items: readonly object[];
}

export interface TicketStore {
  /** The next ticket number of the day, like 20261121-000123, from an atomic counter. */
  nextTicketId(day: string): Promise<string>;
  /** Throws VersionConflictError when the ticket changed since `transition.before` was read. */
  save(transition: Transition, options?: SaveOptions): Promise<void>;
  /**
   * Stores the current wait (a new reply id also gets its link item, unless `linkStored` says an
   * earlier wait stored it) if the ticket is still at `ticketVersion`. False means the ticket
   * moved meanwhile and nobody will wake this wait.
   */
  putWait(wait: Wait, ticketVersion: number, options?: { linkStored?: boolean }): Promise<boolean>;
  getWait(ticketId: string): Promise<Wait | undefined>;
  /** Takes the task token out of the wait, so that exactly one caller wakes the workflow. */
  takeToken(ticketId: string, token: string): Promise<boolean>;
  /** An open ticket about the same matter (the same place, or the same caller at the same place). */
  findOpenDuplicate(ticket: Ticket, sinceIso: string): Promise<Duplicate | undefined>;
  /**
   * How many calls without substantive content this ticket's caller made in the 30 days before
   * it. The ticket's own call is recorded by `save`, in the ticket's write.
   */
  countContentlessCalls(ticket: Ticket): Promise<number>;
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

export interface SurveyRequest {
  surveyId: string;
  ticketId: string;
  /** The caller's number; adapters must not log it. */
  callee: string;
}

/**
 * What a survey request came to, for the ticket's history. Never holds the callee's number.
 * `accepted: false` means the phone system refused or could not be reached after the retries.
 */
export type SurveyRequestResult =
  | { accepted: true; via: string; attempts: number; callId?: string }
  | { accepted: false; via: string; attempts: number; reason: string };

/** Asks the phone system to survey a caller (回访); the result comes back as a webhook. */
export interface SurveyRequester {
  /** Adapters return a SurveyRequestResult; undefined only from test doubles with nothing to say. */
  requestSurvey(request: SurveyRequest): Promise<SurveyRequestResult | undefined>;
}

export interface CallerNotification {
  /** Stable per event, so that a phone system sees a retry as the same message. */
  notificationId: string;
  ticketId: string;
  /** The caller's number; adapters must not log it. */
  callee: string;
  /** The message (Simplified Chinese), with no personal data in it. */
  text: string;
}

/** Tells a caller something by the phone system's SMS or voice (e.g. a new reply date). */
export interface CallerNotifier {
  notifyCaller(notification: CallerNotification): Promise<SurveyRequestResult | undefined>;
}

export interface Workflow {
  /**
   * Starts (or, for a ticket already running, finds) the lifecycle execution of a ticket. A
   * stalled ticket is resumed with `attempt` > 0: a new execution under a fresh name. Without
   * `step` the execution starts by reading the ticket (NextStep); a starter that knows the step
   * (a newly stored ticket is routed) saves it that read.
   */
  startLifecycle(ticketId: string, attempt?: number, step?: Step): Promise<void>;
  /**
   * Wakes the workflow waiting on `taskToken`. Returns 'stale' when that wait already ended
   * (timed out, superseded): a normal race, because the ticket record is the truth either way.
   */
  resume(taskToken: string, output: unknown): Promise<'resumed' | 'stale'>;
}

/** Where dispatch models are kept: every version, and which one is promoted (with its previous). */
export interface DispatchModelStore {
  /** The promoted version and the one it replaced (for rollback), if any was promoted. */
  pointer(): Promise<{ version: string; previous?: string; promotedAt: string } | undefined>;
  get(version: string): Promise<DispatchModel | undefined>;
  put(model: DispatchModel): Promise<void>;
  /** Makes `version` the current model, keeping the one it replaces as `previous`. */
  promote(version: string, at: Date): Promise<void>;
}

/** The dispatch model's suggestions for a request (智能派单). */
export interface TopicClassifier {
  suggest(text: string): Promise<{
    modelVersion: string;
    /** Above this probability the top topic is taken without a dispatcher. */
    threshold: number;
    suggestions: Suggestion[];
  }>;
}

/**
 * What an accepted phone-system delivery does (issue 4). The webhook adapters in core/phone/
 * have already verified and normalised the request into `PhoneEvent`s; this decides the effects
 * and hands them to the store in one all-or-nothing write with the delivery record.
 *
 * Exactly once, even across crashes:
 *  - A delivery id is recorded (conditional put) in the same transaction as every effect that is
 *    a plain item (call record, call-back entry, survey result, dead letter, call status). A retry
 *    after a crash before that write finds nothing recorded and does it all again; a retry after
 *    it is a duplicate and does nothing.
 *  - A call's ticket is that transaction too: the ticket's own write carries the delivery record,
 *    its effects and the call's ticket number (`CALL#…/TICKET`, put if absent), so the ticket and
 *    its delivery are stored together or not at all (a crash before costs a ticket number, never
 *    a second ticket). The call's number also stops a copy delivered under another id from filing
 *    a second ticket: that copy finds the call's ticket and records its delivery without one.
 *    A delivery with a call-back effect, or with several tickets, records itself separately
 *    after its tickets; the call's number then still keeps it to one ticket per call.
 *  - Survey results go through the lifecycle (recordSurveyAnswer/Unreachable), which ignores a
 *    survey that already has an outcome, so re-applying one after a crash changes nothing.
 */

import { shanghaiDate } from './calendar.ts';
import {
  ConflictError,
  fieldError,
  NotFoundError,
  schemaProblems,
  ValidationError,
} from './errors.ts';
import {
  type Accepted,
  type CallStatus,
  isCallStatusRegression,
  type PhoneEvent,
  type PhoneEventOf,
  type PhoneProvider,
} from './phone/events.ts';
import type { WriteAlongside } from './ports.ts';
import { type Intake, intakeSchema, type Ticket } from './ticket.ts';
import { AlongsideRefusedError, type CheckedIntake } from './tickets.ts';

export interface CallbackEntry {
  callId: string;
  provider: PhoneProvider;
  occurredAt: string;
  /** The number to call back; null when withheld. Only centre staff ever see this list. */
  callerNumber: string | null;
  calledNumber: string | null;
  reason: PhoneEventOf<'call.missed'>['reason'];
  waitSeconds?: number;
  /** Set once a member of staff has called back (or decided no call is needed). */
  done?: CallbackDone;
}

export const CALLBACK_OUTCOMES = ['reached', 'no_answer', 'not_needed'] as const;
export type CallbackOutcome = (typeof CALLBACK_OUTCOMES)[number];

/** Who marked a call-back done, when, and how it went. */
export interface CallbackDone {
  by: string;
  role: string;
  at: string;
  outcome: CallbackOutcome;
  note?: string;
}

/** Where a call's call-back entry is: the list of the day the call was missed. */
export interface CallbackRef {
  provider: PhoneProvider;
  callId: string;
  day: string;
  occurredAt: string;
  done?: CallbackDone;
}

export type PhoneEffect =
  | {
      kind: 'call';
      part: 'RECEIVED' | 'COMPLETED' | 'MISSED';
      provider: PhoneProvider;
      callId: string;
      occurredAt: string;
      callerNumber: string | null;
      calledNumber: string | null;
      ticketId?: string;
      durationSeconds?: number;
    }
  | { kind: 'callback'; day: string; entry: CallbackEntry }
  | {
      kind: 'survey';
      /** The survey id, or `call:<provider>:<callId>` when the provider only knows the call. */
      ref: string;
      type: 'survey.completed' | 'survey.unreachable';
      outcome: 'recorded' | 'ignored' | 'dead-letter';
      occurredAt: string;
      resolved?: boolean;
      satisfaction?: string;
      reason?: string;
    }
  | {
      kind: 'deadLetter';
      day: string;
      eventType: PhoneEvent['type'];
      reason: string;
      surveyId?: string;
      callId?: string;
    };

export interface DeliveryRecord {
  deliveryId: string;
  provider: PhoneProvider;
  receivedAt: string;
  outcome: 'processed' | 'ignored' | 'regression';
  eventTypes: PhoneEvent['type'][];
}

export interface RecordOfDelivery {
  delivery: DeliveryRecord;
  effects: PhoneEffect[];
  status?: StatusChange;
}

export interface StatusChange {
  provider: PhoneProvider;
  callId: string;
  previous: CallStatus | undefined;
  next: CallStatus;
}

/** Where deliveries and their effects are kept (adapters/dynamodb/delivery-store.ts). */
export interface PhoneDeliveryStore {
  hasDelivery(deliveryId: string): Promise<boolean>;
  /**
   * Writes the delivery record, its effects and the call's new status all-or-nothing. A
   * call-back effect is written only if the call has no call-back entry yet: one call, one
   * call-back, however often and under whatever id its missed event is delivered.
   * 'duplicate': the delivery was recorded meanwhile, nothing was written. Throws a conflict when
   * the call's status changed since it was read (the sender retries).
   */
  record(
    delivery: DeliveryRecord,
    effects: PhoneEffect[],
    status?: StatusChange,
  ): Promise<'recorded' | 'duplicate'>;
  callStatus(provider: PhoneProvider, callId: string): Promise<CallStatus | undefined>;
  receivedCall(
    provider: PhoneProvider,
    callId: string,
  ): Promise<{ callerNumber: string | null } | undefined>;
  /**
   * Items for a call's ticket's own write (SaveOptions.alongside): the call's ticket number, put
   * only if the call has none, and with `record` the delivery, its effects and the call's new
   * status as `record()` writes them. `refusal` names the item a failed save refused, or throws
   * the conflict `record()` would.
   */
  withTicket(
    call: { provider: PhoneProvider; callId: string; ticketId: string },
    record?: RecordOfDelivery,
  ): { write: WriteAlongside; refusal: (index: number) => 'duplicate' | 'call-has-ticket' };
  callTicket(provider: PhoneProvider, callId: string): Promise<string | undefined>;
  /** The survey an outbound survey call was placed for. */
  surveyOfCall(provider: PhoneProvider, callId: string): Promise<string | undefined>;
  rememberSurveyCall(provider: PhoneProvider, callId: string, surveyId: string): Promise<void>;
  callbacks(day: string): Promise<CallbackEntry[]>;
  /** The call-back entries of a call id, under every provider that has one (normally one). */
  findCallbacks(callId: string, provider?: PhoneProvider): Promise<CallbackRef[]>;
  /** Records `done` on the entry unless it is done already (then false). */
  markCallbackDone(ref: CallbackRef, done: CallbackDone): Promise<boolean>;
}

export type SurveyOutcome = 'recorded' | 'unknown' | 'ignored';

export interface PhoneIntakeDeps {
  deliveries: PhoneDeliveryStore;
  now: () => Date;
  /** Checks a call's ticket against the catalogue (reads only: nothing is numbered or stored). */
  checkTicket: (intake: Intake) => Promise<CheckedIntake>;
  /**
   * Numbers and stores a checked ticket with `alongside` in its own write (fileCheckedTicket);
   * throws AlongsideRefusedError when one of those items was refused (nothing stored).
   */
  fileTicket: (
    checked: CheckedIntake,
    provider: PhoneProvider,
    alongside: (ticket: Ticket) => WriteAlongside,
  ) => Promise<string>;
  /** A call's ticket found filed by another delivery of the call: make sure its workflow runs. */
  resumeTicket: (ticketId: string) => Promise<void>;
  answerSurvey: (
    surveyId: string,
    answer: { resolved: boolean; satisfaction: PhoneEventOf<'survey.completed'>['satisfaction'] },
  ) => Promise<SurveyOutcome>;
  surveyUnreachable: (
    surveyId: string,
    reason: PhoneEventOf<'survey.unreachable'>['reason'],
  ) => Promise<SurveyOutcome>;
}

export interface DeliveryResult {
  outcome: 'processed' | 'duplicate' | 'ignored' | 'regression';
  ticketIds: string[];
  deadLetters: number;
}

/** What each event says about the call's progress, for isCallStatusRegression. */
const EVENT_STATUS: Partial<Record<PhoneEvent['type'], CallStatus>> = {
  'call.received': 'ringing',
  'call.completed': 'completed',
  'call.missed': 'no_answer',
};

function statusOf(accepted: Accepted & { callStatus?: { callId: string; status: CallStatus } }) {
  if (accepted.callStatus) return accepted.callStatus;
  for (const event of accepted.events) {
    const status = EVENT_STATUS[event.type];
    if (status && 'callId' in event && event.callId) return { callId: event.callId, status };
  }
  return undefined;
}

const INTAKE_FIELDS: Record<string, string> = {
  'caller.name': 'data.ticket.callerName',
  'caller.phone': 'data.ticket.callerPhone',
  caller: 'data.ticket.callerName',
  callId: 'data.callId',
  channel: 'data.ticket',
};

/** Field names of the ticket schema, renamed to where they are in the webhook body. */
function bodyField(field: string): string {
  return INTAKE_FIELDS[field] ?? `data.ticket.${field}`;
}

export function renameIntakeErrors(error: ValidationError): ValidationError {
  const fields = error.fields.map((f) => ({ ...f, field: bodyField(f.field) }));
  return new ValidationError(fields.map((f) => `${f.field}: ${f.problem}`).join('; '), fields);
}

/**
 * The operator's entry carried by call.completed, as the ticket intake. The caller's number
 * falls back to the number the call came from. Throws ValidationError naming body fields.
 */
export function intakeFromCall(event: PhoneEventOf<'call.completed'>): Intake {
  const t = event.ticket!;
  const phone = t.callerPhone ?? event.callerNumber ?? undefined;
  const candidate = {
    channel: 'phone',
    ...(t.callerName || phone
      ? { caller: { ...(t.callerName ? { name: t.callerName } : {}), ...(phone ? { phone } : {}) } }
      : {}),
    ...(t.confidential !== undefined ? { confidential: t.confidential } : {}),
    content: t.content,
    category: t.category,
    topic: t.topic,
    place: t.place,
    ...(t.urgency !== undefined ? { urgency: t.urgency } : {}),
    ...(t.noCallback !== undefined ? { noCallback: t.noCallback } : {}),
    ...(t.noSubstance !== undefined ? { noSubstance: t.noSubstance } : {}),
    ...(t.disposition !== undefined ? { disposition: t.disposition } : {}),
    callId: event.callId,
  };
  const parsed = intakeSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const fields = schemaProblems(parsed.error.issues, 'ticket').map((f) => ({
    ...f,
    field: bodyField(f.field),
  }));
  throw new ValidationError(fields.map((f) => `${f.field}: ${f.problem}`).join('; '), fields);
}

type CompletedCall = Extract<PhoneEffect, { kind: 'call' }>;

/** A call's ticket to file once the delivery's other effects are known. */
interface TicketToFile {
  event: PhoneEventOf<'call.completed'>;
  checked: CheckedIntake;
  /** The call's COMPLETED record, which names the ticket once it has a number. */
  effect: CompletedCall;
}

type Filed =
  | { ticketId: string; recorded: boolean }
  /** Another copy of this delivery was recorded meanwhile, with this call's ticket. */
  | { ticketId: string | undefined; duplicate: true };

/** Files a call's ticket, with the delivery's record in the same write if `record` is given. */
async function fileCallTicket(
  deps: PhoneIntakeDeps,
  job: TicketToFile,
  record: RecordOfDelivery | undefined,
): Promise<Filed> {
  const { provider, callId } = job.event;
  let refusal: ((index: number) => 'duplicate' | 'call-has-ticket') | undefined;
  try {
    const ticketId = await deps.fileTicket(job.checked, provider, (ticket) => {
      job.effect.ticketId = ticket.id;
      const alongside = deps.deliveries.withTicket(
        { provider, callId, ticketId: ticket.id },
        record,
      );
      refusal = alongside.refusal;
      return alongside.write;
    });
    return { ticketId, recorded: Boolean(record) };
  } catch (error) {
    if (!(error instanceof AlongsideRefusedError) || !refusal) {
      // Concurrent copies of one delivery can collide in DynamoDB before either condition is
      // evaluated; the one that went first decides whether this copy is a duplicate.
      if (record && (await deps.deliveries.hasDelivery(record.delivery.deliveryId))) {
        return { ticketId: await deps.deliveries.callTicket(provider, callId), duplicate: true };
      }
      throw error;
    }
    const why = refusal(error.index);
    const ticketId = await deps.deliveries.callTicket(provider, callId);
    if (why === 'duplicate') return { ticketId, duplicate: true };
    // The call's ticket was filed by a copy delivered under another id: file none, point to it.
    if (!ticketId) throw error;
    await deps.resumeTicket(ticketId);
    job.effect.ticketId = ticketId;
    return { ticketId, recorded: false };
  }
}

/** The operator's ticket of a call.completed, checked against the catalogue, body fields named. */
async function checkCallTicket(
  deps: PhoneIntakeDeps,
  event: PhoneEventOf<'call.completed'>,
): Promise<CheckedIntake> {
  const intake = intakeFromCall(event);
  try {
    return await deps.checkTicket(intake);
  } catch (error) {
    throw error instanceof ValidationError ? renameIntakeErrors(error) : error;
  }
}

/**
 * Applies one accepted delivery. Validation of an embedded ticket happens before anything is
 * written, so an invalid one is refused (ValidationError) with nothing stored. The reads that do
 * not depend on each other (delivery seen?, the call's status, the catalogue) go out together.
 */
export async function receivePhoneDelivery(
  deps: PhoneIntakeDeps,
  accepted: Accepted & { callStatus?: { callId: string; status: CallStatus } },
): Promise<DeliveryResult> {
  const none: DeliveryResult = { outcome: 'duplicate', ticketIds: [], deadLetters: 0 };
  const reported = statusOf(accepted);
  const withTickets = accepted.events.filter(
    (e): e is PhoneEventOf<'call.completed'> => e.type === 'call.completed' && Boolean(e.ticket),
  );
  const [seen, previous, checks] = await Promise.all([
    deps.deliveries.hasDelivery(accepted.deliveryId),
    reported ? deps.deliveries.callStatus(accepted.provider, reported.callId) : undefined,
    // Settled here, thrown below: a duplicate is a duplicate even if its ticket no longer checks.
    Promise.allSettled(withTickets.map((event) => checkCallTicket(deps, event))),
  ]);
  if (seen) return none;
  const checked = new Map<PhoneEvent, CheckedIntake>();
  for (const [i, check] of checks.entries()) {
    if (check.status === 'rejected') throw check.reason;
    checked.set(withTickets[i]!, check.value);
  }

  const receivedAt = deps.now().toISOString();
  const delivery = (outcome: DeliveryRecord['outcome']): DeliveryRecord => ({
    deliveryId: accepted.deliveryId,
    provider: accepted.provider,
    receivedAt,
    outcome,
    eventTypes: accepted.events.map((e) => e.type),
  });

  let status: StatusChange | undefined;
  if (reported) {
    if (isCallStatusRegression(previous, reported.status)) {
      const written = await deps.deliveries.record(delivery('regression'), []);
      return { ...none, outcome: written === 'duplicate' ? 'duplicate' : 'regression' };
    }
    if (previous !== reported.status) {
      status = {
        provider: accepted.provider,
        callId: reported.callId,
        previous,
        next: reported.status,
      };
    }
  }

  const effects: PhoneEffect[] = [];
  const toFile: TicketToFile[] = [];
  let deadLetters = 0;
  const deadLetter = (
    event: PhoneEvent,
    reason: string,
    ref: { surveyId?: string; callId?: string },
  ) => {
    deadLetters++;
    effects.push({
      kind: 'deadLetter',
      day: shanghaiDate(receivedAt),
      eventType: event.type,
      reason,
      ...ref,
    });
  };

  for (const event of accepted.events) {
    switch (event.type) {
      case 'call.received':
        effects.push({
          kind: 'call',
          part: 'RECEIVED',
          provider: event.provider,
          callId: event.callId,
          occurredAt: event.occurredAt,
          callerNumber: event.callerNumber,
          calledNumber: event.calledNumber,
        });
        break;
      case 'call.completed': {
        const effect: CompletedCall = {
          kind: 'call',
          part: 'COMPLETED',
          provider: event.provider,
          callId: event.callId,
          occurredAt: event.occurredAt,
          callerNumber: event.callerNumber,
          calledNumber: event.calledNumber,
          durationSeconds: event.durationSeconds,
        };
        effects.push(effect);
        const check = checked.get(event);
        if (check) toFile.push({ event, checked: check, effect });
        break;
      }
      case 'call.missed': {
        // Amazon Connect gives the caller's number only to the flow (call.received): join on it.
        const callerNumber =
          event.callerNumber ??
          (await deps.deliveries.receivedCall(event.provider, event.callId))?.callerNumber ??
          null;
        const entry: CallbackEntry = {
          callId: event.callId,
          provider: event.provider,
          occurredAt: event.occurredAt,
          callerNumber,
          calledNumber: event.calledNumber,
          reason: event.reason,
          ...(event.waitSeconds !== undefined ? { waitSeconds: event.waitSeconds } : {}),
        };
        effects.push(
          { kind: 'callback', day: shanghaiDate(event.occurredAt), entry },
          {
            kind: 'call',
            part: 'MISSED',
            provider: event.provider,
            callId: event.callId,
            occurredAt: event.occurredAt,
            callerNumber,
            calledNumber: event.calledNumber,
          },
        );
        break;
      }
      case 'survey.completed':
      case 'survey.unreachable': {
        const surveyId =
          event.surveyId ??
          (event.callId
            ? await deps.deliveries.surveyOfCall(event.provider, event.callId)
            : undefined);
        const ref = surveyId ?? `call:${event.provider}:${event.callId}`;
        const ids = {
          ...(surveyId ? { surveyId } : {}),
          ...(event.callId ? { callId: event.callId } : {}),
        };
        const outcome = !surveyId
          ? 'unknown'
          : event.type === 'survey.completed'
            ? await deps.answerSurvey(surveyId, {
                resolved: event.resolved,
                satisfaction: event.satisfaction,
              })
            : await deps.surveyUnreachable(surveyId, event.reason);
        if (outcome === 'unknown') deadLetter(event, 'unknown survey or call id', ids);
        effects.push({
          kind: 'survey',
          ref,
          type: event.type,
          outcome: outcome === 'unknown' ? 'dead-letter' : outcome,
          occurredAt: event.occurredAt,
          ...(event.type === 'survey.completed'
            ? { resolved: event.resolved, satisfaction: event.satisfaction }
            : { reason: event.reason }),
        });
        break;
      }
    }
  }

  const outcome = accepted.events.length === 0 ? 'ignored' : 'processed';
  const record: RecordOfDelivery = {
    delivery: delivery(outcome),
    effects,
    ...(status ? { status } : {}),
  };
  // The usual delivery, one call with its ticket, is one write. A call-back claims its call's
  // marker with a retry of its own (record()), so it is recorded on its own.
  const carrier = effects.some((e) => e.kind === 'callback') ? undefined : toFile.at(-1);
  const ticketIds: string[] = [];
  let recorded = false;
  for (const job of toFile) {
    const filed = await fileCallTicket(deps, job, job === carrier ? record : undefined);
    if (filed.ticketId) ticketIds.push(filed.ticketId);
    // Another copy of this delivery was recorded meanwhile: it applied the delivery, this one did
    // not (the ticket it names is the one that copy filed, found through the call's number).
    if ('duplicate' in filed) return { ...none, ticketIds };
    recorded ||= filed.recorded;
  }
  if (
    !recorded &&
    (await deps.deliveries.record(record.delivery, effects, status)) === 'duplicate'
  ) {
    return { ...none, ticketIds };
  }
  return { outcome, ticketIds, deadLetters };
}

/**
 * 回拨 done: a member of the centre staff records that the missed call was called back. The call
 * id is the one on the call-back list; `provider` is needed only if two phone systems used the
 * same id. Marking twice is refused (409), so the first record of who called back stands.
 */
export async function markCallbackDone(
  deps: Pick<PhoneIntakeDeps, 'deliveries' | 'now'>,
  principal: { subject: string; role: string },
  input: { callId: string; provider?: PhoneProvider; outcome: CallbackOutcome; note?: string },
): Promise<CallbackRef & { done: CallbackDone }> {
  const found = await deps.deliveries.findCallbacks(input.callId, input.provider);
  if (found.length === 0) {
    throw new NotFoundError('no call-back for this call', [
      { field: 'callId', problem: 'is not on any call-back list' },
    ]);
  }
  if (found.length > 1) {
    throw fieldError('provider', 'is required: more than one phone system has this call id');
  }
  const ref = found[0]!;
  const done: CallbackDone = {
    by: principal.subject,
    role: principal.role,
    at: deps.now().toISOString(),
    outcome: input.outcome,
    ...(input.note !== undefined ? { note: input.note } : {}),
  };
  if (ref.done || !(await deps.deliveries.markCallbackDone(ref, done))) {
    throw new ConflictError('the call-back is marked done already', [
      { field: 'callId', problem: 'was marked done already' },
    ]);
  }
  return { ...ref, done };
}

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
 *  - A ticket is written by fileTicket in its own transaction, so it cannot join that one.
 *    Instead the ticket number is reserved for the call first (`CALL#…/TICKET`, conditional put):
 *    every attempt for the same call files under the same number, and the ticket's own
 *    `attribute_not_exists` makes the second attempt fail harmlessly. A crash after the ticket was
 *    written but before the delivery was recorded is then found on the retry: the ticket is there,
 *    its execution is started again (idempotent: named after the ticket) and the delivery is
 *    recorded. One call, one ticket, never none.
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
import type { TicketStore } from './ports.ts';
import { type Intake, intakeSchema } from './ticket.ts';
import { VersionConflictError } from './tickets.ts';

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
  /** The ticket number reserved for a call, allocating it with `allocate` the first time. */
  reserveCallTicket(
    provider: PhoneProvider,
    callId: string,
    allocate: () => Promise<string>,
  ): Promise<string>;
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
  /**
   * Files the ticket of a call with `store` in place of the ticket store (fileTicket with
   * ticket numbers reserved per call). Throws the ticket store's VersionConflictError when the
   * ticket under that number exists already.
   */
  fileTicket: (
    intake: Intake,
    store: (inner: TicketStore) => TicketStore,
    provider: PhoneProvider,
  ) => Promise<string>;
  /** After a crash between ticket and delivery record: make sure the ticket's workflow runs. */
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

async function fileCallTicket(
  deps: PhoneIntakeDeps,
  event: PhoneEventOf<'call.completed'>,
  intake: Intake,
): Promise<string> {
  const { provider, callId } = event;
  const reserving = (inner: TicketStore): TicketStore =>
    new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'nextTicketId') {
          return (day: string) =>
            deps.deliveries.reserveCallTicket(provider, callId, () => target.nextTicketId(day));
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  try {
    return await deps.fileTicket(intake, reserving, provider);
  } catch (error) {
    if (error instanceof ValidationError) throw renameIntakeErrors(error);
    if (!(error instanceof VersionConflictError)) throw error;
    // An earlier attempt for this call filed the ticket and did not get to record the delivery.
    const ticketId = await deps.deliveries.callTicket(provider, callId);
    if (!ticketId) throw error;
    await deps.resumeTicket(ticketId);
    return ticketId;
  }
}

/**
 * Applies one accepted delivery. Validation of an embedded ticket happens before anything is
 * written, so an invalid one is refused (ValidationError) with nothing stored.
 */
export async function receivePhoneDelivery(
  deps: PhoneIntakeDeps,
  accepted: Accepted & { callStatus?: { callId: string; status: CallStatus } },
): Promise<DeliveryResult> {
  const none: DeliveryResult = { outcome: 'duplicate', ticketIds: [], deadLetters: 0 };
  if (await deps.deliveries.hasDelivery(accepted.deliveryId)) return none;

  const intakes = new Map<PhoneEvent, Intake>();
  for (const event of accepted.events) {
    if (event.type === 'call.completed' && event.ticket) intakes.set(event, intakeFromCall(event));
  }

  const receivedAt = deps.now().toISOString();
  const delivery = (outcome: DeliveryRecord['outcome']): DeliveryRecord => ({
    deliveryId: accepted.deliveryId,
    provider: accepted.provider,
    receivedAt,
    outcome,
    eventTypes: accepted.events.map((e) => e.type),
  });

  const reported = statusOf(accepted);
  let status: StatusChange | undefined;
  if (reported) {
    const previous = await deps.deliveries.callStatus(accepted.provider, reported.callId);
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
  const ticketIds: string[] = [];
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
        const intake = intakes.get(event);
        const ticketId = intake ? await fileCallTicket(deps, event, intake) : undefined;
        if (ticketId) ticketIds.push(ticketId);
        effects.push({
          kind: 'call',
          part: 'COMPLETED',
          provider: event.provider,
          callId: event.callId,
          occurredAt: event.occurredAt,
          callerNumber: event.callerNumber,
          calledNumber: event.calledNumber,
          durationSeconds: event.durationSeconds,
          ...(ticketId ? { ticketId } : {}),
        });
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
  const written = await deps.deliveries.record(delivery(outcome), effects, status);
  // Another copy of this delivery was recorded meanwhile: it applied the delivery, this one did
  // not (the ticket it names is the one that copy filed, found through the call's reservation).
  if (written === 'duplicate') return { ...none, ticketIds };
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

import { createHash } from 'node:crypto';
import {
  assertCanView,
  type Principal,
  redactFor,
  redactHistoryFor,
  requireRole,
} from './access.ts';
import { shanghaiDate } from './calendar.ts';
import { routeByCatalogue } from './catalogue.ts';
import type { LifecycleConfig } from './config.ts';
import { ConflictError, ForbiddenError, fieldError, GoneError, NotFoundError } from './errors.ts';
import {
  type AddDuration,
  applyCentreDecision,
  applyUnitAction,
  type Context,
  callerInformed,
  closeWithoutCallback,
  dispatchTicket,
  dueDeadlineEvent,
  nextStep,
  openTicket,
  type Step,
  surveyAnswered,
  surveyRequested,
  surveyUnreached,
  type Transition,
  toManualDispatch,
  type WaitStep,
  wantsCallback,
} from './lifecycle.ts';
import {
  centreChaseMail,
  centreTaskMail,
  dispatchMail,
  extensionNotice,
  isCentreChase,
  isSupervised,
  isUnitNotice,
  supervisorChaseMail,
  unitNoticeMail,
} from './mails.ts';
import type {
  CallerNotifier,
  CatalogueStore,
  Mailer,
  SurveyRequester,
  TicketDetail,
  TicketStore,
  TopicClassifier,
  Wait,
  Workflow,
  WriteAlongside,
} from './ports.ts';
import {
  type Actor,
  type CentreDecision,
  type Intake,
  type Satisfaction,
  type Ticket,
  type TopicChoice,
  UNIT_STAGES,
  type UnitAction,
} from './ticket.ts';

export interface TicketDeps {
  store: TicketStore;
  catalogue: CatalogueStore;
  mailer: Mailer;
  workflow: Workflow;
  surveys: SurveyRequester;
  callers: CallerNotifier;
  config: LifecycleConfig;
  addDuration: AddDuration;
  now: () => Date;
  /** The public URL of a unit's link, e.g. https://12345.example.gov.cn/replies/{replyId}. */
  replyUrl: (replyId: string) => string;
  /** The staff URL of a ticket, used in mails to the hotline centre. */
  ticketUrl: (ticketId: string) => string;
  /** Where mails to the hotline centre (dispatchers, reviewers) go. */
  centreAddresses: string[];
  /** Where the supervisors (督办) hear of tickets that are overdue or marked for report. */
  supervisorAddresses: string[];
  newReplyId: () => string;
  /** 智能派单: suggests the topic of a request filed without one. */
  classifier?: TopicClassifier;
}

/** Raised by a store when the ticket changed after it was read (optimistic locking). */
export class VersionConflictError extends ConflictError {}

/** Raised by a store when the condition of `alongside.items[index]` failed: nothing was stored. */
export class AlongsideRefusedError extends ConflictError {
  constructor(readonly index: number) {
    super('an item written with the ticket was refused', []);
  }
}

/** The ticket number's day is the hotline's day, in Asia/Shanghai, whatever the server's zone. */
export function shanghaiDay(at: Date): string {
  return shanghaiDate(at).replaceAll('-', '');
}

/** Phone numbers are compared, never stored in keys: a hash of the digits stands for them. */
export function callerKey(phone: string): string {
  return createHash('sha256')
    .update(phone.replace(/\D/g, '').replace(/^(86|0086)/, ''))
    .digest('base64url')
    .slice(0, 22);
}

function context(deps: TicketDeps): Context {
  return { at: deps.now(), config: deps.config, add: deps.addDuration };
}

function noSuchTicket(): NotFoundError {
  return new NotFoundError('no such ticket', [{ field: 'id', problem: 'no such ticket' }]);
}

async function requireDetail(deps: TicketDeps, id: string): Promise<TicketDetail> {
  const detail = await deps.store.getDetail(id);
  if (!detail) throw noSuchTicket();
  return detail;
}

/** The ticket alone (one GetItem): most steps need neither its history nor its wait. */
async function requireTicket(deps: TicketDeps, id: string): Promise<Ticket> {
  const ticket = await deps.store.get(id);
  if (!ticket) throw noSuchTicket();
  return ticket;
}

/**
 * Re-reads and re-applies a change when another writer got there first (a unit replying while
 * a deadline fires). The second attempt sees the new state, so the outcome is one of the two,
 * never both.
 */
async function withFreshTicket<T>(
  deps: TicketDeps,
  id: string,
  apply: (ticket: Ticket, wait: Wait | undefined) => Promise<T>,
  /** Read the wait too; one Query then costs less than a GetItem for each. */
  withWait = false,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { ticket, wait } = withWait
      ? await requireDetail(deps, id)
      : { ticket: await requireTicket(deps, id), wait: undefined };
    try {
      return await apply(ticket, wait);
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 3) throw error;
    }
  }
}

/** The workflow's next step for a ticket as it stands (the same decision NextStep makes). */
function stepFor(deps: TicketDeps, ticket: Ticket): Step {
  return nextStep(ticket, context(deps));
}

/**
 * Wakes the workflow waiting on this ticket, once, if it is waiting, and hands it the next step
 * decided on the ticket just saved, so that no NextStep has to read it again. Called after a
 * change is saved, it reads the wait afresh: a wait stored before the change is woken here, and
 * one that was about to be stored fails its version check and wakes itself (see lookAgain). The
 * step may be stale by the time the workflow acts on it (the ticket changed again and that
 * waker found no token): every task re-reads the ticket, and a wait decided on an older version
 * decides afresh (see stillWaiting).
 */
async function wake(
  deps: TicketDeps,
  saved: Ticket,
  only?: (wait: Wait) => boolean,
): Promise<void> {
  const wait = await deps.store.getWait(saved.id);
  if (!wait?.taskToken || (only && !only(wait))) return;
  if (await deps.store.takeToken(wait.ticketId, wait.taskToken)) {
    await deps.workflow.resume(wait.taskToken, stepFor(deps, saved));
  }
}

// ─── Intake ──────────────────────────────────────────────────────────────────────────────────

/**
 * A request filed without a topic gets the dispatch model's: taken when the model is sure enough,
 * otherwise left for a dispatcher, who sees the suggestions (待人工派单).
 */
async function chooseTopic(
  deps: TicketDeps,
  intake: Intake,
): Promise<{ intake: Intake; choice: TopicChoice }> {
  if (intake.topic) return { intake, choice: { by: 'person' } };
  if (!deps.classifier) return { intake, choice: { by: 'model', suggestions: [] } };
  const { modelVersion, threshold, suggestions } = await deps.classifier.suggest(intake.content);
  const top = suggestions[0];
  const rounded = suggestions.map((s) => ({ ...s, probability: round3(s.probability) }));
  if (top && top.probability >= threshold && (await deps.catalogue.getTopic(top.topic))) {
    return {
      intake: { ...intake, topic: top.topic },
      choice: {
        by: 'model',
        modelVersion,
        probability: round3(top.probability),
        suggestions: rounded,
      },
    };
  }
  return { intake, choice: { by: 'model', modelVersion, suggestions: rounded } };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Coordinates must lie in the hotline's region: anything else is a typing or device error, and
 * magnitudes DynamoDB cannot store (below 1e-130) would otherwise fail after a ticket number
 * was taken.
 */
function checkRegion(place: Intake['place'], region: LifecycleConfig['region']): void {
  if (place.lat !== undefined && (place.lat < region.minLat || place.lat > region.maxLat)) {
    throw fieldError('place.lat', "is outside the hotline's region");
  }
  if (place.lng !== undefined && (place.lng < region.minLng || place.lng > region.maxLng)) {
    throw fieldError('place.lng', "is outside the hotline's region");
  }
}

/** A request checked against the catalogue (with the model's topic if it had none): ready to file. */
export interface CheckedIntake {
  intake: Intake;
  choice: TopicChoice;
}

/** Reads only (the catalogue, the dispatch model): a refused request draws no ticket number. */
export async function checkIntake(deps: TicketDeps, filed: Intake): Promise<CheckedIntake> {
  const { intake, choice } = await chooseTopic(deps, filed);
  const [topic, district, township] = await Promise.all([
    intake.topic ? deps.catalogue.getTopic(intake.topic) : undefined,
    deps.catalogue.getArea(intake.place.district),
    intake.place.township ? deps.catalogue.getArea(intake.place.township) : undefined,
  ]);
  if (filed.topic && !topic) throw fieldError('topic', 'is not a topic in the catalogue');
  if (district?.kind !== 'county') {
    throw fieldError('place.district', 'is not a district in the catalogue');
  }
  if (intake.place.township && (!township || township.parent !== district.id)) {
    throw fieldError('place.township', 'is not a township of place.district in the catalogue');
  }
  checkRegion(intake.place, deps.config.region);
  return { intake, choice };
}

export interface FileOptions {
  /** Another adapter's items for the ticket's own write, made from the ticket about to be stored. */
  alongside?: (ticket: Ticket) => WriteAlongside;
}

/**
 * Numbers and stores a checked request. The number, the duplicate search (并单) and the caller's
 * earlier contentless calls are independent reads: one round trip together, then one write.
 */
export async function fileCheckedTicket(
  deps: TicketDeps,
  { intake, choice }: CheckedIntake,
  actor: Actor,
  options: FileOptions = {},
): Promise<Ticket> {
  const at = deps.now();
  // Searching needs the ticket's place, topic, caller and time, not its number.
  const draft = openTicket({ id: '', intake, actor, at }).ticket;
  const since = new Date(at.getTime() - deps.config.duplicateWindowHours * 3600_000).toISOString();
  const [id, mergeInto, earlier] = await Promise.all([
    deps.store.nextTicketId(shanghaiDay(at)),
    draft.status === 'received' ? deps.store.findOpenDuplicate(draft, since) : undefined,
    intake.noSubstance && intake.caller?.phone ? deps.store.countContentlessCalls(draft) : -1,
  ]);
  const flaggedRepeatCaller = earlier >= 0 && earlier + 1 >= deps.config.repeatCallerThreshold;
  const opened = openTicket({
    id,
    intake,
    actor,
    at,
    ...(mergeInto ? { mergeInto } : {}),
    flaggedRepeatCaller,
  });
  opened.ticket.topicChoice = choice;
  opened.history.details = {
    ...opened.history.details,
    topic: intake.topic ?? null,
    topicChoice: choice,
  };
  // Stored is enough: the table's stream starts the lifecycle (functions/stream/stream-workflow.ts),
  // so a slow or throttled Step Functions never fails, or slows, the intake.
  if (options.alongside)
    await deps.store.save(opened, { alongside: options.alongside(opened.ticket) });
  else await deps.store.save(opened);
  return opened.ticket;
}

export async function fileTicket(
  deps: TicketDeps,
  filed: Intake,
  actor: Actor,
  options: FileOptions = {},
): Promise<Ticket> {
  return fileCheckedTicket(deps, await checkIntake(deps, filed), actor, options);
}

export interface TicketView extends Omit<TicketDetail, 'wait'> {
  /** A merged ticket (并单) follows the outcome of the ticket it was merged into. */
  mergedWith?: Pick<Ticket, 'id' | 'status' | 'closure' | 'closedAt' | 'leadUnit'>;
}

export async function viewTicket(
  deps: TicketDeps,
  id: string,
  principal: Principal,
): Promise<TicketView> {
  const detail = await requireDetail(deps, id);
  assertCanView(principal, detail.ticket);
  const view: TicketView = {
    ticket: redactFor(principal, detail.ticket),
    history: redactHistoryFor(principal, detail.history),
  };
  const primary = detail.ticket.mergedInto
    ? await deps.store.get(detail.ticket.mergedInto)
    : undefined;
  if (primary) {
    const { id: primaryId, status, closure, closedAt, leadUnit } = primary;
    view.mergedWith = { id: primaryId, status, closure, closedAt, leadUnit };
  }
  return view;
}

// ─── Workflow steps ──────────────────────────────────────────────────────────────────────────

/**
 * What a step did (nothing when the ticket had moved on) and what the workflow does next, decided
 * on the ticket the step just wrote or read: the task's output is the next step.
 */
export interface Stepped {
  transition: Transition | undefined;
  step: Step;
}

/** Reads the ticket: the start of a fresh execution, or the look after a wait that was cut short. */
export async function decideNextStep(deps: TicketDeps, id: string): Promise<Step> {
  return stepFor(deps, await requireTicket(deps, id));
}

const unchanged = (deps: TicketDeps, ticket: Ticket): Stepped => ({
  transition: undefined,
  step: stepFor(deps, ticket),
});
const saved = async (deps: TicketDeps, transition: Transition): Promise<Stepped> => {
  await deps.store.save(transition);
  return { transition, step: stepFor(deps, transition.ticket) };
};

/** 派单: the catalogue picks the lead unit, or a dispatcher must. */
export async function routeTicket(deps: TicketDeps, id: string): Promise<Stepped> {
  return withFreshTicket(deps, id, async (ticket) => {
    if (ticket.status !== 'received') return unchanged(deps, ticket);
    const topic = ticket.topic ? await deps.catalogue.getTopic(ticket.topic) : undefined;
    const units = new Map((await deps.catalogue.listUnits()).map((u) => [u.id, u]));
    const decision = topic
      ? routeByCatalogue(topic, ticket.place, units)
      : {
          kind: 'manual' as const,
          reason: ticket.topic
            ? `topic ${ticket.topic} is no longer in the catalogue`
            : 'no topic: the dispatch model was not sure enough (see its suggestions)',
        };
    const ctx = context(deps);
    const transition =
      decision.kind === 'unit'
        ? dispatchTicket(
            ticket,
            {
              lead: decision.lead,
              assist: decision.assist,
              actor: { kind: 'system', id: 'catalogue' },
              reason: '派单: by the dispatch catalogue',
            },
            ctx,
          )
        : toManualDispatch(ticket, decision.reason, ctx);
    return saved(deps, transition);
  });
}

/**
 * Records the deadline event that is due (催办, 督办, 通报, an unanswered survey), once. A wait's
 * timeout comes here directly: it is set to the next deadline event, and when none is due yet
 * (the ticket changed meanwhile) nothing is recorded and the step is decided afresh.
 */
export async function chaseTicket(deps: TicketDeps, id: string): Promise<Stepped> {
  return withFreshTicket(deps, id, async (ticket) => {
    const transition = dueDeadlineEvent(ticket, context(deps));
    return transition ? saved(deps, transition) : unchanged(deps, ticket);
  });
}

export async function finishTicket(deps: TicketDeps, id: string): Promise<Stepped> {
  return withFreshTicket(deps, id, async (ticket) => {
    if (ticket.status !== 'callback' || wantsCallback(ticket)) return unchanged(deps, ticket);
    return saved(deps, closeWithoutCallback(ticket, context(deps)));
  });
}

/**
 * Whether a waiting task still has to wait: its step was decided on this very version of the
 * ticket, or is what the ticket asks for now. Otherwise it hands the workflow the step decided
 * afresh at once (a stale step's timeout could miss a deadline event) and does not wait.
 */
async function stillWaiting(
  deps: TicketDeps,
  ticket: Ticket,
  taskToken: string,
  kind: WaitStep['kind'],
  decidedOn: number | undefined,
): Promise<boolean> {
  const step = stepFor(deps, ticket);
  if (step.kind === kind && (decidedOn === undefined || decidedOn === ticket.version)) return true;
  await deps.workflow.resume(taskToken, step);
  return false;
}

/**
 * Starts waiting for the lead unit. The unit keeps one link per assignment; it is mailed when the
 * ticket is dispatched to it and again for each event it must hear about (a reminder, a chase, a
 * decision on its request), never twice for the same event — also not when a fresh execution
 * resumes the ticket after a restart.
 */
export async function awaitUnit(
  deps: TicketDeps,
  id: string,
  taskToken: string,
  decidedOn?: number,
): Promise<void> {
  const { ticket, wait, history } = await requireDetail(deps, id);
  // The ticket moved on between the decision and this task: the workflow goes on from here.
  if (!(await stillWaiting(deps, ticket, taskToken, 'await_unit', decidedOn))) return;
  // A unit stage always has a lead unit; without one the step fails, is retried, then stalls.
  if (!ticket.leadUnit) throw new Error(`ticket ${id} is in ${ticket.status} without a lead unit`);
  const unit = await deps.catalogue.getUnit(ticket.leadUnit);
  if (!unit) throw new Error(`unit ${ticket.leadUnit} is not in the catalogue`);
  const sameAssignment = wait?.unitId === unit.id && wait.replyId;
  const replyId = sameAssignment ? wait.replyId! : deps.newReplyId();
  const latest = [...history]
    .reverse()
    .find((h) => h.event === 'dispatched' || h.event === 'redispatched' || isUnitNotice(h.event));
  const mailedAt = sameAssignment ? wait.mailedAt : undefined;
  const toMail = latest && (!mailedAt || latest.at > mailedAt) ? latest : undefined;
  const stored = await deps.store.putWait(
    {
      ticketId: id,
      party: 'unit',
      stage: ticket.status,
      unitId: unit.id,
      replyId,
      taskToken,
      issuedAt: deps.now().toISOString(),
      ...(toMail ? { mailedAt: toMail.at } : mailedAt ? { mailedAt } : {}),
    },
    ticket.version,
    { linkStored: Boolean(sameAssignment) },
  );
  if (!stored) return lookAgain(deps, id, taskToken);
  if (!toMail) return;
  const url = deps.replyUrl(replyId);
  const mail = isUnitNotice(toMail.event)
    ? unitNoticeMail(ticket, unit, toMail.event, url)
    : dispatchMail(ticket, unit, url);
  await deps.mailer.send({ to: [unit.email], ...mail });
  if (isSupervised(toMail.event) && deps.supervisorAddresses.length > 0) {
    await deps.mailer.send({
      to: deps.supervisorAddresses,
      ...supervisorChaseMail(ticket, unit, toMail.event, deps.ticketUrl(id)),
    });
  }
}

/**
 * Starts waiting for the hotline centre's decision. The centre is told once per stage, and once
 * for each of its own deadline events (a reminder before its time limit; at the limit the
 * supervisors too), never twice — also not when a fresh execution resumes the ticket.
 */
export async function awaitCentre(
  deps: TicketDeps,
  id: string,
  taskToken: string,
  decidedOn?: number,
): Promise<void> {
  const { ticket, wait, history } = await requireDetail(deps, id);
  if (!(await stillWaiting(deps, ticket, taskToken, 'await_centre', decidedOn))) return;
  const sameStage = wait?.party === 'centre' && wait.stage === ticket.status && wait.mailedAt;
  const mailedAt = sameStage ? wait.mailedAt! : undefined;
  const chase = mailedAt
    ? [...history].reverse().find((h) => isCentreChase(h.event) && h.at > mailedAt)
    : undefined;
  const now = deps.now().toISOString();
  const stored = await deps.store.putWait(
    {
      ticketId: id,
      party: 'centre',
      stage: ticket.status,
      taskToken,
      issuedAt: now,
      mailedAt: chase ? chase.at : (mailedAt ?? now),
      // A unit link survives centre stages: a sent-back ticket returns to the same link.
      ...(wait?.replyId ? { replyId: wait.replyId, unitId: wait.unitId } : {}),
    },
    ticket.version,
    { linkStored: true },
  );
  if (!stored) return lookAgain(deps, id, taskToken);
  const url = deps.ticketUrl(id);
  if (!mailedAt && deps.centreAddresses.length > 0) {
    await deps.mailer.send({
      to: deps.centreAddresses,
      ...centreTaskMail(ticket, ticket.status, url),
    });
  }
  if (!chase || !isCentreChase(chase.event)) return;
  if (deps.centreAddresses.length > 0) {
    await deps.mailer.send({
      to: deps.centreAddresses,
      ...centreChaseMail(ticket, ticket.status, chase.event, url, 'centre'),
    });
  }
  if (chase.event === 'centre_overdue' && deps.supervisorAddresses.length > 0) {
    await deps.mailer.send({
      to: deps.supervisorAddresses,
      ...centreChaseMail(ticket, ticket.status, chase.event, url, 'supervisor'),
    });
  }
}

/**
 * Starts (or, after a restart, resumes waiting for) a callback survey. A request the phone
 * system refuses is recorded in the history as a failed attempt at once.
 */
export async function surveyCaller(
  deps: TicketDeps,
  id: string,
  taskToken: string,
  decidedOn?: number,
): Promise<void> {
  const { ticket, wait } = await requireDetail(deps, id);
  if (!(await stillWaiting(deps, ticket, taskToken, 'survey', decidedOn))) return;
  const outstanding = ticket.surveys.at(-1);
  if (outstanding && !outstanding.outcome) {
    const stored = await deps.store.putWait(
      {
        ticketId: id,
        party: 'phone',
        stage: 'callback',
        surveyId: outstanding.surveyId,
        taskToken,
        issuedAt: deps.now().toISOString(),
        ...keepLink(wait),
      },
      ticket.version,
      { linkStored: true },
    );
    if (!stored) await lookAgain(deps, id, taskToken);
    return;
  }
  const surveyId = `${id}.${ticket.surveys.length + 1}`;
  const requested = surveyRequested(ticket, surveyId, context(deps));
  await deps.store.save(requested);
  const stored = await deps.store.putWait(
    {
      ticketId: id,
      party: 'phone',
      stage: 'callback',
      surveyId,
      taskToken,
      issuedAt: deps.now().toISOString(),
      ...keepLink(wait),
    },
    requested.ticket.version,
    { linkStored: true },
  );
  if (!stored) await lookAgain(deps, id, taskToken);
  let refusal: string | undefined;
  try {
    const result = await deps.surveys.requestSurvey({
      surveyId,
      ticketId: id,
      callee: ticket.caller!.phone!,
    });
    if (result && !result.accepted) refusal = `${result.via}: ${result.reason}`;
  } catch (error) {
    refusal = (error as Error).name;
  }
  if (refusal) await recordSurveyUnreachable(deps, surveyId, 'failed', refusal);
}

/**
 * The ticket changed between reading it and storing the wait, so whoever changed it could not
 * wake this wait: read it again and wake the wait with the step it asks for now.
 */
async function lookAgain(deps: TicketDeps, ticketId: string, taskToken: string): Promise<void> {
  await deps.workflow.resume(taskToken, await decideNextStep(deps, ticketId));
}

function keepLink(wait: Wait | undefined): Partial<Wait> {
  return wait?.replyId ? { replyId: wait.replyId, unitId: wait.unitId } : {};
}

// ─── People acting on a ticket ───────────────────────────────────────────────────────────────

/** What the page behind a unit's link shows: the ticket as its unit may see it. */
export async function viewByLink(
  deps: TicketDeps,
  replyId: string,
): Promise<{ ticket: Ticket; actionable: boolean }> {
  const link = await deps.store.getReplyLink(replyId);
  const detail = link ? await deps.store.getDetail(link.ticketId) : undefined;
  if (!link || !detail)
    throw new NotFoundError('no such link', [{ field: 'replyId', problem: 'no such link' }]);
  const unitView: Principal = { subject: `link:${link.unitId}`, role: 'unit', unitId: link.unitId };
  const current = detail.wait?.replyId === replyId && detail.ticket.leadUnit === link.unitId;
  return {
    ticket: redactFor(unitView, detail.ticket),
    actionable: current && UNIT_STAGES.includes(detail.ticket.status),
  };
}

/**
 * A unit acts through the link in its mail. The link is the credential, and the only one: the link
 * routes have no authorizer (an HTTP API authorizer cannot be optional), so the action is the
 * unit's, not a named clerk's.
 */
export async function actByLink(
  deps: TicketDeps,
  replyId: string,
  action: UnitAction,
): Promise<Ticket> {
  const link = await deps.store.getReplyLink(replyId);
  if (!link)
    throw new NotFoundError('no such link', [{ field: 'replyId', problem: 'no such link' }]);
  const actor: Actor = { kind: 'unit', id: `link:${link.unitId}`, unitId: link.unitId };
  return act(deps, link.ticketId, link.unitId, action, actor, replyId);
}

/** The same actions through the API, by a signed-in clerk of the lead unit. */
export async function actAsUnit(
  deps: TicketDeps,
  ticketId: string,
  action: UnitAction,
  principal: Principal,
): Promise<Ticket> {
  requireRole(principal, ['unit']);
  const ticket = await requireTicket(deps, ticketId);
  if (ticket.leadUnit !== principal.unitId) {
    throw new ForbiddenError('only the lead unit may act on this ticket', [
      { field: 'id', problem: 'ticket is not led by your unit' },
    ]);
  }
  return act(deps, ticketId, principal.unitId!, action, {
    kind: 'unit',
    id: principal.subject,
    unitId: principal.unitId!,
  });
}

async function act(
  deps: TicketDeps,
  ticketId: string,
  unitId: string,
  action: UnitAction,
  actor: Actor,
  replyId?: string,
): Promise<Ticket> {
  const transition = await withFreshTicket(
    deps,
    ticketId,
    async (ticket, wait) => {
      if (
        replyId &&
        (wait?.replyId !== replyId ||
          ticket.leadUnit !== unitId ||
          !UNIT_STAGES.includes(ticket.status))
      ) {
        throw new GoneError('this link no longer accepts actions', [
          {
            field: 'replyId',
            problem: `already used or replaced (the ticket is ${ticket.status})`,
          },
        ]);
      }
      const transition = applyUnitAction(ticket, unitId, action, actor, context(deps));
      await deps.store.save(transition);
      return transition;
    },
    Boolean(replyId),
  );
  if (action.action !== 'note') await wake(deps, transition.ticket);
  return transition.ticket;
}

const DECIDERS: Record<CentreDecision['decision'], Principal['role'][]> = {
  dispatch: ['dispatcher'],
  send_back: ['dispatcher'],
  approve_extension: ['dispatcher'],
  refuse_extension: ['dispatcher'],
  approve_unreasonable: ['reviewer'],
  refuse_unreasonable: ['reviewer'],
  approve_reply: ['dispatcher', 'reviewer'],
  return_reply: ['dispatcher', 'reviewer'],
};

/**
 * A dispatcher's topic replaces the one the ticket had (or lacked): it is the label the dispatch
 * model learns from, and the history says who chose it instead of whom.
 */
function confirmTopic(transition: Transition, topic: string): void {
  const { ticket } = transition;
  if (ticket.topic === topic && ticket.topicChoice?.by === 'person') return;
  transition.history.details = {
    ...transition.history.details,
    topic,
    ...(ticket.topic !== topic ? { previousTopic: ticket.topic ?? null } : {}),
    topicChoice: { by: 'person' },
  };
  ticket.topicChoice = {
    by: 'person',
    ...(ticket.topicChoice?.suggestions ? { suggestions: ticket.topicChoice.suggestions } : {}),
    ...(ticket.topic && ticket.topic !== topic ? { replaced: ticket.topic } : {}),
  };
  ticket.topic = topic;
}

/** The hotline centre decides on a ticket waiting for it (dispatch, returns, extensions…). */
export async function decide(
  deps: TicketDeps,
  ticketId: string,
  decision: CentreDecision,
  principal: Principal,
): Promise<Ticket> {
  requireRole(principal, DECIDERS[decision.decision]);
  if (decision.decision === 'dispatch') {
    const units = await Promise.all(
      [decision.lead, ...decision.assist].map((u) => deps.catalogue.getUnit(u)),
    );
    const missing = [decision.lead, ...decision.assist].filter((_, i) => !units[i]);
    if (missing.length > 0)
      throw fieldError(
        missing[0] === decision.lead ? 'lead' : 'assist',
        'is not a unit in the catalogue',
      );
    if (decision.topic && !(await deps.catalogue.getTopic(decision.topic)))
      throw fieldError('topic', 'is not a topic in the catalogue');
  }
  const actor: Actor = { kind: principal.role, id: principal.subject };
  const transition = await withFreshTicket(deps, ticketId, async (ticket) => {
    const transition = applyCentreDecision(ticket, decision, actor, context(deps));
    if (decision.decision === 'dispatch' && decision.topic)
      confirmTopic(transition, decision.topic);
    await deps.store.save(transition);
    return transition;
  });
  await wake(deps, transition.ticket);
  if (transition.history.event === 'extension_approved')
    await tellCallerNewDate(deps, transition.ticket);
  return transition.ticket;
}

/**
 * The caller is told the new reply date of an extended ticket, through the phone system (SMS or
 * voice); whether that worked goes into the ticket's history.
 */
async function tellCallerNewDate(deps: TicketDeps, ticket: Ticket): Promise<void> {
  const callee = ticket.caller?.phone;
  if (!callee || !ticket.deadlines.replyBy) return;
  const result = await deps.callers
    .notifyCaller({
      notificationId: `${ticket.id}.v${ticket.version}`,
      ticketId: ticket.id,
      callee,
      text: extensionNotice(ticket),
    })
    .catch((error: Error) => ({
      accepted: false as const,
      via: 'phone',
      attempts: 0,
      reason: error.name,
    }));
  await withFreshTicket(deps, ticket.id, async (fresh) => {
    await deps.store.save(
      callerInformed(fresh, result ?? { accepted: true, via: 'phone', attempts: 1 }, context(deps)),
    );
  });
}

// ─── Survey results from the phone system ────────────────────────────────────────────────────

/** The ticket a survey id belongs to: survey ids are `<ticketId>.<attempt>`. */
export function ticketOfSurvey(surveyId: string): string | undefined {
  const match = /^(\d{8}-\d{6})\.\d+$/.exec(surveyId);
  return match?.[1];
}

export type SurveyOutcome = 'recorded' | 'unknown' | 'ignored';

export async function recordSurveyAnswer(
  deps: TicketDeps,
  surveyId: string,
  answer: { resolved: boolean; satisfaction: Satisfaction },
): Promise<SurveyOutcome> {
  return applySurvey(deps, surveyId, (ticket, ctx) =>
    surveyAnswered(ticket, { surveyId, ...answer }, ctx),
  );
}

export async function recordSurveyUnreachable(
  deps: TicketDeps,
  surveyId: string,
  outcome: 'busy' | 'no_answer' | 'failed',
  /** Why the phone system could not place the call, for the ticket's history. */
  reason?: string,
): Promise<SurveyOutcome> {
  return applySurvey(deps, surveyId, (ticket, ctx) =>
    surveyUnreached(ticket, { surveyId, outcome, ...(reason ? { reason } : {}) }, ctx),
  );
}

async function applySurvey(
  deps: TicketDeps,
  surveyId: string,
  apply: (ticket: Ticket, ctx: Context) => Transition | undefined,
): Promise<SurveyOutcome> {
  const ticketId = ticketOfSurvey(surveyId);
  if (!ticketId) return 'unknown';
  const outcome = await withFreshTicket(
    deps,
    ticketId,
    async (ticket): Promise<SurveyOutcome | Ticket> => {
      if (!ticket.surveys.some((s) => s.surveyId === surveyId)) return 'unknown';
      const transition = apply(ticket, context(deps));
      if (!transition) return 'ignored';
      await deps.store.save(transition);
      return transition.ticket;
    },
  ).catch((error: unknown) => {
    // A survey id naming a ticket that does not exist is unknown, like any other stray result.
    if (error instanceof NotFoundError) return 'unknown' as const;
    throw error;
  });
  if (typeof outcome === 'string') return outcome;
  await wake(deps, outcome, (wait) => wait.surveyId === surveyId);
  return 'recorded';
}

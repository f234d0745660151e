import { assertCanView, type Principal, redactFor } from './access.ts';
import { routeByCatalogue } from './catalogue.ts';
import type { LifecycleConfig } from './config.ts';
import { ConflictError, ForbiddenError, fieldError, GoneError, NotFoundError } from './errors.ts';
import {
  type AddDuration,
  closeTicket,
  deadlinesFor,
  dispatchTicket,
  dueDeadlineEvent,
  nextStep,
  openTicket,
  recordReply,
  type Step,
  type Transition,
} from './lifecycle.ts';
import { type ChaseEvent, chaseMail, dispatchMail } from './mails.ts';
import type { CatalogueStore, Mailer, TicketDetail, TicketStore, Workflow } from './ports.ts';
import type { Actor, Intake, Ticket, UnitReply } from './ticket.ts';

export interface TicketDeps {
  store: TicketStore;
  catalogue: CatalogueStore;
  mailer: Mailer;
  workflow: Workflow;
  config: LifecycleConfig;
  addDuration: AddDuration;
  now: () => Date;
  /** The public URL of a reply link, e.g. https://12345.example.gov.cn/replies/{replyId}. */
  replyUrl: (replyId: string) => string;
  newReplyId: () => string;
}

/** Raised by a store when the ticket changed after it was read (optimistic locking). */
export class VersionConflictError extends ConflictError {}

/** The ticket number's day is the hotline's day, in Asia/Shanghai, whatever the server's zone. */
export function shanghaiDay(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
}

async function requireTicket(deps: TicketDeps, id: string): Promise<Ticket> {
  const ticket = await deps.store.get(id);
  if (!ticket)
    throw new NotFoundError(`no ticket ${id}`, [{ field: 'id', problem: 'no such ticket' }]);
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
  apply: (ticket: Ticket) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ticket = await requireTicket(deps, id);
    try {
      return await apply(ticket);
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 3) throw error;
    }
  }
}

export async function fileTicket(deps: TicketDeps, intake: Intake, actor: Actor): Promise<Ticket> {
  const [topic, district, township] = await Promise.all([
    deps.catalogue.getTopic(intake.topic),
    deps.catalogue.getArea(intake.place.district),
    intake.place.township ? deps.catalogue.getArea(intake.place.township) : undefined,
  ]);
  if (!topic) throw fieldError('topic', `unknown topic "${intake.topic}"`);
  if (district?.kind !== 'county') {
    throw fieldError('place.district', `unknown district "${intake.place.district}"`);
  }
  if (intake.place.township && (!township || township.parent !== district.id)) {
    throw fieldError(
      'place.township',
      `unknown township "${intake.place.township}" in ${district.id}`,
    );
  }
  const at = deps.now();
  const id = await deps.store.nextTicketId(shanghaiDay(at));
  const opened = openTicket({ id, intake, actor, at });
  await deps.store.save(opened);
  await deps.workflow.startLifecycle(id);
  return opened.ticket;
}

export async function viewTicket(
  deps: TicketDeps,
  id: string,
  principal: Principal,
): Promise<Omit<TicketDetail, 'wait'>> {
  const detail = await deps.store.getDetail(id);
  if (!detail)
    throw new NotFoundError(`no ticket ${id}`, [{ field: 'id', problem: 'no such ticket' }]);
  assertCanView(principal, detail.ticket);
  return { ticket: redactFor(principal, detail.ticket), history: detail.history };
}

export interface StepResult {
  ticketId: string;
  step: Step;
}

export async function decideNextStep(deps: TicketDeps, id: string): Promise<StepResult> {
  const ticket = await requireTicket(deps, id);
  return { ticketId: id, step: nextStep(ticket, deps.now()) };
}

/** 派单: the catalogue picks the lead unit; the deadlines start from this moment. */
export async function routeTicket(deps: TicketDeps, id: string): Promise<Transition | undefined> {
  return withFreshTicket(deps, id, async (ticket) => {
    if (ticket.status !== 'received') return undefined;
    const topic = await deps.catalogue.getTopic(ticket.topic);
    if (!topic) throw new Error(`topic ${ticket.topic} vanished from the catalogue`);
    const decision = routeByCatalogue(topic, ticket.place, await unitsById(deps));
    if (decision.kind === 'manual') {
      throw new ManualDispatchNeeded(decision.reason);
    }
    const at = deps.now();
    const deadlines = deadlinesFor(ticket, deps.config, deps.addDuration, at);
    const transition = dispatchTicket(ticket, { decision, deadlines, at });
    await deps.store.save(transition);
    return transition;
  });
}

/** The workflow names this error in a Catch; manual dispatch is the lifecycle issue's next step. */
export class ManualDispatchNeeded extends Error {
  override name = 'ManualDispatchNeeded';
}

async function unitsById(deps: TicketDeps) {
  return new Map((await deps.catalogue.listUnits()).map((u) => [u.id, u]));
}

async function requireUnit(deps: TicketDeps, unitId: string | undefined) {
  const unit = unitId ? await deps.catalogue.getUnit(unitId) : undefined;
  if (!unit) throw new Error(`unit ${unitId ?? '(none)'} is not in the catalogue`);
  return unit;
}

/**
 * Opens the wait for the lead unit's reply: a fresh reply id replaces any earlier one (so an old
 * link stops working), the task token is kept server-side, and the unit is mailed the link.
 */
export async function awaitUnitReply(
  deps: TicketDeps,
  id: string,
  taskToken: string,
): Promise<void> {
  const detail = await deps.store.getDetail(id);
  if (!detail) throw new Error(`ticket ${id} vanished while its workflow ran`);
  const { ticket, wait } = detail;
  if (ticket.status !== 'dispatched') {
    // Already answered between the decision and this task: wake the workflow so it moves on.
    await deps.workflow.resume(taskToken, { ticketId: id });
    return;
  }
  const unit = await requireUnit(deps, ticket.leadUnit);
  const event = latestChase(ticket);
  // A resumed execution (after a restart or a deploy) keeps the link the unit already has; only a
  // dispatch or a new chase event sends mail with a fresh link.
  const unchanged = wait && wait.unitId === unit.id && (!event || event.at <= wait.issuedAt);
  const replyId = unchanged ? wait.replyId : deps.newReplyId();
  await deps.store.openWait({
    ticketId: id,
    kind: 'unit_reply',
    unitId: unit.id,
    replyId,
    taskToken,
    issuedAt: unchanged ? wait.issuedAt : deps.now().toISOString(),
  });
  if (unchanged) return;
  const mail = event
    ? chaseMail(ticket, unit, event.kind, deps.replyUrl(replyId))
    : dispatchMail(ticket, unit, deps.replyUrl(replyId));
  await deps.mailer.send({ to: [unit.email], ...mail });
}

function latestChase(ticket: Ticket): { kind: ChaseEvent; at: string } | undefined {
  const { reportedAt, overdueAt, remindedAt } = ticket.chase;
  if (reportedAt) return { kind: 'marked_for_report', at: reportedAt };
  if (overdueAt) return { kind: 'overdue', at: overdueAt };
  if (remindedAt && remindedAt !== 'skipped') return { kind: 'reminded', at: remindedAt };
  return undefined;
}

/** Records the deadline event that is due (催办, 督办, 通报), once. */
export async function chaseTicket(deps: TicketDeps, id: string): Promise<Transition | undefined> {
  return withFreshTicket(deps, id, async (ticket) => {
    const transition = dueDeadlineEvent(ticket, deps.now());
    if (!transition) return undefined;
    await deps.store.save(transition);
    return transition;
  });
}

export async function finishTicket(deps: TicketDeps, id: string): Promise<Transition | undefined> {
  return withFreshTicket(deps, id, async (ticket) => {
    if (ticket.status !== 'replied') return undefined;
    const transition = closeTicket(ticket, deps.now());
    await deps.store.save(transition);
    return transition;
  });
}

/** What the page behind a reply link shows: the ticket as its unit may see it. */
export async function viewByReplyLink(
  deps: TicketDeps,
  replyId: string,
): Promise<{ ticket: Ticket; open: boolean }> {
  const link = await deps.store.getReplyLink(replyId);
  if (!link)
    throw new NotFoundError('no such reply link', [
      { field: 'replyId', problem: 'no such reply link' },
    ]);
  const detail = await deps.store.getDetail(link.ticketId);
  if (!detail)
    throw new NotFoundError('no such reply link', [
      { field: 'replyId', problem: 'no such reply link' },
    ]);
  const unitView: Principal = {
    subject: `reply-link:${link.unitId}`,
    role: 'unit',
    unitId: link.unitId,
  };
  return {
    ticket: redactFor(unitView, detail.ticket),
    open: link.status === 'open' && detail.wait?.replyId === replyId,
  };
}

/**
 * A unit's reply through its mail link. The link is the credential; a clerk who is also signed in
 * must belong to the unit the link was issued to.
 */
export async function replyByLink(
  deps: TicketDeps,
  replyId: string,
  reply: UnitReply,
  principal: Principal | undefined,
): Promise<Ticket> {
  const link = await deps.store.getReplyLink(replyId);
  if (!link)
    throw new NotFoundError('no such reply link', [
      { field: 'replyId', problem: 'no such reply link' },
    ]);
  if (link.status !== 'open') {
    throw new GoneError('this reply link has already been used', [
      { field: 'replyId', problem: 'already used' },
    ]);
  }
  if (principal && (principal.role !== 'unit' || principal.unitId !== link.unitId)) {
    throw new ForbiddenError('this reply link belongs to another unit', [
      { field: 'replyId', problem: 'issued to another unit' },
    ]);
  }
  const actor: Actor = principal
    ? { kind: 'unit', id: principal.subject, unitId: link.unitId }
    : { kind: 'unit', id: `reply-link:${link.unitId}`, unitId: link.unitId };
  return submitReply(deps, link.ticketId, replyId, reply, actor);
}

/** The same reply through the API, by a signed-in clerk of the lead unit. */
export async function replyAsUnit(
  deps: TicketDeps,
  ticketId: string,
  reply: UnitReply,
  principal: Principal,
): Promise<Ticket> {
  const detail = await deps.store.getDetail(ticketId);
  if (!detail)
    throw new NotFoundError(`no ticket ${ticketId}`, [{ field: 'id', problem: 'no such ticket' }]);
  if (principal.role !== 'unit' || detail.ticket.leadUnit !== principal.unitId) {
    throw new ForbiddenError('only the lead unit may reply to this ticket', [
      { field: 'id', problem: 'ticket is not led by your unit' },
    ]);
  }
  if (!detail.wait) {
    throw new ConflictError('the ticket is not waiting for a reply', [
      { field: 'status', problem: `is ${detail.ticket.status}` },
    ]);
  }
  return submitReply(deps, ticketId, detail.wait.replyId, reply, {
    kind: 'unit',
    id: principal.subject,
    unitId: principal.unitId,
  });
}

async function submitReply(
  deps: TicketDeps,
  ticketId: string,
  replyId: string,
  reply: UnitReply,
  actor: Actor,
): Promise<Ticket> {
  const { transition, taskToken } = await withFreshTicket(deps, ticketId, async (ticket) => {
    const detail = await deps.store.getDetail(ticketId);
    if (!detail?.wait || detail.wait.replyId !== replyId) {
      throw new GoneError('this reply link has been replaced by a newer one', [
        { field: 'replyId', problem: 'superseded or already answered' },
      ]);
    }
    const transition = recordReply(ticket, {
      reply,
      unitId: detail.wait.unitId,
      actor,
      at: deps.now(),
    });
    await deps.store.save(transition, { consumeWait: { replyId } });
    return { transition, taskToken: detail.wait.taskToken };
  });
  // The reply is recorded; waking the workflow is best effort because it re-reads the ticket when
  // its wait ends anyway.
  await deps.workflow.resume(taskToken, { ticketId });
  return transition.ticket;
}

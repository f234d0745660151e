/**
 * Plays a seeded plan (plan.ts) against the local stack through its public interfaces only: the
 * phone system's signed webhooks for intake and survey answers, the operator's POST /tickets for
 * what the webhook format cannot carry, the units' mailed links, and the centre's decisions. The
 * virtual clock is moved forward in fixed steps; nothing sleeps for real.
 */

import { type Catalogue, routeByCatalogue } from '#core/catalogue';
import { type Counters, emptyCounters, rankUnits, type UnitScore } from '#core/metrics';
import { signStandardWebhook } from '#core/phone/standard-webhooks';
import { METRIC_COUNTERS, type MetricCounter, type Ticket } from '#core/ticket';
import sampleCounty from '#data/sample-county.json' with { type: 'json' };
import { invocationCounts } from '#local/functions';
import {
  countRequests,
  type RequestCounts,
  snapshotCounts,
  stopCountingRequests,
  subtractCounts,
} from '#local/request-counts';
import { Semaphore } from '#local/semaphore';
import { type LocalStack, startLocalStack } from '#local/stack';
import { startSimulatedPbx } from './pbx.ts';
import {
  expectedOutcomes,
  type Mix,
  makePlan,
  type PlannedCall,
  type SurveyRound,
  streamFor,
} from './plan.ts';

export interface SimulationOptions {
  seed: number;
  /** Calls per virtual day. */
  volume: number;
  days: number;
  mix?: Partial<Mix>;
  /** The virtual clock's own pace between steps (1: it only moves when stepped). */
  speed?: number;
  /** Virtual minutes per step of the clock. */
  stepMinutes?: number;
  /** Virtual start; default Monday 16 November 2026, 00:00 in Asia/Shanghai. */
  start?: Date;
  /** Requests in flight at once against the gateway. */
  concurrency?: number;
  /** Stop after this many virtual days even if tickets are still open. */
  horizonDays?: number;
  dynamodbEndpoint?: string;
  tableName?: string;
  /** Publish a bulletin when unreasonable applications were approved. */
  bulletin?: boolean;
  /** Count every AWS SDK request by origin and operation (result.requests). */
  countRequests?: boolean;
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  virtualMs: number;
  startMs: number;
  callsEndMs: number;
  filed: number;
  planned: number;
  finished: number;
  scripts: number;
  wallMs: number;
  done: boolean;
}

export interface TicketOutcome {
  index: number;
  kind: PlannedCall['kind'];
  ticketId?: string;
  status: string;
  closure?: string;
  flagged: boolean;
  reopenCount: number;
  returnedBy: string[];
  extendedWorkingDays: number;
  survey?: { reached: boolean; resolved?: boolean; satisfaction?: string };
  leadUnit?: string;
  events: string[];
}

export interface SimulationResult {
  options: Omit<SimulationOptions, 'onProgress'>;
  machine: { cpus: number; node: string };
  virtual: { start: string; callsEnd: string; end: string };
  wall: { setupMs: number; intakeMs: number; runMs: number; collectMs: number; totalMs: number };
  planned: number;
  expected: Record<string, number>;
  actual: Record<string, number>;
  mismatches: { index: number; kind: string; expected: string; actual: string }[];
  outcomes: TicketOutcome[];
  callbacksListed: number;
  metrics: {
    periods: string[];
    units: UnitScore[];
    totals: Counters;
    /** The same counters summed from every ticket's own record of what it added. */
    fromTickets: Counters;
    /** Every counter below zero in any month or day of the run (`period unit counter n`). */
    negative: string[];
  };
  cost: {
    executions: number;
    stateTransitions: number;
    workflowLambdaInvocations: number;
    functionInvocations: Record<string, number>;
    mails: number;
    mailsByKind: Record<string, number>;
  };
  timeline: { at: string; counts: Record<string, number> }[];
  bulletin?: {
    approvedCases: number;
    issue?: number;
    url?: string;
    note: string;
    html?: string;
  };
  throughput: {
    tickets: number;
    finishedTickets: number;
    perWallSecond: number;
    intakePerWallSecond: number;
  };
  /** 智能派单 (mix.suggest, mix.operatorError): how the calls without the right topic fared. */
  dispatch?: DispatchFigures;
  /**
   * With `countRequests`: every AWS SDK request, from the stack's start to the end of the
   * simulation (`run`), and while the simulator reads its results back (`collect`).
   */
  requests?: { run: RequestCounts; collect: RequestCounts };
  errors: string[];
}

export interface DispatchFigures {
  /** Calls filed without a topic, and the model's figures on them. */
  suggested: number;
  top1: number;
  top3: number;
  /** Share dispatched by the model without a dispatcher, and how often that was right. */
  automatic: number;
  automaticPrecision: number;
  /** Returns (退单) caused by a wrong dispatch: the model's, and the operators' wrong picks. */
  returnsAfterModel: number;
  operatorErrors: number;
  returnsAfterOperator: number;
}

/** The unit the catalogue sends a topic to at a township: where a corrected ticket goes. */
const catalogue = sampleCounty as unknown as Catalogue;
const unitsById = new Map(catalogue.units.map((u) => [u.id, u]));
function rightLead(topic: string, township: string | undefined): string {
  const t = catalogue.topics.find((x) => x.id === topic);
  const route =
    t &&
    routeByCatalogue(t, { district: 'qingshan', ...(township ? { township } : {}) }, unitsById);
  return route?.kind === 'unit' ? route.lead : `${township}-office`;
}

export function dispatchFigures(
  records: readonly { plan: PlannedCall; choice?: Choice }[],
): DispatchFigures {
  const suggested = records.filter((r) => r.plan.topicless && r.choice);
  const automatic = suggested.filter((r) => r.choice!.automatic);
  const share = (n: number, of: number) => (of ? n / of : 0);
  const operator = records.filter((r) => r.plan.operatorTopic && r.choice);
  return {
    suggested: suggested.length,
    top1: share(
      suggested.filter((r) => r.choice!.suggestions?.[0] === r.plan.topic).length,
      suggested.length,
    ),
    top3: share(
      suggested.filter((r) => r.choice!.suggestions?.includes(r.plan.topic)).length,
      suggested.length,
    ),
    automatic: share(automatic.length, suggested.length),
    automaticPrecision: share(
      automatic.filter(
        (r) => r.choice!.outcome !== 'wrong' && r.choice!.outcome !== 'wrong_same_unit',
      ).length,
      automatic.length,
    ),
    returnsAfterModel: suggested.filter((r) => r.choice!.outcome === 'wrong').length,
    operatorErrors: operator.length,
    returnsAfterOperator: operator.filter((r) => r.choice!.outcome === 'wrong').length,
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const REVIEWERS = 'bulletin-review@12345.qingshan.example.gov.cn';
const unitEmail = new Map(sampleCounty.units.map((u) => [u.id, u.email]));
const FINAL = new Set(['closed', 'merged']);

// ─── A cooperative scheduler on virtual time ────────────────────────────────────────────────

/**
 * Each call's script is an async function that waits for virtual moments. The main loop moves the
 * clock, releases the scripts whose moment came, and waits until every one of them is parked
 * again (or done) and the workflows are idle before it moves the clock on.
 */
class Scheduler {
  running = 0;
  private waiters: { at: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;
  private sorted = true;
  private quietResolvers: (() => void)[] = [];
  constructor(readonly now: () => number) {}

  park(): void {
    this.running--;
    if (this.running === 0) for (const r of this.quietResolvers.splice(0)) r();
  }
  unpark(): void {
    this.running++;
  }
  until(at: number): Promise<void> {
    this.park();
    return new Promise((resolve) => {
      const wake = () => {
        this.unpark();
        resolve();
      };
      this.waiters.push({ at, seq: this.seq++, resolve: wake });
      this.sorted = false;
    });
  }
  after(ms: number): Promise<void> {
    return this.until(this.now() + ms);
  }
  spawn(script: () => Promise<void>, onError: (e: unknown) => void): void {
    this.running++;
    void script()
      .catch(onError)
      .finally(() => this.park());
  }
  /** Releases every script due by `at`; returns how many. */
  release(at: number): number {
    if (!this.sorted) {
      this.waiters.sort((a, b) => a.at - b.at || a.seq - b.seq);
      this.sorted = true;
    }
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.at <= at) n++;
    for (const w of this.waiters.splice(0, n)) w.resolve();
    return n;
  }
  quiet(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.quietResolvers.push(resolve));
  }
  get pending(): number {
    return this.waiters.length;
  }
}

/** A one-shot signal a script can wait on without holding the step open. */
class Gate {
  private opened = false;
  private waiter: (() => void) | undefined;
  constructor(private readonly scheduler: Scheduler) {}
  wait(): Promise<void> {
    if (this.opened) return Promise.resolve();
    this.scheduler.park();
    return new Promise((resolve) => {
      this.waiter = () => {
        this.scheduler.unpark();
        resolve();
      };
    });
  }
  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.waiter?.();
  }
}

/** How a ticket filed without a topic (or with the operator's wrong one) reached its unit. */
interface Choice {
  /** The model's top three, for a topicless call. */
  suggestions?: string[];
  /** The model took its top topic (it was sure enough). */
  automatic?: boolean;
  /** `wrong`: dispatched to another unit, which returned it (退单); `manual`: left to a dispatcher. */
  outcome: 'right' | 'wrong' | 'wrong_same_unit' | 'manual';
}

interface Record_ {
  plan: PlannedCall;
  ticketId?: string;
  choice?: Choice;
  round: number;
  attempt: number;
  rounds: Gate[];
}

// ─── The run ────────────────────────────────────────────────────────────────────────────────

export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const wall0 = performance.now();
  const requestCounts = options.countRequests ? countRequests() : undefined;
  // Invocation counts are per process: a second run in the same process counts from here.
  const invocationsBefore = new Map(invocationCounts());
  const stepMs = (options.stepMinutes ?? 15) * MINUTE;
  const start = options.start ?? new Date('2026-11-15T16:00:00Z');
  const plan = makePlan({
    seed: options.seed,
    volume: options.volume,
    days: options.days,
    ...(options.mix ? { mix: options.mix } : {}),
  });
  const errors: string[] = [];
  // fetch's own message is only "fetch failed": the reason (ECONNRESET, a socket closed…) is its cause.
  const failure = (e: unknown) => {
    const { message, cause } = e as Error & { cause?: { code?: string; message?: string } };
    const reason = cause?.code ?? cause?.message;
    return reason ? `${message} (${reason})` : message;
  };
  const error = (message: string) => {
    if (errors.length < 200) errors.push(message);
  };
  const records: Record_[] = plan.map((p) => ({ plan: p, round: 0, attempt: 0, rounds: [] }));
  const byTicket = new Map<string, Record_>();
  let stack: LocalStack | undefined;
  let scheduler: Scheduler | undefined;

  // Survey requests arrive while a Lambda runs; the answer is played back as a script of its own.
  const onSurvey = ({ surveyId, ticketId }: { surveyId: string; ticketId: string }) => {
    const rec = byTicket.get(ticketId);
    if (!stack || !scheduler || !rec) return error(`survey ${surveyId} for an unknown ticket`);
    const round: SurveyRound | undefined = rec.plan.surveys?.[rec.round];
    if (!round) return error(`ticket #${rec.plan.index}: a survey the plan has no answer for`);
    const attempt = ++rec.attempt;
    const roundIndex = rec.round;
    const rand = streamFor(options.seed, rec.plan.index, 100 + roundIndex * 10 + attempt);
    const reached = round.kind === 'answered' && !(round.busyFirst && attempt === 1);
    const ends = reached || attempt >= 3;
    if (ends) {
      rec.round++;
      rec.attempt = 0;
    }
    const delay = (reached ? 20 : 5) * MINUTE + Math.floor(rand() * 90 * MINUTE);
    const s = stack;
    const sched = scheduler;
    sched.spawn(
      async () => {
        await sched.after(delay);
        const body =
          round.kind === 'answered' && reached
            ? { surveyId, resolvedKey: round.resolvedKey, satisfactionKey: round.satisfactionKey }
            : { surveyId, reason: attempt === 1 ? ('no_answer' as const) : ('busy' as const) };
        const status = await http.run(() =>
          pbx.answer(s.phone.webhooks.standard, answerSecret, s.clock.now(), body),
        );
        if (status !== 200) error(`survey answer ${surveyId}: HTTP ${status}`);
        if (ends) gateOf(rec, roundIndex).open();
      },
      (e) => error(`survey answer ${surveyId}: ${failure(e)}`),
    );
  };
  const gateOf = (rec: Record_, round: number) => {
    while (rec.rounds.length <= round) rec.rounds.push(new Gate(scheduler!));
    return rec.rounds[round]!;
  };

  let clockNow = () => Date.now();
  const pbx = await startSimulatedPbx(() => new Date(clockNow()), onSurvey);
  const http = new Semaphore(options.concurrency ?? 24);
  let answerSecret = '';
  try {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
    stack = await startLocalStack({
      start,
      speed: options.speed ?? 1,
      tokenUnits: [],
      ...(options.dynamodbEndpoint ? { dynamodbEndpoint: options.dynamodbEndpoint } : {}),
      ...(options.tableName ? { tableName: options.tableName } : {}),
      phoneConfig: (c) => ({
        ...c,
        surveys: { kind: 'standard', url: pbx.url, secrets: [pbx.requestSecret] },
      }),
    });
    const st = stack;
    for (const url of Object.values(st.urls))
      if (!url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to talk to ${url}`);
    clockNow = () => st.clock.nowMs();
    answerSecret = st.phone.config.standard!.secrets[0]!;
    const sched = new Scheduler(() => st.clock.nowMs());
    scheduler = sched;
    const t0 = st.clock.nowMs();
    const setupMs = performance.now() - wall0;
    // biome-ignore lint/suspicious/noExplicitAny: the simulator reads whatever JSON the API answered
    type Json = any;
    const call = (method: string, path: string, token?: string, body?: unknown) =>
      http.run(async () => {
        const headers: Record<string, string> = {};
        if (token) headers.authorization = `Bearer ${token}`;
        if (body !== undefined) headers['content-type'] = 'application/json';
        // A throttled request (429) is retried after Retry-After, as the API asks of clients.
        let response: Response;
        for (let attempt = 0; ; attempt++) {
          response = await fetch(`${st.urls.api}${path}`, {
            method,
            headers,
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          if (response.status !== 429 || attempt >= 20) break;
          await response.text();
          const wait = Number(response.headers.get('retry-after') ?? 1) || 1;
          await new Promise((r) => setTimeout(r, Math.min(wait, 5) * 1000));
        }
        const text = await response.text();
        let parsed: Json;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        return { status: response.status, body: parsed as Json, text };
      });
    const webhook = (body: unknown, id: string) =>
      http.run(async () => {
        const raw = JSON.stringify(body);
        const headers = signStandardWebhook({
          id,
          timestamp: st.clock.now(),
          body: raw,
          secret: answerSecret,
        });
        const response = await fetch(st.phone.webhooks.standard, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: raw,
        });
        const text = await response.text();
        return { status: response.status, body: JSON.parse(text) as Json, text };
      });

    // The units' mailboxes: reply links by ticket and unit address, read from the outbox.
    const links = new Map<string, string>();
    let mailCursor = 0;
    let mailGeneration = -1;
    let generation = 0;
    const refreshMail = () => {
      if (mailGeneration === generation) return;
      mailGeneration = generation;
      const mails = st.ses.messages(mailCursor);
      for (const mail of mails) {
        const id = /\d{8}-\d{6}/.exec(mail.subject)?.[0];
        const link = /\/replies\/([A-Za-z0-9_-]{32})/.exec(mail.text ?? '')?.[1];
        if (id && link) for (const to of mail.to) links.set(`${id}|${to}`, link);
      }
      mailCursor += mails.length;
    };
    const linkFor = async (ticketId: string, unit: string): Promise<string> => {
      const key = `${ticketId}|${unitEmail.get(unit)}`;
      for (let tries = 0; tries < 8; tries++) {
        if (!links.has(key)) refreshMail();
        const link = links.get(key);
        if (link) return link;
        await sched.after(stepMs);
      }
      throw new Error(`no mail with a link for ${ticketId} to ${unit}`);
    };
    const view = async (id: string): Promise<Json> => {
      const r = await call('GET', `/tickets/${id}`, st.tokens.dispatcher);
      if (r.status !== 200) throw new Error(`GET /tickets/${id}: ${r.status}`);
      return r.body.ticket;
    };
    const waitForStatus = async (id: string, statuses: string[]): Promise<Json> => {
      for (let tries = 0; tries < 12; tries++) {
        const ticket = await view(id);
        if (statuses.includes(ticket.status)) return ticket;
        await sched.after(stepMs);
      }
      throw new Error(`${id} never reached ${statuses.join('/')}`);
    };
    const expectOk = async <R extends { status: number; text: string }>(
      label: string,
      request: () => Promise<R>,
    ): Promise<R> => {
      for (let attempt = 1; ; attempt++) {
        const r = await request();
        if (r.status === 200 || r.status === 201) return r;
        // 409: a deadline event got to the ticket first; the person simply tries again.
        if (r.status !== 409 || attempt >= 4) throw new Error(`${label}: ${r.status} ${r.text}`);
        await sched.after(MINUTE);
      }
    };
    const act = (id: string, link: string, body: unknown) =>
      expectOk(`${id} ${(body as { action: string }).action}`, () =>
        call('POST', `/replies/${link}`, undefined, body),
      );
    const decide = (id: string, role: 'dispatcher' | 'reviewer', body: unknown) =>
      expectOk(`${id} ${(body as { decision: string }).decision}`, () =>
        call('POST', `/tickets/${id}/decisions`, st.tokens[role], body),
      );
    const between = (from: string | number, to: string, f: number) => {
      const a = typeof from === 'number' ? from : Date.parse(from);
      return a + (Date.parse(to) - a) * f;
    };

    let filed = 0;
    let finished = 0;
    let lastIntakeWall = performance.now();
    const completedCall = (p: PlannedCall, withTicket: boolean, topic = filedTopic(p)) => ({
      type: 'call.completed',
      timestamp: st.clock.now().toISOString(),
      data: {
        callId: p.callId,
        callerNumber: p.callerPhone,
        calledNumber: '12345',
        durationSeconds: 60 + (p.index % 400),
        ...(withTicket
          ? {
              ticket: {
                callerName: p.callerName,
                callerPhone: p.callerPhone,
                content: p.content,
                category: p.category,
                ...topic,
                place: {
                  district: 'qingshan',
                  ...(p.township ? { township: p.township } : {}),
                  address: p.address,
                },
                urgency: p.urgency,
                confidential: p.confidential,
              },
            }
          : {}),
      },
    });

    /**
     * A second call about a ticket filed without the right topic is filed on the topic that ticket
     * has by then, as an operator who finds it open would (once a dispatcher has given it one).
     */
    const duplicateTopic = async (p: PlannedCall): Promise<{ topic?: string }> => {
      const original = p.duplicateOf === undefined ? undefined : records[p.duplicateOf];
      if (!original || !(original.plan.topicless || original.plan.operatorTopic))
        return filedTopic(p);
      for (let tries = 0; tries < 48; tries++) {
        if (original.ticketId) {
          const topic = (await view(original.ticketId)).topic as string | undefined;
          if (topic) return { topic };
        }
        await sched.after(stepMs);
      }
      return filedTopic(p);
    };

    /** 受理: returns the ticket id, or undefined for a missed call. */
    const intake = async (rec: Record_): Promise<string | undefined> => {
      const p = rec.plan;
      if (p.kind === 'missed') {
        await expectOk(`call ${p.callId} missed`, () =>
          webhook(
            {
              type: 'call.missed',
              timestamp: st.clock.now().toISOString(),
              data: {
                callId: p.callId,
                callerNumber: p.callerPhone,
                calledNumber: '12345',
                reason: 'abandoned',
                waitSeconds: 30 + (p.index % 300),
              },
            },
            `msg_${p.callId}_missed`,
          ),
        );
        return undefined;
      }
      const topic = await duplicateTopic(p);
      // The webhook's embedded ticket has no disposition, noSubstance nor noCallback: those are
      // filed by the operator through POST /tickets, and the call itself is reported without one.
      const byOperator = p.kind === 'answered' || p.kind === 'no_substance' || p.noCallback;
      const completed = await expectOk(`call ${p.callId} completed`, () =>
        webhook(completedCall(p, !byOperator, topic), `msg_${p.callId}_completed`),
      );
      if (!byOperator) {
        const id = completed.body?.ticketIds?.[0] as string | undefined;
        if (!id) throw new Error(`call ${p.callId}: no ticket id in ${completed.text}`);
        return id;
      }
      const answered = p.kind === 'answered' || p.kind === 'no_substance';
      const created = await expectOk(`ticket for ${p.callId}`, () =>
        call('POST', '/tickets', st.tokens.operator, {
          channel: 'phone',
          caller: { name: p.callerName, phone: p.callerPhone },
          content: p.content,
          category: p.category,
          ...topic,
          place: {
            district: 'qingshan',
            ...(p.township ? { township: p.township } : {}),
            address: p.address,
          },
          urgency: p.urgency,
          confidential: p.confidential,
          noCallback: p.noCallback,
          callId: p.callId,
          ...(p.kind === 'no_substance' ? { noSubstance: true } : {}),
          ...(answered
            ? { disposition: { kind: 'answered', answer: '已按知识库答复来电人。' } }
            : {}),
        }),
      );
      return created.body.id as string;
    };

    /**
     * A ticket filed without the right topic: a dispatcher gives the one the model was unsure of
     * (with the right unit), and a unit that got a wrong topic's ticket returns it (退单) and the
     * dispatcher re-dispatches it with the right topic. A wrong topic the right unit handles
     * anyway is nobody's concern (its label stays the model's, unreviewed).
     */
    const correctTopic = async (rec: Record_, id: string, centreHours: number) => {
      const p = rec.plan;
      const t = await waitForStatus(id, ['dispatched', 'awaiting_dispatch']);
      const lead = rightLead(p.topic, p.township);
      const choice: Choice = { outcome: 'right' };
      if (p.topicless) {
        choice.suggestions = (t.topicChoice?.suggestions ?? []).map(
          (s: { topic: string }) => s.topic,
        );
        choice.automatic = t.topicChoice?.probability !== undefined;
      }
      rec.choice = choice;
      const redispatch = async () => {
        await sched.after(centreHours * HOUR);
        await decide(id, 'dispatcher', { decision: 'dispatch', lead, assist: [], topic: p.topic });
      };
      if (t.status === 'awaiting_dispatch') {
        choice.outcome = 'manual';
        await redispatch();
      } else if (t.topic !== p.topic && t.leadUnit !== lead) {
        choice.outcome = 'wrong';
        const link = await linkFor(id, t.leadUnit);
        await sched.until(between(t.dispatchedAt, t.deadlines.signBy, 0.2));
        await act(id, link, { action: 'return', reason: '该事项不属于本单位职责，请改派。' });
        await redispatch();
      } else if (t.topic !== p.topic) choice.outcome = 'wrong_same_unit';
    };

    const script = async (rec: Record_) => {
      const p = rec.plan;
      await sched.until(t0 + p.atMs);
      const id = await intake(rec);
      filed++;
      lastIntakeWall = performance.now();
      if (!id) return;
      rec.ticketId = id;
      byTicket.set(id, rec);
      const u = p.unit;
      if (p.kind !== 'dispatched' || !u) return;
      if (u.manualLead) {
        await waitForStatus(id, ['awaiting_dispatch']);
        await sched.after(u.centreHours * HOUR);
        await decide(id, 'dispatcher', { decision: 'dispatch', lead: u.manualLead, assist: [] });
      }
      if (p.topicless || p.operatorTopic) await correctTopic(rec, id, u.centreHours);
      let t = await waitForStatus(id, ['dispatched']);
      let link = await linkFor(id, t.leadUnit);
      if (u.returnTo) {
        await sched.until(between(t.dispatchedAt, t.deadlines.signBy, 0.2));
        await act(id, link, { action: 'return', reason: '该事项不属于本单位职责，请改派。' });
        await sched.after(u.centreHours * HOUR);
        await decide(id, 'dispatcher', {
          decision: 'dispatch',
          lead: u.returnTo,
          assist: [],
          note: '改派',
        });
        t = await waitForStatus(id, ['dispatched']);
        link = await linkFor(id, u.returnTo);
      }
      await sched.until(
        u.signLate
          ? Date.parse(t.deadlines.signBy) + 2 * HOUR
          : between(t.dispatchedAt, t.deadlines.signBy, 0.3),
      );
      await act(id, link, { action: 'sign' });
      t = await view(id);
      if (u.extension) {
        await sched.until(between(sched.now(), t.deadlines.replyBy, 0.3));
        await act(id, link, {
          action: 'extend',
          workingDays: 5,
          reason: '需协调多个部门现场处置。',
        });
        await sched.after(u.centreHours * HOUR);
        await decide(
          id,
          'dispatcher',
          u.extension === 'approved'
            ? { decision: 'approve_extension' }
            : { decision: 'refuse_extension', note: '理由不充分，请按期办结。' },
        );
        t = await waitForStatus(id, ['handling']);
      }
      if (u.unreasonable) {
        await sched.until(between(sched.now(), t.deadlines.replyBy, 0.3));
        await act(id, link, {
          action: 'unreasonable',
          category: u.unreasonable.category,
          evidence: '经现场核实，诉求无事实依据或超出职责范围，附核查记录。',
        });
        await sched.after(u.centreHours * HOUR);
        if (u.unreasonable.approved) {
          await decide(id, 'reviewer', {
            decision: 'approve_unreasonable',
            publicSummary: '某市民来电提出诉求，经核查不属于合理合规诉求。',
            finding: '经承办单位核查和热线审核，该诉求不合理。',
            basis: '《12345政务服务便民热线不合理诉求处置办法》',
            reply: '感谢来电，已向来电人说明情况，建议通过合法途径解决。',
          });
          return;
        }
        await decide(id, 'reviewer', { decision: 'refuse_unreasonable', note: '证据不足。' });
        t = await waitForStatus(id, ['handling']);
      }
      for (let round = 0; ; round++) {
        const late = round === 0 && u.replyLate;
        await sched.until(
          late
            ? Date.parse(t.deadlines.replyBy) + 26 * HOUR
            : between(sched.now(), t.deadlines.replyBy, 0.5),
        );
        await act(id, link, {
          action: 'reply',
          content: round === 0 ? '已现场核查并处理。' : '已再次处理并与来电人沟通。',
          resolved: true,
          basis: '相关法律法规及工作职责',
        });
        const survey = p.surveys?.[round];
        if (!survey) return;
        await gateOf(rec, round).wait();
        const reopens =
          survey.kind === 'answered' &&
          survey.resolvedKey === '2' &&
          survey.satisfactionKey === '3';
        if (!reopens || round >= 2) return;
        await sched.after(2 * HOUR);
        t = await waitForStatus(id, ['handling']);
      }
    };

    for (const rec of records)
      sched.spawn(
        () => script(rec).finally(() => finished++),
        (e) => error(`#${rec.plan.index} ${rec.plan.kind}: ${failure(e)}`),
      );

    const callsEnd = t0 + options.days * 24 * HOUR;
    const horizon = callsEnd + (options.horizonDays ?? 90) * 24 * HOUR;
    const progress = (done: boolean) =>
      options.onProgress?.({
        virtualMs: st.clock.nowMs(),
        startMs: t0,
        callsEndMs: callsEnd,
        filed,
        planned: plan.length,
        finished,
        scripts: records.length,
        wallMs: performance.now() - wall0,
        done,
      });
    const runStart = performance.now();
    let lastProgress = 0;
    await sched.quiet();
    for (;;) {
      for (;;) {
        generation++;
        const released = sched.release(st.clock.nowMs());
        await sched.quiet();
        await st.sfn.waitForIdle(600_000);
        if (released === 0) break;
      }
      if (performance.now() - lastProgress > 250) {
        lastProgress = performance.now();
        progress(false);
      }
      if (sched.pending === 0 && sched.running === 0) break;
      if (st.clock.nowMs() >= horizon) {
        error(`stopped at the horizon with ${sched.pending} scripts still waiting`);
        break;
      }
      const now = st.clock.nowMs();
      st.clock.advance(Math.max(0, (Math.floor((now - t0) / stepMs) + 1) * stepMs + t0 - now));
    }
    const runMs = performance.now() - runStart;
    // A script parked on a survey that never came is not on the clock: say so rather than wait.
    if (finished < records.length)
      error(`${records.length - finished} scripts never finished (waiting for a survey or a mail)`);
    const intakeMs = lastIntakeWall - runStart;
    progress(true);

    // ─── What the system says happened ────────────────────────────────────────────────────
    const collect0 = performance.now();
    const runRequests = requestCounts && snapshotCounts(requestCounts);
    const outcomes: TicketOutcome[] = [];
    const histories = new Map<number, { at: number; to: string }[]>();
    await Promise.all(
      records.map(async (rec) => {
        const p = rec.plan;
        if (!rec.ticketId) {
          outcomes.push({
            index: p.index,
            kind: p.kind,
            status: p.kind === 'missed' ? 'none' : 'not_filed',
            flagged: false,
            reopenCount: 0,
            returnedBy: [],
            extendedWorkingDays: 0,
            events: [],
          });
          return;
        }
        const r = await call('GET', `/tickets/${rec.ticketId}`, st.tokens.supervisor);
        const { ticket, history } = r.body as {
          ticket: Json;
          history: { at: string; to: string; event: string }[];
        };
        histories.set(
          p.index,
          history.map((h) => ({ at: Date.parse(h.at), to: h.to })),
        );
        outcomes.push({
          index: p.index,
          kind: p.kind,
          ticketId: rec.ticketId,
          status: ticket.status,
          ...(ticket.closure ? { closure: ticket.closure } : {}),
          flagged: Boolean(ticket.flaggedRepeatCaller),
          reopenCount: ticket.reopenCount,
          returnedBy: ticket.returnedBy,
          extendedWorkingDays: ticket.extendedWorkingDays,
          ...(ticket.survey ? { survey: ticket.survey } : {}),
          ...(ticket.leadUnit ? { leadUnit: ticket.leadUnit } : {}),
          events: history.map((h) => h.event),
        });
        (outcomes.at(-1) as { assessed?: unknown }).assessed = ticket.assessed;
      }),
    );
    outcomes.sort((a, b) => a.index - b.index);
    const fromTickets = emptyCounters();
    for (const o of outcomes) {
      const assessed = (o as { assessed?: Ticket['assessed'] }).assessed ?? {};
      delete (o as { assessed?: unknown }).assessed;
      for (const days of Object.values(assessed))
        for (const counters of Object.values(days))
          for (const [k, n] of Object.entries(counters)) fromTickets[k as MetricCounter] += n ?? 0;
    }

    const actual: Record<string, number> = {};
    const mismatches: SimulationResult['mismatches'] = [];
    for (const o of outcomes) {
      const key = o.status === 'closed' ? `closed:${o.closure}` : o.status;
      actual[key] = (actual[key] ?? 0) + 1;
      const p = plan[o.index]!;
      const want =
        p.expected.status === 'closed' ? `closed:${p.expected.closure}` : p.expected.status;
      const flaggedOk = (p.expected.flagged ?? false) === o.flagged;
      if (want !== key || !flaggedOk)
        mismatches.push({
          index: o.index,
          kind: p.kind,
          expected: `${want}${p.expected.flagged ? ' flagged' : ''}`,
          actual: `${key}${o.flagged ? ' flagged' : ''}`,
        });
    }

    const endMs = st.clock.nowMs();
    const periods: string[] = [];
    for (let m = new Date(t0 + 8 * HOUR); ; ) {
      const period = m.toISOString().slice(0, 7);
      periods.push(period);
      m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1));
      if (m.getTime() > endMs + 8 * HOUR) break;
    }
    const perUnit = new Map<string, Counters>();
    const negative: string[] = [];
    const days: string[] = [];
    for (let d = t0 + 8 * HOUR; d <= endMs + 8 * HOUR + 24 * HOUR; d += 24 * HOUR)
      days.push(new Date(d).toISOString().slice(0, 10));
    for (const period of [...periods, ...days]) {
      const r = await expectOk(`GET /metrics?period=${period}`, () =>
        call('GET', `/metrics?period=${period}`, st.tokens.supervisor),
      );
      for (const u of r.body.units as { unitId: string; counters: Counters }[]) {
        for (const k of METRIC_COUNTERS)
          if ((u.counters[k] ?? 0) < 0)
            negative.push(`${period} ${u.unitId} ${k} ${u.counters[k]}`);
        if (period.length > 7) continue;
        const sum = perUnit.get(u.unitId) ?? emptyCounters();
        for (const k of METRIC_COUNTERS) sum[k] += u.counters[k] ?? 0;
        perUnit.set(u.unitId, sum);
      }
    }
    const units = rankUnits([...perUnit].map(([unitId, counters]) => ({ unitId, counters })));
    const totals = emptyCounters();
    for (const u of units) for (const k of METRIC_COUNTERS) totals[k] += u.counters[k];

    let callbacksListed = 0;
    for (let d = 0; d < options.days + 1; d++) {
      const date = new Date(t0 + 8 * HOUR + d * 24 * HOUR).toISOString().slice(0, 10);
      const r = await call('GET', `/callbacks?date=${date}`, st.tokens.operator);
      callbacksListed += (r.body?.callbacks ?? []).filter((c: { callId: string }) =>
        c.callId.startsWith(`sim-${options.seed}-`),
      ).length;
    }

    let stateTransitions = 0;
    let workflowLambdaInvocations = 0;
    let executions = 0;
    const executionPrefix = `${st.lifecycleArn.replace(':stateMachine:', ':execution:')}:`;
    for (const o of outcomes) {
      if (!o.ticketId) continue;
      try {
        const s = st.sfn.stats(executionPrefix + o.ticketId);
        executions++;
        stateTransitions += s.stateTransitions;
        workflowLambdaInvocations += s.lambdaInvocations;
      } catch {
        // Closed or merged at intake: no workflow ran.
      }
    }
    const mails = st.ses.messages();
    const mailsByKind: Record<string, number> = {};
    for (const m of mails) {
      const kind =
        /^【([^】]+)】/.exec(m.subject)?.[1] ?? (m.to.includes(REVIEWERS) ? '公告审核' : 'other');
      mailsByKind[kind] = (mailsByKind[kind] ?? 0) + 1;
    }

    // ─── The timeline of stages, rebuilt from every ticket's history ─────────────────────
    const samples = 240;
    const span = Math.max(stepMs, endMs - t0);
    const timeline: SimulationResult['timeline'] = [];
    const sorted = [...histories.values()];
    for (let i = 0; i <= samples; i++) {
      const at = t0 + (span * i) / samples;
      const counts: Record<string, number> = {};
      for (const h of sorted) {
        let status: string | undefined;
        for (const entry of h) {
          if (entry.at > at) break;
          status = entry.to;
        }
        if (status) counts[status] = (counts[status] ?? 0) + 1;
      }
      timeline.push({ at: new Date(at).toISOString(), counts });
    }

    // ─── The bulletin, when there is something to publish ─────────────────────────────────
    let bulletin: SimulationResult['bulletin'];
    const approvedCases = outcomes.filter((o) => o.closure === 'unreasonable').length;
    if (approvedCases > 0 && options.bulletin !== false) {
      bulletin = { approvedCases, note: '' };
      const before = st.ses.messages().filter((m) => m.to.includes(REVIEWERS)).length;
      await st.startBulletin(`simulation-${options.seed}-${Date.now()}`);
      await st.sfn.waitForIdle(120_000);
      const review = st.ses
        .messages()
        .filter((m) => m.to.includes(REVIEWERS))
        .slice(before)
        .at(-1);
      const draftId = /\/bulletin-drafts\/([A-Za-z0-9_-]{32})/.exec(review?.text ?? '')?.[1];
      const issue = Number(/第(\d+)期/.exec(review?.subject ?? '')?.[1]);
      if (!draftId) {
        bulletin.note = 'no draft came for review (the monthly run may have published them)';
      } else {
        const r = await call('POST', `/bulletin-drafts/${draftId}/decision`, st.tokens.reviewer, {
          decision: 'approve',
          comments: '同意发布',
        });
        await st.sfn.waitForIdle(120_000);
        const url = `${st.urls.api}/bulletins/${issue}.html`;
        const page = await call('GET', `/bulletins/${issue}.html`);
        bulletin.issue = issue;
        if (r.status === 200 && page.status === 200) {
          bulletin.url = url;
          bulletin.note = `issue ${issue} approved by the reviewer and published`;
          bulletin.html = page.text;
        } else bulletin.note = `approval ${r.status}, page ${page.status}`;
      }
    }
    const collectMs = performance.now() - collect0;

    const tickets = outcomes.filter((o) => o.ticketId).length;
    const finishedTickets = outcomes.filter((o) => FINAL.has(o.status)).length;
    const counts = invocationCounts();
    return {
      options: { ...options, onProgress: undefined } as SimulationResult['options'],
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      virtual: {
        start: new Date(t0).toISOString(),
        callsEnd: new Date(callsEnd).toISOString(),
        end: new Date(endMs).toISOString(),
      },
      wall: {
        setupMs,
        intakeMs,
        runMs,
        collectMs,
        totalMs: performance.now() - wall0,
      },
      planned: plan.length,
      expected: expectedOutcomes(plan),
      actual,
      mismatches,
      outcomes,
      callbacksListed,
      metrics: { periods, units, totals, fromTickets, negative },
      cost: {
        executions,
        stateTransitions,
        workflowLambdaInvocations,
        functionInvocations: Object.fromEntries(
          [...counts].map(([k, n]) => [k, n - (invocationsBefore.get(k) ?? 0)]),
        ),
        mails: mails.length,
        mailsByKind,
      },
      timeline,
      ...(bulletin ? { bulletin } : {}),
      throughput: {
        tickets,
        finishedTickets,
        perWallSecond: finishedTickets / (runMs / 1000),
        intakePerWallSecond: filed / (Math.max(intakeMs, 1) / 1000),
      },
      ...(plan.some((p) => p.topicless || p.operatorTopic)
        ? { dispatch: dispatchFigures(records) }
        : {}),
      ...(requestCounts && runRequests
        ? {
            requests: {
              run: runRequests,
              collect: subtractCounts(snapshotCounts(requestCounts), runRequests),
            },
          }
        : {}),
      errors,
    };
  } finally {
    await stack?.close();
    await pbx.close();
    if (requestCounts) stopCountingRequests();
  }
}

/** The topic the call is filed with: none when the model is to choose, else the operator's pick. */
function filedTopic(p: PlannedCall): { topic?: string } {
  if (p.topicless) return {};
  return { topic: p.operatorTopic ?? p.topic };
}

/**
 * Counters the metrics say that the tickets do not: every assessed counter must equal the sum of
 * what each ticket recorded adding; the unreasonable counters, which an approval never takes
 * back, must equal the applications and approvals in the tickets' histories.
 */
export function metricDiscrepancies(result: SimulationResult): string[] {
  const { totals, fromTickets } = result.metrics;
  const wrong: string[] = [];
  for (const k of METRIC_COUNTERS) {
    if (k.startsWith('unreasonable')) continue;
    if (totals[k] !== fromTickets[k])
      wrong.push(`${k}: metrics ${totals[k]}, tickets ${fromTickets[k]}`);
  }
  const events = (name: string) =>
    result.outcomes.reduce((s, o) => s + o.events.filter((e) => e === name).length, 0);
  const applied = events('unreasonable_requested');
  const approved = events('unreasonable_approved');
  if (totals.unreasonableApplied !== applied)
    wrong.push(`unreasonableApplied: metrics ${totals.unreasonableApplied}, histories ${applied}`);
  if (totals.unreasonableApproved !== approved)
    wrong.push(
      `unreasonableApproved: metrics ${totals.unreasonableApproved}, histories ${approved}`,
    );
  return wrong;
}

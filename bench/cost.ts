/**
 * Cost per ticket: state transitions, Lambda invocations, API requests, DynamoDB read and write
 * units and mails, for the happy path and a small mixed set, priced from bench/prices.json.
 */
import { readFileSync } from 'node:fs';
import { invocationCounts, invocationMillis } from '#local/functions';
import { type CapacityTotals, diffTotals, meterCapacity } from './lib/capacity.ts';
import { type BenchResult, round, type Table } from './lib/common.ts';
import { Driver } from './lib/driver.ts';

const HEATING = 'heating-supply@qingshan.example.gov.cn';

export interface Prices {
  takenOn: string;
  region: string;
  currency: string;
  source: string;
  prices: {
    stepFunctionsStandardPer1000Transitions: number;
    lambdaPerMillionRequests: number;
    lambdaArm64PerGbSecond: number;
    dynamodbOnDemandPerMillionWru: number;
    dynamodbOnDemandPerMillionRru: number;
    sesPer1000Mails: number;
    apiGatewayHttpApiPerMillionRequests: number;
  };
  assumptions: { lambdaMemoryGb: number; lambdaMeanBilledMs: number };
}

export function loadPrices(): Prices {
  return JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as Prices;
}

interface TicketCost {
  scenario: string;
  id: string;
  status: string;
  transitions: number;
  workflowLambdas: number;
  apiLambdas: number;
  apiRequests: number;
  rru: number;
  wru: number;
  reportedRru: number;
  reportedWru: number;
  /** DynamoDB requests, and of them TransactWriteItems. */
  calls: number;
  transactions: number;
  mails: number;
  /** Handler milliseconds measured locally (billed rounding), and over how many invocations. */
  measuredMs: number;
  measuredInvocations: number;
  capacity: CapacityTotals;
}

/**
 * Dollars for 1,000 tickets like `c`, by item. The Lambda duration is the mean of the invocations
 * measured (`measuredMs` over `measuredInvocations`); without any, prices.json's assumption.
 */
export function billPer1000(
  c: Pick<
    TicketCost,
    | 'transitions'
    | 'workflowLambdas'
    | 'apiLambdas'
    | 'apiRequests'
    | 'rru'
    | 'wru'
    | 'mails'
    | 'measuredMs'
    | 'measuredInvocations'
  >,
  p: Prices,
) {
  const k = 1000;
  const lambdas = c.workflowLambdas + c.apiLambdas;
  const meanMs =
    c.measuredInvocations > 0
      ? c.measuredMs / c.measuredInvocations
      : p.assumptions.lambdaMeanBilledMs;
  const items = {
    stepFunctions: ((c.transitions * k) / 1000) * p.prices.stepFunctionsStandardPer1000Transitions,
    lambdaRequests: ((lambdas * k) / 1e6) * p.prices.lambdaPerMillionRequests,
    lambdaDuration:
      lambdas *
      k *
      p.assumptions.lambdaMemoryGb *
      (meanMs / 1000) *
      p.prices.lambdaArm64PerGbSecond,
    dynamodbWrites: ((c.wru * k) / 1e6) * p.prices.dynamodbOnDemandPerMillionWru,
    dynamodbReads: ((c.rru * k) / 1e6) * p.prices.dynamodbOnDemandPerMillionRru,
    ses: ((c.mails * k) / 1000) * p.prices.sesPer1000Mails,
    apiGateway: ((c.apiRequests * k) / 1e6) * p.prices.apiGatewayHttpApiPerMillionRequests,
  };
  const total = Object.values(items).reduce((a, b) => a + b, 0);
  return { ...items, total };
}

export async function run(): Promise<BenchResult> {
  const driver = await Driver.start();
  const prices = loadPrices();
  try {
    const { documentClient } = await import('#adapters/dynamodb/client');
    const meter = meterCapacity(documentClient as never);
    const results: TicketCost[] = [];

    /** Handler time so far, but the bench's own looks (get-ticket). */
    const handlerTime = () => {
      let ms = 0;
      let count = 0;
      for (const [key, n] of invocationMillis()) if (key !== 'get-ticket') ms += n;
      for (const [key, n] of invocationCounts()) if (key !== 'get-ticket') count += n;
      return { ms, count };
    };

    /** Runs one ticket's story and charges it everything that happened meanwhile. */
    const measure = async (scenario: string, story: () => Promise<string>) => {
      const before = {
        cap: meter.snapshot(),
        api: driver.apiRequests,
        views: driver.views,
        hooks: driver.webhookCalls,
        lambdas: driver.apiLambdaInvocations(),
        mails: driver.stack.ses.messages().length,
        handlers: handlerTime(),
      };
      const id = await story();
      await driver.settle();
      const handlers = handlerTime();
      meter.enabled = false;
      const { ticket } = await driver.view(id);
      meter.enabled = true;
      const capacity = diffTotals(meter.snapshot(), before.cap);
      let stats = { stateTransitions: 0, lambdaInvocations: 0 };
      try {
        stats = driver.stats(id);
      } catch {
        // Closed at intake: no execution was started.
      }
      const views = driver.views - before.views;
      const hooks = driver.webhookCalls - before.hooks;
      const apiRequests = driver.apiRequests - before.api + hooks;
      const apiLambdas = driver.apiLambdaInvocations() - before.lambdas - views + hooks;
      results.push({
        scenario,
        id,
        status: `${ticket.status}${ticket.closure ? ` (${ticket.closure})` : ''}`,
        transitions: stats.stateTransitions,
        workflowLambdas: stats.lambdaInvocations,
        apiLambdas,
        apiRequests,
        rru: capacity.modelledRead,
        wru: capacity.modelledWrite,
        reportedRru: capacity.reportedRead,
        reportedWru: capacity.reportedWrite,
        calls: capacity.requests,
        transactions: capacity.byOperation.TransactWriteItemsCommand ?? 0,
        mails: driver.stack.ses.messages().length - before.mails,
        measuredMs: handlers.ms - before.handlers.ms,
        measuredInvocations: handlers.count - before.handlers.count,
        capacity,
      });
    };

    const happy = async () => {
      const { id } = await driver.file();
      await driver.act(id, { action: 'sign' }, HEATING);
      await driver.act(
        id,
        { action: 'reply', content: '已更换换热站阀门，室温恢复。', resolved: true },
        HEATING,
      );
      await driver.answerSurvey(id, { resolved: true, satisfaction: 'satisfied' });
      return id;
    };

    // A warm-up ticket loads every handler module, as a warm Lambda container would have.
    await happy();
    results.length = 0;

    await measure('happy path', happy);
    await measure('happy path', happy);
    await measure('happy path', happy);
    await measure('answered at intake (直接办结)', async () => {
      const { id } = await driver.file({
        category: '咨询',
        disposition: { kind: 'answered', answer: '供暖期为11月15日至次年3月15日。' },
      });
      return id;
    });
    await measure('referred at intake (告知)', async () => {
      const { id } = await driver.file({
        disposition: { kind: 'referred', referral: 'litigation' },
      });
      return id;
    });
    await measure('no callback (noCallback)', async () => {
      const { id } = await driver.file({ noCallback: true });
      await driver.act(id, { action: 'sign' }, HEATING);
      await driver.act(id, { action: 'reply', content: '已处理。', resolved: true }, HEATING);
      return id;
    });
    await measure('returned, re-dispatched (退单)', async () => {
      const { id } = await driver.file({ topic: 'water-supply' });
      await driver.act(id, { action: 'return', reason: '属供热管网问题，非供水' });
      await driver.decide(id, { decision: 'dispatch', lead: 'heating-supply', assist: [] });
      await driver.act(id, { action: 'sign' }, HEATING);
      await driver.act(id, { action: 'reply', content: '已处理。', resolved: true }, HEATING);
      await driver.answerSurvey(id, { resolved: true, satisfaction: 'basically_satisfied' });
      return id;
    });
    await measure('extension approved (延期)', async () => {
      const { id } = await driver.file();
      await driver.act(id, { action: 'sign' }, HEATING);
      await driver.act(id, { action: 'extend', workingDays: 5, reason: '需更换主管道' }, HEATING);
      await driver.decide(id, { decision: 'approve_extension' });
      await driver.act(id, { action: 'reply', content: '主管道已更换。', resolved: true }, HEATING);
      await driver.answerSurvey(id, { resolved: true, satisfaction: 'satisfied' });
      return id;
    });
    await measure('late: 催签, 督办, 催办, 通报', async () => {
      const { id } = await driver.file();
      const { deadlines } = (await driver.view(id)).ticket;
      await driver.advanceTo(deadlines.signRemindAt);
      await driver.advanceTo(deadlines.signBy);
      await driver.act(id, { action: 'sign' }, HEATING);
      await driver.advanceTo(deadlines.remindAt);
      await driver.advanceTo(deadlines.replyBy);
      await driver.advanceTo(deadlines.reportAt);
      await driver.act(id, { action: 'reply', content: '已处理。', resolved: true }, HEATING);
      await driver.answerSurvey(id, { resolved: true, satisfaction: 'satisfied' });
      return id;
    });
    await measure('reopened once (重办)', async () => {
      const { id } = await driver.file();
      await driver.act(id, { action: 'sign' }, HEATING);
      await driver.act(id, { action: 'reply', content: '已调节阀门。', resolved: true }, HEATING);
      await driver.answerSurvey(id, { resolved: false, satisfaction: 'unsatisfied' });
      await driver.act(id, { action: 'reply', content: '已更换换热器。', resolved: true }, HEATING);
      await driver.answerSurvey(id, { resolved: true, satisfaction: 'satisfied' });
      return id;
    });
    await measure('caller unreached (3 survey attempts)', async () => {
      const { id } = await driver.file();
      await driver.act(id, { action: 'sign' }, HEATING);
      await driver.act(id, { action: 'reply', content: '已处理。', resolved: true }, HEATING);
      for (let attempt = 0; attempt < 5; attempt++) {
        meter.enabled = false;
        const { ticket } = await driver.view(id);
        meter.enabled = true;
        if (ticket.status !== 'callback') break;
        await driver.advanceTo(ticket.surveys.at(-1)?.dueAt);
      }
      return id;
    });

    const sum = (rows: TicketCost[], key: keyof TicketCost) =>
      rows.reduce((s, r) => s + (r[key] as number), 0) / rows.length;
    const keysOf = [
      'transitions',
      'workflowLambdas',
      'apiLambdas',
      'apiRequests',
      'rru',
      'wru',
      'reportedRru',
      'reportedWru',
      'calls',
      'transactions',
      'mails',
      'measuredMs',
      'measuredInvocations',
    ] as const;
    const average = (rows: TicketCost[]) =>
      Object.fromEntries(keysOf.map((k) => [k, sum(rows, k)])) as Record<
        (typeof keysOf)[number],
        number
      >;
    const happyRows = results.filter((r) => r.scenario === 'happy path');
    const happyAvg = average(happyRows);
    const mixAvg = average(results);

    const perTicket: Table = {
      title: 'Cost per ticket (one row per ticket; units per ticket)',
      columns: [
        'scenario',
        'end',
        'transitions',
        'λ workflow',
        'λ API',
        'API req',
        'RRU',
        'WRU',
        'WRU (Local)',
        'calls',
        'transact',
        'mails',
        '$/1,000',
      ],
      rows: results.map((r) => [
        r.scenario,
        r.status,
        r.transitions,
        r.workflowLambdas,
        r.apiLambdas,
        r.apiRequests,
        round(r.rru, 1),
        round(r.wru, 1),
        round(r.reportedWru, 1),
        r.calls,
        r.transactions,
        r.mails,
        round(billPer1000(r, prices).total, 3),
      ]),
      notes: [
        'λ API and API req include the survey answer, recorded in-process here and by the phone webhook (one request, one Lambda) in AWS.',
        'RRU as DynamoDB Local reports them. WRU: transactional writes at 2 WRU per KB per item plus 1 per KB per index the item is in (AWS rules; DynamoDB Local under-reports transactions: a 3-item TransactWriteItems came back as 2 units); "WRU (Local)" is the raw figure.',
        'The bench’s own GET /tickets/{id} looks are left out.',
      ],
    };
    const meanMs = (a: ReturnType<typeof average>) =>
      a.measuredInvocations > 0 ? a.measuredMs / a.measuredInvocations : Number.NaN;
    const billRows = (label: string, a: ReturnType<typeof average>) => {
      const b = billPer1000(a, prices);
      return [
        label,
        round(b.stepFunctions, 3),
        round(b.lambdaRequests + b.lambdaDuration, 3),
        round(b.dynamodbWrites + b.dynamodbReads, 3),
        round(b.ses, 3),
        round(b.apiGateway, 3),
        round(b.total, 3),
      ];
    };
    const bill: Table = {
      title: `Estimated AWS bill per 1,000 tickets (${prices.currency}, ${prices.region} list prices taken ${prices.takenOn})`,
      columns: ['set', 'Step Functions', 'Lambda', 'DynamoDB', 'SES', 'API Gateway', 'total'],
      rows: [
        billRows(`happy path (mean of ${happyRows.length})`, happyAvg),
        billRows(`mixed set (mean of ${results.length})`, mixAvg),
      ],
      notes: [
        `Lambda duration: ${prices.assumptions.lambdaMemoryGb} GB × the handlers’ own mean time per invocation measured here (happy ${round(meanMs(happyAvg), 1)} ms, mixed ${round(meanMs(mixAvg), 1)} ms; prices.json assumed ${prices.assumptions.lambdaMeanBilledMs} ms), arm64; no free tier; storage, logs and data transfer not included.`,
        'The handler time is measured in this process: it shares the cores with DynamoDB Local, the Step Functions engine and the other handlers, and waits on DynamoDB Local rather than DynamoDB.',
        prices.source,
      ],
    };
    const means: Table = {
      title: 'Means per ticket',
      columns: [
        'set',
        'transitions',
        'Lambda invocations',
        'ms per invocation',
        'API requests',
        'RRU',
        'WRU',
        'DynamoDB calls',
        'transactions',
        'mails',
      ],
      rows: [
        ['happy path', happyAvg, happyRows.length] as const,
        ['mixed set', mixAvg, results.length] as const,
      ].map(([label, a]) => [
        label,
        round(a.transitions, 1),
        round(a.workflowLambdas + a.apiLambdas, 1),
        round(meanMs(a), 1),
        round(a.apiRequests, 1),
        round(a.rru, 1),
        round(a.wru, 1),
        round(a.calls, 1),
        round(a.transactions, 1),
        round(a.mails, 1),
      ]),
    };
    return {
      name: 'cost',
      title: 'Cost per ticket',
      tables: [means, perTicket, bill],
      data: {
        prices,
        tickets: results,
        happyPath: { mean: happyAvg, billPer1000: billPer1000(happyAvg, prices) },
        mixed: { mean: mixAvg, billPer1000: billPer1000(mixAvg, prices) },
        summary: {
          happyWru: happyAvg.wru,
          happyCalls: happyAvg.calls,
          happyTransactions: happyAvg.transactions,
          happyTransitions: happyAvg.transitions,
          lateTransitions: results.find((r) => r.scenario.startsWith('late'))?.transitions ?? null,
          happyUsdPer1000: billPer1000(happyAvg, prices).total,
          mixedUsdPer1000: billPer1000(mixAvg, prices).total,
          happyMsPerInvocation: meanMs(happyAvg),
        },
      },
    };
  } finally {
    await driver.close();
  }
}

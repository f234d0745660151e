/**
 * Intake against the machine's ceiling (issue 12). In one run, on one local stack (127.0.0.1):
 *
 *  0. DynamoDB Local's JVM is warmed first (puts and webhooks, not measured): its JIT otherwise
 *     makes whatever runs first look slow;
 *  1. one phone webhook, then one POST /tickets, at a time: the DynamoDB requests each makes
 *     before it answers (calls, sequential round trips, transactions);
 *  2. raw single-item PutItem calls of a ticket-sized item, `--concurrency` at a time: what the
 *     storage underneath can take at best from this process (measured before and after the rest);
 *  3. signed `call.completed` webhooks with the operator's ticket, with the lifecycle running in
 *     the same process (the stream consumer starts each ticket's execution);
 *  4. the same with the table's stream consumers stopped: intake alone, as in AWS, where the
 *     workflow runs elsewhere;
 *  5. the DynamoDB requests of step 3's webhooks replayed as they were sent, at the same
 *     concurrency, to a fresh table: the ceiling of intake's own storage work.
 *
 * Prints throughput, latency and each as a share of the raw put rate, and checks that every call
 * of step 3 became exactly one stored ticket with a started execution. Not a test.
 *
 *   npm run bench:intake -- [--count 1000] [--concurrency 16]
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '#adapters/dynamodb/keys';
import { ensureTable } from '#adapters/dynamodb/schema';
import { signStandardWebhook } from '#core/phone/standard-webhooks';
import { startLocalStack } from '#local/stack';
import { type BenchResult, cli, printResult, round } from './lib/common.ts';
import { type RoundTrips, replay, watchRequests } from './lib/requests.ts';

const TOPICS = ['water-supply', 'power', 'heating', 'roads', 'noise', 'property-management'];
/** A caller of their own per run and call: no ticket is merged into another (并单). */
const PHONE_PREFIX: Record<string, string> = {
  warm: '137',
  one: '139',
  bench: '138',
  alone: '136',
};
const TOWNSHIPS = ['chengguan', 'dongcheng', 'xicheng', 'nanhu', 'beiyuan', 'shiqiao'];

interface Measured {
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

async function measure(
  count: number,
  concurrency: number,
  one: (i: number) => Promise<void>,
): Promise<Measured> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await one(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return {
    seconds,
    perSecond: count / seconds,
    p50: at(0.5),
    p99: at(0.99),
    max: latencies.at(-1)!,
  };
}

export async function run(
  options: { count?: number; concurrency?: number } = {},
): Promise<BenchResult> {
  const COUNT = Math.min(Math.max(options.count ?? 1000, 50), 20_000);
  const CONCURRENCY = Math.min(Math.max(options.concurrency ?? 16, 1), 128);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const stack = await startLocalStack({ tokenUnits: [] });
  try {
    for (const url of Object.values(stack.urls))
      if (new URL(url).hostname !== '127.0.0.1') throw new Error(`refusing to talk to ${url}`);
    const secret = stack.phone.config.standard!.secrets[0]!;
    const run = randomBytes(4).toString('hex');
    const table = process.env.TABLE_NAME!;
    const lowLevel = new DynamoDBClient({ endpoint: stack.urls.dynamodb, region: 'us-east-1' });
    const documents = DynamoDBDocumentClient.from(lowLevel);
    // The handlers' own client (one module, in this process): what they send, counted in place.
    const { documentClient } = await import('#adapters/dynamodb/client');
    const webhookRequests = watchRequests(documentClient as never, 'phone-webhook');
    const apiRequests = watchRequests(documentClient as never, 'create-ticket');
    const ticketIds: string[] = [];
    const refused: string[] = [];

    const webhook = async (i: number, prefix: string) => {
      const callId = `${prefix}-${run}-${i}`;
      const body = JSON.stringify({
        type: 'call.completed',
        timestamp: stack.clock.now().toISOString(),
        data: {
          callId,
          durationSeconds: 180,
          ticket: {
            // One caller and one address per call, so that no ticket is merged (并单).
            callerPhone: `+86${PHONE_PREFIX[prefix] ?? '137'}${String(i).padStart(8, '0')}`,
            content: '小区停水至今未恢复，请尽快处理。',
            category: 'complaint',
            topic: TOPICS[i % TOPICS.length],
            place: {
              district: 'qingshan',
              township: TOWNSHIPS[i % TOWNSHIPS.length],
              address: `${prefix}路${i}号`,
            },
          },
        },
      });
      const headers = signStandardWebhook({
        id: `msg_${callId}`,
        timestamp: stack.clock.now(),
        body,
        secret,
      });
      const response = await fetch(stack.phone.webhooks.standard, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
      const json = (await response.json()) as { ticketIds?: string[] };
      if (response.status !== 200 || !json.ticketIds?.[0])
        refused.push(`${callId}: ${response.status}`);
      else if (prefix === 'bench') ticketIds.push(json.ticketIds[0]);
    };
    const fileByApi = async (i: number) => {
      const response = await fetch(`${stack.urls.api}/tickets`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${stack.tokens.operator}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          caller: { name: '王五', phone: `135${String(i).padStart(8, '0')}` },
          content: '小区供暖温度不达标，室温不足16度。',
          category: '投诉',
          topic: 'heating',
          place: { district: 'qingshan', township: 'beiyuan', address: `北苑小区${i}号楼` },
        }),
      });
      if (response.status !== 201) refused.push(`POST /tickets: ${response.status}`);
    };
    // A ticket-sized item (the stored ticket of the webhook above is about this big).
    const filler = 'x'.repeat(1500);
    const put = (i: number, prefix: string) =>
      documents
        .send(
          new PutCommand({
            TableName: table,
            Item: { PK: `BENCH#${prefix}-${run}-${i}`, SK: 'ITEM', filler, n: i },
          }),
        )
        .then(() => undefined);

    // 0. Warm-up: module loading, connection pools and above all DynamoDB Local's JIT.
    await measure(2000, CONCURRENCY, (i) => put(i, 'warm'));
    await measure(100, CONCURRENCY, (i) => webhook(i, 'warm'));
    await stack.sfn.waitForIdle(300_000);

    // 1. One request at a time: what each waits for.
    const one = async (watch: typeof webhookRequests, send: () => Promise<void>) => {
      watch.start();
      await send();
      const trips = watch.stop();
      await stack.sfn.waitForIdle(60_000);
      return trips;
    };
    const perWebhook: RoundTrips[] = [];
    const perApiIntake: RoundTrips[] = [];
    for (let i = 0; i < 5; i++) {
      perWebhook.push(await one(webhookRequests, () => webhook(i, 'one')));
      perApiIntake.push(await one(apiRequests, () => fileByApi(i)));
    }

    // 2–5, the raw put rate before and after, the rest between.
    const rawBefore = await measure(COUNT, CONCURRENCY, (i) => put(i, 'before'));
    webhookRequests.start(true);
    const withWorkflow = await measure(COUNT, CONCURRENCY, (i) => webhook(i, 'bench'));
    webhookRequests.stop();
    const recorded = webhookRequests.recorded;
    const backlog = await (async () => {
      const t0 = performance.now();
      await stack.sfn.waitForIdle(600_000);
      return (performance.now() - t0) / 1000;
    })();

    // Every call of step 3: one stored ticket, one started execution.
    let stored = 0;
    let executions = 0;
    const prefix = `${stack.lifecycleArn.replace(':stateMachine:', ':execution:')}:`;
    for (const id of ticketIds) {
      const got = await documents.send(
        new GetCommand({ TableName: table, Key: keys.ticket(id), ProjectionExpression: 'id' }),
      );
      if (got.Item) stored++;
      try {
        stack.sfn.stats(prefix + id);
        executions++;
      } catch {
        // counted as missing below
      }
    }

    await stack.streams.close();
    const alone = await measure(COUNT, CONCURRENCY, (i) => webhook(i, 'alone'));

    const replayTable = `${table}-replay-${run}`;
    await ensureTable(lowLevel, replayTable);
    const replayClient = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: stack.urls.dynamodb, region: 'us-east-1', maxAttempts: 1 }),
    );
    const replayed = await replay(replayClient, recorded, replayTable, CONCURRENCY);
    const rawAfter = await measure(COUNT, CONCURRENCY, (i) => put(i, 'after'));

    const raw = (rawBefore.perSecond + rawAfter.perSecond) / 2;
    const share = (perSecond: number) => round((100 * perSecond) / raw, 1);
    const replayPerSecond = COUNT / replayed.seconds;
    const ok = refused.length === 0 && stored === COUNT && executions === COUNT;
    const row = (label: string, m: Measured) => [
      label,
      round(m.perSecond, 1),
      round(m.p50, 1),
      round(m.p99, 1),
      share(m.perSecond),
    ];
    const median = (trips: RoundTrips[], key: 'calls' | 'sequential' | 'transactions') =>
      [...trips.map((t) => t[key])].sort((a, b) => a - b)[trips.length >> 1]!;
    const tripRow = (label: string, trips: RoundTrips[]) => [
      label,
      median(trips, 'calls'),
      median(trips, 'sequential'),
      median(trips, 'transactions'),
      Object.entries(trips[trips.length >> 1]!.byOperation)
        .map(([op, n]) => `${op.replace(/Command$/, '')} ${n}`)
        .join(', '),
    ];
    const summary = {
      count: COUNT,
      concurrency: CONCURRENCY,
      rawPutsPerSecond: raw,
      withWorkflowPercent: share(withWorkflow.perSecond),
      withoutWorkflowPercent: share(alone.perSecond),
      replayPercent: share(replayPerSecond),
      webhookSequentialRoundTrips: median(perWebhook, 'sequential'),
      webhookTransactions: median(perWebhook, 'transactions'),
      apiTransactions: median(perApiIntake, 'transactions'),
      checked: ok,
    };
    return {
      name: 'intake',
      title: 'Intake against the raw put rate of the same DynamoDB Local',
      tables: [
        {
          title: 'DynamoDB requests of one intake before it answers (median of 5, one at a time)',
          columns: ['request', 'calls', 'sequential round trips', 'transactions', 'by operation'],
          rows: [
            tripRow('phone webhook call.completed', perWebhook),
            tripRow('POST /tickets', perApiIntake),
          ],
          notes: [
            'Counted by a middleware on the handlers’ own DynamoDB client, inside the function: a request sent while another of the same invocation is in flight (Promise.all) is not a further round trip.',
          ],
        },
        {
          title: `Throughput, ${COUNT} of each, ${CONCURRENCY} in flight`,
          columns: ['what', 'per s', 'p50 ms', 'p99 ms', '% of raw put rate'],
          rows: [
            row('raw PutItem, 1.5 KB item (before)', rawBefore),
            row('webhook → ticket stored, lifecycle running in-process', withWorkflow),
            row('webhook → ticket stored, stream consumers stopped', alone),
            [
              'replay of the webhooks’ own DynamoDB requests',
              round(replayPerSecond, 1),
              null,
              null,
              share(replayPerSecond),
            ],
            row('raw PutItem, 1.5 KB item (after)', rawAfter),
          ],
          notes: [
            'The share is of the mean of the two raw put rates. DynamoDB Local was warmed with 2,000 puts and 100 webhooks first.',
            `The replay sent the ${recorded.length} requests of the in-process run’s webhooks, in order, ${CONCURRENCY} in flight, to a fresh table, without retries (${replayed.failed} refused${
              replayed.failed
                ? `: ${Object.entries(replayed.failures)
                    .map(([name, n]) => `${name} ${n}`)
                    .join(', ')}`
                : ''
            }): intake can be no faster than that here, whatever its code does.`,
            `Replay time by operation (ms waited, summed): ${Object.entries(replayed.msByOperation)
              .sort((a, b) => b[1] - a[1])
              .map(([op, ms]) => `${op} ${Math.round(ms)}`)
              .join(', ')}.`,
            `The executions started during the in-process run took ${round(backlog, 1)} s more to settle.`,
            `${ok ? 'ok' : 'FAIL'}: ${stored}/${COUNT} tickets stored, ${executions}/${COUNT} executions started, ${refused.length} refused${refused.length ? ` (${refused.slice(0, 3).join('; ')})` : ''}.`,
          ],
        },
      ],
      data: {
        summary,
        perWebhook,
        perApiIntake,
        rawBefore,
        withWorkflow,
        alone,
        replay: { ...replayed, requests: recorded.length, perSecond: replayPerSecond },
        rawAfter,
        backlogSeconds: backlog,
      },
    };
  } finally {
    await stack.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const values = cli(
    `npm run bench:intake -- [options]

  --count 1000        webhooks (and raw puts) per measurement (50–20,000)
  --concurrency 16    requests in flight (1–128)
  --help              this text

Intake against the raw put rate of the same DynamoDB Local, in one run on 127.0.0.1 (also part
of npm run bench, as --only intake).`,
    {
      count: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '16' },
    },
  );
  const started = Date.now();
  const result = await run({
    count: Number(values.count) || 1000,
    concurrency: Number(values.concurrency) || 16,
  });
  printResult(result, (Date.now() - started) / 1000);
  process.exit((result.data.summary as { checked: boolean }).checked ? 0 : 1);
}

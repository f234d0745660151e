/**
 * Benchmark 1, intake against the machine's ceiling. In one run, on one local stack (127.0.0.1):
 *
 *  A. signed `call.completed` webhooks with the operator's ticket, `--concurrency` at a time:
 *     each response comes after the ticket is stored and its lifecycle execution started;
 *  B. raw single-item PutItem calls of a ticket-sized item to the same DynamoDB Local, at the same
 *     concurrency: what the storage underneath can take at best from this process.
 *
 * Prints throughput and p50/p99 latency of both and the ratio A/B, and checks that every call
 * became exactly one stored ticket with a started execution. Not a test: it prints figures.
 *
 *   npm run bench:intake -- [--count 1000] [--concurrency 16]
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '#adapters/dynamodb/keys';
import { signStandardWebhook } from '#core/phone/standard-webhooks';
import { startLocalStack } from '#local/stack';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
  },
});
const COUNT = Math.min(Math.max(Number(values.count) || 1000, 50), 20_000);
const CONCURRENCY = Math.min(Math.max(Number(values.concurrency) || 16, 1), 128);
const TOPICS = ['water-supply', 'power', 'heating', 'roads', 'noise', 'property-management'];
const TOWNSHIPS = ['chengguan', 'dongcheng', 'xicheng', 'nanhu', 'beiyuan', 'shiqiao'];

interface Measured {
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

async function measure(count: number, one: (i: number) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
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

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const stack = await startLocalStack({ tokenUnits: [] });
try {
  for (const url of Object.values(stack.urls))
    if (new URL(url).hostname !== '127.0.0.1') throw new Error(`refusing to talk to ${url}`);
  const secret = stack.phone.config.standard!.secrets[0]!;
  const run = randomBytes(4).toString('hex');
  const table = process.env.TABLE_NAME!;
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.urls.dynamodb, region: 'us-east-1' }),
  );
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
          callerPhone: `+86${prefix === 'bench' ? '138' : '137'}${String(i).padStart(8, '0')}`,
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

  // Warm-up: module loading, connection pools and the JVM's JIT, not measured.
  await measure(50, (i) => webhook(i, 'warm'));
  await measure(200, (i) => put(i, 'warm'));
  await stack.sfn.waitForIdle(120_000);

  const intake = await measure(COUNT, (i) => webhook(i, 'bench'));
  const backlog = await (async () => {
    const t0 = performance.now();
    await stack.sfn.waitForIdle(600_000);
    return (performance.now() - t0) / 1000;
  })();
  const raw = await measure(COUNT, (i) => put(i, 'bench'));

  // Every call: one stored ticket, one started execution.
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
  const ratio = intake.perSecond / raw.perSecond;
  const f = (n: number, d = 1) => n.toFixed(d);
  console.log(`intake vs raw puts, ${new Date().toISOString()}, local stack on 127.0.0.1`);
  console.log(
    `  machine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`  ${COUNT} of each, ${CONCURRENCY} in flight`);
  console.log(
    `  A webhook → ticket stored + execution started: ${f(intake.perSecond)} /s, p50 ${f(intake.p50)} ms, p99 ${f(intake.p99)} ms, max ${f(intake.max)} ms (${f(intake.seconds)} s)`,
  );
  console.log(
    `  B raw PutItem, same DynamoDB Local:            ${f(raw.perSecond)} /s, p50 ${f(raw.p50)} ms, p99 ${f(raw.p99)} ms, max ${f(raw.max)} ms (${f(raw.seconds)} s)`,
  );
  console.log(
    `  ratio A/B: ${f(ratio * 100)}% of the raw put rate (p50 latency ×${f(intake.p50 / raw.p50)})`,
  );
  console.log(
    `  the started executions (routing, first mail) then took ${f(backlog)} s more to settle; they ran alongside A, in the same process, as they would not in AWS`,
  );
  const ok = refused.length === 0 && stored === COUNT && executions === COUNT;
  console.log(
    `  ${ok ? 'ok  ' : 'FAIL'} ${stored}/${COUNT} tickets stored, ${executions}/${COUNT} executions started, ${refused.length} refused${refused.length ? ` (${refused.slice(0, 3).join('; ')})` : ''}`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await stack.close();
}

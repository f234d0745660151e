/**
 * Open-loop load on POST /tickets (issue #11): requests go out at a fixed rate whatever the answers
 * (as callers do), in steps of 10, 30, 50 and 100 per second, against the local stack on
 * 127.0.0.1. After each step the stack drains (every stored ticket routed and mailed), then the
 * bench counts, per step:
 *
 *   201/s      tickets acknowledged per second of the step (in the end, after retries)
 *   p50, p99   latency of the 201s (ms, retries included)
 *   429        first attempts refused by the gateway's throttling (Retry-After), nothing written
 *   5xx        first attempts answered with a server error, the collapse this bench looks for
 *   timeouts   first attempts with no answer within 30 s (API Gateway's integration limit)
 *   retried    requests the client retried with the same Idempotency-Key (at most 6 times,
 *              after Retry-After), as a client of this API should
 *   no 201     requests that never got a 201
 *   ghosts     tickets stored although the client was not told 201
 *   unmailed   201 tickets with no dispatch mail (派单) after the drain: stranded
 *   stalled    tickets on the stalled list (a step failed after its retries)
 *
 * Goal: 0 ghosts, 0 unmailed, 0 5xx at every step. Not a test: it prints figures.
 *
 *   npm run bench:load -- [--rates 10,30,50,100] [--duration 60] [--drain 600]
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '#adapters/dynamodb/keys';
import { stallDeps } from '#functions/lib/deps';
import { startLocalStack } from '#local/stack';
import { cli, percentile } from './lib/common.ts';

const HELP = `npm run bench:load -- [options]

  --rates 10,30,50,100   requests per second of each step (open loop)
  --duration 60          seconds per step
  --drain 600            at most this many seconds for the stack to drain after a step
  --help                 this text

Runs the whole local stack in this process (127.0.0.1 only) and prints one row per step.`;

const values = cli(HELP, {
  rates: { type: 'string', default: '10,30,50,100' },
  duration: { type: 'string', default: '60' },
  drain: { type: 'string', default: '600' },
});
const RATES = String(values.rates)
  .split(',')
  .map(Number)
  .filter((n) => Number.isFinite(n) && n > 0 && n <= 1000);
const DURATION_S = Math.min(Math.max(Number(values.duration) || 60, 1), 3600);
const DRAIN_S = Math.min(Math.max(Number(values.drain) || 600, 10), 7200);
const CLIENT_TIMEOUT_MS = 30_000;
/** Not an HTTP status: the client gave up (or the connection failed). */
const TIMED_OUT = -1;
const RETRIES = 6;

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

interface Row {
  rate: number;
  sent: number;
  created: number;
  createdPerSecond: number;
  p50: number;
  p99: number;
  throttled: number;
  serverErrors: number;
  timeouts: number;
  retried: number;
  unanswered: number;
  otherStatus: number;
  ghosts: number;
  unmailed: number;
  stalled: number;
  drainSeconds: number;
}

// Monday 10:00 in Qingshan: every ticket of the run falls in one day's numbering.
const stack = await startLocalStack({ start: new Date('2026-11-16T02:00:00Z'), tokenUnits: [] });
const rows: Row[] = [];
try {
  for (const url of Object.values(stack.urls))
    if (new URL(url).hostname !== '127.0.0.1') throw new Error(`refusing to talk to ${url}`);
  const table = process.env.TABLE_NAME as string;
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.urls.dynamodb, region: 'us-east-1' }),
  );
  const day = '20261116';
  const counter = async () => {
    const got = await documents.send(
      new GetCommand({ TableName: table, Key: keys.ticketCounter(day) }),
    );
    return Number(got.Item?.seq ?? 0);
  };
  let caller = 0;
  /** One request; TIMED_OUT when no answer came within the client's patience. */
  const attempt = async (key: string, body: string) => {
    try {
      const response = await fetch(`${stack.urls.api}/tickets`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${stack.tokens.operator}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body,
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      });
      const text = await response.text();
      return {
        status: response.status,
        retryAfter: Number(response.headers.get('retry-after') ?? 1) || 1,
        ...(response.status === 201 ? { id: (JSON.parse(text) as { id: string }).id } : {}),
      };
    } catch {
      return { status: TIMED_OUT, retryAfter: 1 };
    }
  };
  /**
   * A client as the API asks for one: on 429, 409, 5xx or no answer it retries with the same
   * Idempotency-Key after Retry-After, at most RETRIES times. The first answer is what the
   * open-loop columns count; the final one decides whether the caller got a 201.
   */
  const post = async () => {
    caller++;
    const key = `load-${caller}-${Date.now()}`;
    const body = JSON.stringify({
      // One caller and one address each, so that nothing is merged (并单).
      caller: { name: '王五', phone: `138${String(40_000_000 + caller).slice(-8)}` },
      content: '小区供暖温度不达标，室温不足16度。',
      category: '投诉',
      topic: 'heating',
      place: { district: 'qingshan', township: 'beiyuan', address: `北苑小区${caller}号楼` },
    });
    const t0 = performance.now();
    const first = await attempt(key, body);
    let last = first;
    let retries = 0;
    while (
      !last.id &&
      retries < RETRIES &&
      [TIMED_OUT, 409, 429].concat(last.status >= 500 ? [last.status] : []).includes(last.status)
    ) {
      retries++;
      await new Promise((r) => setTimeout(r, Math.min(last.retryAfter, 10) * 1000));
      last = await attempt(key, body);
    }
    return {
      first: first.status,
      status: last.status,
      ms: performance.now() - t0,
      retries,
      ...(last.id ? { id: last.id } : {}),
    };
  };

  for (const rate of RATES) {
    const firstSeq = (await counter()) + 1;
    const pending: ReturnType<typeof post>[] = [];
    const started = performance.now();
    const total = Math.round(rate * DURATION_S);
    // Open loop: request n leaves at n / rate seconds, whether or not earlier ones returned.
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(post());
    }
    const results = await Promise.all(pending);
    const drainStart = performance.now();
    await stack.sfn.waitForIdle(DRAIN_S * 1000);
    const drainSeconds = (performance.now() - drainStart) / 1000;

    const createdIds = new Set(results.flatMap((r) => (r.id ? [r.id] : [])));
    const lastSeq = await counter();
    // Every ticket number this step drew, read by key (no Scan): stored ones not acknowledged
    // are ghosts. A number drawn without a stored ticket (a refused merge, a failed write) is not.
    const stored: string[] = [];
    const ids = Array.from(
      { length: lastSeq - firstSeq + 1 },
      (_, i) => `${day}-${String(firstSeq + i).padStart(6, '0')}`,
    );
    for (let i = 0; i < ids.length; i += 100) {
      const batch = ids.slice(i, i + 100);
      let request: Record<
        string,
        { Keys: Record<string, string>[]; ProjectionExpression: string }
      > = { [table]: { Keys: batch.map((id) => keys.ticket(id)), ProjectionExpression: 'id' } };
      while (Object.keys(request).length > 0) {
        const got = await documents.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of got.Responses?.[table] ?? []) stored.push(String(item.id));
        request = (got.UnprocessedKeys ?? {}) as typeof request;
      }
    }
    const mailed = new Set(
      stack.ses
        .messages()
        .filter((m) => m.subject.includes('派单'))
        .flatMap((m) => [...m.subject.matchAll(/\d{8}-\d{6}/g)].map((x) => x[0])),
    );
    const ok = results.filter((r) => r.status === 201);
    const latencies = ok.map((r) => r.ms);
    rows.push({
      rate,
      sent: total,
      created: ok.length,
      createdPerSecond: ok.length / DURATION_S,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      throttled: results.filter((r) => r.first === 429).length,
      serverErrors: results.filter((r) => r.first >= 500).length,
      timeouts: results.filter((r) => r.first === TIMED_OUT).length,
      retried: results.filter((r) => r.retries > 0).length,
      unanswered: results.filter((r) => r.status !== 201).length,
      otherStatus: results.filter(
        (r) => r.first !== 201 && r.first !== 429 && r.first !== TIMED_OUT && r.first < 500,
      ).length,
      ghosts: stored.filter((id) => !createdIds.has(id)).length,
      unmailed: [...createdIds].filter((id) => !mailed.has(id)).length,
      stalled: (await stallDeps().stalls.list()).length,
      drainSeconds,
    });
    const row = rows.at(-1) as Row;
    console.log(
      `step ${rate}/s: ${row.created}/${row.sent} × 201, ${row.throttled} × 429, ${row.serverErrors} × 5xx, ${row.timeouts} timeouts, ${row.ghosts} ghosts, ${row.unmailed} unmailed, drained in ${drainSeconds.toFixed(1)} s`,
    );
  }

  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–');
  console.log(
    `\nopen-loop POST /tickets, ${DURATION_S} s per step, ${new Date().toISOString()}, local stack on 127.0.0.1`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  console.log(
    '| offered/s | sent | 201/s | p50 ms | p99 ms | 429 | 5xx | timeouts | other 4xx | retried | no 201 in the end | ghosts | unmailed | stalled | drain s |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.rate} | ${r.sent} | ${f(r.createdPerSecond, 1)} | ${f(r.p50)} | ${f(r.p99)} | ${r.throttled} | ${r.serverErrors} | ${r.timeouts} | ${r.otherStatus} | ${r.retried} | ${r.unanswered} | ${r.ghosts} | ${r.unmailed} | ${r.stalled} | ${f(r.drainSeconds, 1)} |`,
    );
  }
  const failed = rows.some((r) => r.ghosts || r.unmailed || r.serverErrors || r.timeouts);
  console.log(
    `\n${failed ? 'FAIL' : 'ok'}: goal is 0 ghosts, 0 unmailed, 0 5xx, 0 timeouts at every step`,
  );
  process.exitCode = failed ? 1 : 0;
} finally {
  await stack.close();
}

/**
 * A burst of phone-system deliveries against the local stack (127.0.0.1 only): mixed providers,
 * 20% exact redeliveries, 5% bad signatures or credentials. Prints throughput and latency, then
 * checks through Queries and GetItems (no Scan) that exactly the valid unique calls became tickets
 * and call-backs, and that refused deliveries left nothing behind. Not a test: it prints figures.
 *
 *   npm run bench:webhooks -- [--count 2000] [--concurrency 32] [--max-seconds 120]
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { INDEXES, keys, OPEN_SHARDS } from '#adapters/dynamodb/keys';
import { shanghaiDate } from '#core/calendar';
import { signStandardWebhook } from '#core/phone/standard-webhooks';
import { computeTwilioSignature } from '#core/phone/twilio';
import { startLocalStack } from '#local/stack';
import { cli } from './lib/common.ts';

const values = cli(
  `npm run bench:webhooks -- [options]

  --count 2000         deliveries sent (100–20,000), 20% of them exact redeliveries
  --concurrency 32     requests in flight (1–128)
  --max-seconds 120    give up waiting for the stack to settle after this long
  --help               this text

A burst of signed phone-system webhooks (standard, Twilio, TCCC) against the local stack on
127.0.0.1; prints throughput and latency and checks what was stored.`,
  {
    count: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    'max-seconds': { type: 'string', default: '120' },
  },
);
const COUNT = Math.min(Math.max(Number(values.count), 100), 20_000);
const CONCURRENCY = Math.min(Math.max(Number(values.concurrency), 1), 128);
const MAX_MS = Math.min(Number(values['max-seconds']), 600) * 1000;
const TENANT = 'local';

interface Planned {
  provider: 'standard' | 'twilio' | 'tccc';
  kind: 'ticket' | 'missed' | 'received';
  valid: boolean;
  deliveryId: string;
  callId: string;
  request: { body: string; headers: Record<string, string> };
}

// Per-request log lines would drown the figures (the functions load after this line).
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const stack = await startLocalStack({ tokenUnits: [] });
const assertLoopback = (url: string) => {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`refusing to send to ${url}`);
};
try {
  const { config, webhooks } = stack.phone;
  for (const url of Object.values(webhooks)) assertLoopback(url);
  const run = randomBytes(4).toString('hex');
  const secret = config.standard!.secrets[0]!;
  const twilioToken = config.twilio!.authTokens[0]!;
  const tcccCredential = config.tccc!.credentials[0]!;
  const tcccToken = tcccCredential.scheme === 'bearer' ? tcccCredential.token : '';
  const now = () => stack.clock.now();

  const originals = Math.round(COUNT / 1.2);
  const planned: Planned[] = [];
  for (let i = 0; i < originals; i++) {
    const valid = Math.random() >= 0.05 * 1.2; // 5% of all requests sent
    const roll = Math.random();
    const n = String(i).padStart(6, '0');
    if (roll < 0.5) {
      const kind = roll < 0.35 ? 'ticket' : 'missed';
      const callId = `bench-${run}-${n}`;
      const at = now();
      const body = JSON.stringify(
        kind === 'ticket'
          ? {
              type: 'call.completed',
              timestamp: at.toISOString(),
              data: {
                callId,
                durationSeconds: 120,
                ticket: {
                  // A caller of its own per call, so that no ticket is merged (并单) into another.
                  callerPhone: `+86139${String(i).padStart(8, '0')}`,
                  content: '小区路灯不亮，请尽快维修。',
                  category: 'complaint',
                  topic: 'water-supply',
                  place: { district: 'qingshan', township: 'dongcheng' },
                },
              },
            }
          : {
              type: 'call.missed',
              timestamp: at.toISOString(),
              data: {
                callId,
                callerNumber: `+86137${String(i).padStart(8, '0')}`,
                reason: 'abandoned',
              },
            },
      );
      const id = `msg_${run}_${n}`;
      const headers = signStandardWebhook({ id, timestamp: at, body, secret });
      if (!valid) headers['webhook-signature'] = `v1,${randomBytes(32).toString('base64')}`;
      planned.push({
        provider: 'standard',
        kind,
        valid,
        callId,
        deliveryId: `standard:${id}`,
        request: { body, headers: { ...headers, 'content-type': 'application/json' } },
      });
    } else if (roll < 0.75) {
      const callId = `CA${run}${randomBytes(12).toString('hex')}`;
      const params = { CallSid: callId, CallStatus: 'ringing', Direction: 'inbound', To: '12345' };
      const signature = computeTwilioSignature(
        valid ? twilioToken : randomBytes(16).toString('hex'),
        config.twilio!.publicUrl,
        params,
      );
      planned.push({
        provider: 'twilio',
        kind: 'received',
        valid,
        callId,
        deliveryId: `twilio:${callId}:voice`,
        request: {
          body: new URLSearchParams(params).toString(),
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': signature,
          },
        },
      });
    } else {
      const callId = `tccc-${run}-${n}`;
      const t = Math.floor(now().getTime() / 1000);
      const uuid = `push-${run}-${n}`;
      planned.push({
        provider: 'tccc',
        kind: 'missed',
        valid,
        callId,
        deliveryId: `tccc:${uuid}`,
        request: {
          body: JSON.stringify({
            SdkAppId: 1400000000,
            SessionId: callId,
            Caller: `+86136${String(i).padStart(8, '0')}`,
            Callee: '12345',
            Direction: 0,
            StartTimestamp: t - 100,
            QueuedTimestamp: t - 90,
            EndedTimestamp: t,
            Duration: 0,
            EndStatusString: 'waitingGiveUp',
          }),
          headers: {
            'content-type': 'application/json;charset=utf8',
            authorization: `Bearer ${valid ? tcccToken : randomBytes(24).toString('base64url')}`,
            'x-tccc-push-uuid': uuid,
          },
        },
      });
    }
  }
  // 20% of the burst are exact redeliveries of earlier requests, shuffled in.
  const sends = [...planned];
  while (sends.length < COUNT) sends.push(planned[Math.floor(Math.random() * planned.length)]!);
  for (let i = sends.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [sends[i], sends[j]] = [sends[j]!, sends[i]!];
  }

  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  const wrong: string[] = [];
  const started = performance.now();
  let next = 0;
  let timedOut = false;
  const worker = async () => {
    while (next < sends.length) {
      if (performance.now() - started > MAX_MS) {
        timedOut = true;
        return;
      }
      const item = sends[next++]!;
      const t0 = performance.now();
      const response = await fetch(webhooks[item.provider], {
        method: 'POST',
        headers: item.request.headers,
        body: item.request.body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - t0);
      const key = `${item.provider} ${response.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      const expected = item.valid ? 200 : 401;
      if (response.status !== expected) wrong.push(`${item.deliveryId}: ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;

  // ── What was written ───────────────────────────────────────────────────────────────────
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.urls.dynamodb, region: 'us-east-1' }),
  );
  const table = process.env.TABLE_NAME!;
  const ticketCalls = new Set<string>();
  let benchTickets = 0;
  for (let shard = 0; shard < OPEN_SHARDS; shard++) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new QueryCommand({
          TableName: table,
          IndexName: INDEXES.openTickets.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': INDEXES.openTickets.partition },
          ExpressionAttributeValues: { ':pk': `OPEN#${shard}` },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (String(item.callId ?? '').startsWith(`bench-${run}-`)) {
          benchTickets++;
          ticketCalls.add(String(item.callId));
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  const callbackIds = new Set<string>();
  let callbackItems = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.callback(TENANT, shanghaiDate(now())).PK },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      callbackItems++;
      callbackIds.add(String(item.callId));
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const counter = await documents.send(
    new GetCommand({
      TableName: table,
      Key: keys.ticketCounter(shanghaiDate(now()).replaceAll('-', '')),
    }),
  );

  const sent = new Set(sends.slice(0, next));
  const validTickets = planned.filter((p) => p.valid && p.kind === 'ticket' && sent.has(p));
  const validMissed = planned.filter((p) => p.valid && p.kind === 'missed' && sent.has(p));
  const invalid = planned.filter((p) => !p.valid && sent.has(p));
  // Refused deliveries: no delivery record, no call record, in batches of GetItems.
  let leftovers = 0;
  const probe = invalid.flatMap((p) => [
    keys.phoneDelivery(TENANT, p.deliveryId),
    ...['RECEIVED', 'COMPLETED', 'MISSED', 'STATUS', 'TICKET'].map((part) =>
      keys.phoneCall(TENANT, p.provider, p.callId, part),
    ),
  ]);
  for (let i = 0; i < probe.length; i += 100) {
    const batch = await documents.send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: probe.slice(i, i + 100) } } }),
    );
    leftovers += batch.Responses?.[table]?.length ?? 0;
    if (Object.keys(batch.UnprocessedKeys ?? {}).length > 0) throw new Error('unprocessed keys');
  }

  const checks = {
    'every response as expected (200 valid, 401 refused)': wrong.length === 0,
    'tickets = valid unique calls with a ticket':
      benchTickets === validTickets.length && validTickets.every((p) => ticketCalls.has(p.callId)),
    'call-backs = valid unique missed calls':
      callbackItems === validMissed.length && validMissed.every((p) => callbackIds.has(p.callId)),
    'refused deliveries left nothing behind': leftovers === 0,
  };
  console.log(`webhook burst, ${new Date().toISOString()}, local stack on 127.0.0.1`);
  console.log(
    `  sent ${latencies.length} of ${sends.length} requests (${originals} distinct deliveries, ` +
      `${sends.length - originals} redeliveries, ${invalid.length} with bad signatures/credentials), ` +
      `concurrency ${CONCURRENCY}${timedOut ? `, STOPPED at the ${MAX_MS / 1000}s limit` : ''}`,
  );
  console.log(`  statuses: ${[...statuses].map(([k, v]) => `${k}×${v}`).join(', ')}`);
  console.log(
    `  throughput: ${(latencies.length / elapsed).toFixed(0)} requests/s over ${elapsed.toFixed(1)} s`,
  );
  console.log(
    `  latency: p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
  );
  console.log(
    `  written: ${benchTickets} tickets (expected ${validTickets.length}), ${callbackItems} call-backs ` +
      `(expected ${validMissed.length}), ticket counter at ${counter.Item?.seq ?? 0}, ` +
      `${leftovers} items from refused deliveries`,
  );
  for (const [name, ok] of Object.entries(checks)) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}`);
  if (wrong.length > 0) console.log(`  unexpected: ${wrong.slice(0, 5).join('; ')}`);
  process.exitCode = Object.values(checks).every(Boolean) ? 0 : 1;
} finally {
  await stack.close();
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { VirtualClock } from './clock.ts';
import type { ExtraRoute } from './gateway.ts';
import type { LocalAssembly } from './synth.ts';

/** China has had no daylight saving since 1991: Asia/Shanghai is UTC+8 all year. */
const SHANGHAI_OFFSET_MS = 8 * 3600_000;

type Field = (value: number) => boolean;

function field(spec: string, name: string): Field {
  if (spec === '*' || spec === '?') return () => true;
  const values = spec.split(',').map((part) => {
    const n = Number(part);
    if (!Number.isInteger(n))
      throw new Error(`unsupported ${name} "${spec}" in the bulletin schedule`);
    return n;
  });
  return (value) => values.includes(value);
}

/**
 * The next firing of an EventBridge Scheduler expression after `afterMs`, for the forms the CDK
 * app uses: `rate(n minutes|hours|days)` and `cron(min hour day-of-month month day-of-week year)`
 * with numbers, lists, `*` and `?`, in Asia/Shanghai. Anything else is refused at start-up rather
 * than run at a wrong time.
 */
export function nextFiring(
  expression: string,
  timezone: string | undefined,
  afterMs: number,
): number {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) {
    const unit = { minute: 60_000, hour: 3600_000, day: 86_400_000 }[
      rate[2] as 'minute' | 'hour' | 'day'
    ];
    return afterMs + Number(rate[1]) * unit;
  }
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression);
  if (!cron) throw new Error(`unsupported schedule expression "${expression}"`);
  if (timezone && timezone !== 'Asia/Shanghai')
    throw new Error(`unsupported schedule time zone ${timezone}`);
  const offset = timezone ? SHANGHAI_OFFSET_MS : 0;
  const [minute, hour, dom, month, dow, year] = cron
    .slice(1)
    .map((s, i) => field(s as string, `field ${i + 1}`)) as [
    Field,
    Field,
    Field,
    Field,
    Field,
    Field,
  ];
  const local = afterMs + offset;
  const startDay = Math.floor(local / 86_400_000);
  for (let day = startDay; day < startDay + 366 * 5; day++) {
    const d = new Date(day * 86_400_000);
    // Scheduler counts days of the week 1 (Sunday) to 7.
    if (
      !(
        dom(d.getUTCDate()) &&
        month(d.getUTCMonth() + 1) &&
        dow(d.getUTCDay() + 1) &&
        year(d.getUTCFullYear())
      )
    )
      continue;
    for (let h = 0; h < 24; h++) {
      if (!hour(h)) continue;
      for (let m = 0; m < 60; m++) {
        const at = day * 86_400_000 + h * 3600_000 + m * 60_000 - offset;
        if (minute(m) && at > afterMs) return at;
      }
    }
  }
  throw new Error(`the schedule "${expression}" never fires`);
}

interface ScheduleResource {
  Type: string;
  Properties?: {
    ScheduleExpression?: string;
    ScheduleExpressionTimezone?: string;
    Target?: unknown;
  };
}

/** The bulletin schedule as synthesized, run on the virtual clock. Returns a stop function. */
export function runBulletinSchedule(
  assembly: LocalAssembly,
  clock: VirtualClock,
  start: (name: string) => Promise<unknown>,
  onError: (error: unknown) => void,
): () => void {
  // The one schedule whose target is the bulletin state machine (others invoke functions).
  const schedule = (Object.values(assembly.template.Resources) as ScheduleResource[]).find(
    (r) =>
      r.Type === 'AWS::Scheduler::Schedule' &&
      JSON.stringify(r.Properties?.Target ?? {}).includes('BulletinRun'),
  );
  const expression = schedule?.Properties?.ScheduleExpression;
  if (!expression) throw new Error('the CDK app has no bulletin schedule');
  return runSchedule(
    expression,
    schedule?.Properties?.ScheduleExpressionTimezone,
    clock,
    (due) => start(`scheduled-${new Date(due).toISOString().replace(/[^0-9TZ]/g, '')}`),
    onError,
  );
}

/** Fires `fire` at every firing of a Scheduler expression on the virtual clock, until stopped. */
export function runSchedule(
  expression: string,
  timezone: string | undefined,
  clock: VirtualClock,
  fire: (dueMs: number) => Promise<unknown>,
  onError: (error: unknown) => void,
): () => void {
  nextFiring(expression, timezone, clock.nowMs());
  const abort = new AbortController();
  void (async () => {
    for (;;) {
      const due = nextFiring(expression, timezone, clock.nowMs());
      try {
        await clock.sleepUntil(due, abort.signal);
      } catch {
        return;
      }
      await fire(due).catch(onError);
    }
  })();
  return () => abort.abort();
}

export async function startBulletinRun(sfnUrl: string, arn: string, name: string): Promise<string> {
  const client = new SFNClient({
    endpoint: sfnUrl,
    region: 'cn-north-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const { executionArn } = await client.send(
    new StartExecutionCommand({ stateMachineArn: arn, name, input: '{}' }),
  );
  return executionArn as string;
}

/**
 * Serves the published bulletin files from the local bucket under /bulletins/, as a CDN in front
 * of the bucket would: GET only, `/bulletins/` is the index.
 */
export function bulletinSiteRoute(s3Endpoint: string, bucket: string): ExtraRoute {
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: 'cn-north-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    prefix: '/bulletins/',
    async handle(req: IncomingMessage, res: ServerResponse) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const path = new URL(req.url ?? '/', 'http://localhost').pathname.slice('/bulletins/'.length);
      const key = decodeURIComponent(path) || 'index.html';
      if (key.includes('..') || key.startsWith('/')) {
        res.writeHead(404).end();
        return;
      }
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const body = await object.Body?.transformToByteArray();
        res.writeHead(200, {
          'content-type': object.ContentType ?? 'application/octet-stream',
          'cache-control': object.CacheControl ?? 'no-cache',
        });
        res.end(req.method === 'HEAD' ? undefined : Buffer.from(body ?? []));
      } catch (error) {
        if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchBucket') {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found');
          return;
        }
        throw error;
      }
    },
  };
}

/** POST /_local/bulletin-runs: start one bulletin run now (what `npm run bulletin` calls). */
export function bulletinRunRoute(start: () => Promise<string>): ExtraRoute {
  return {
    prefix: '/_local/bulletin-runs',
    async handle(req, res) {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      const executionArn = await start();
      res
        .writeHead(202, { 'content-type': 'application/json' })
        .end(JSON.stringify({ executionArn }));
    },
  };
}

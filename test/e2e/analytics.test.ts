import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetOf } from '#adapters/analytics/duckdb';
import type { MonthlyAnalysis } from '#core/analytics/analysis';
import { analyticsRow, batchKey, byPartition } from '#core/analytics/schema';
import { shanghaiDate } from '#core/calendar';
import type { Ticket } from '#core/ticket';
import { LOCAL_ANALYTICS_BUCKET, type LocalStack } from '#local/stack';
import { type SimulatedMonth, simulateMonth, storedVersions } from '../../simulator/analytics.ts';
import { TEST_SALT } from '../support/analytics.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../support/dynamodb.ts';
import { type Api, apiClient, eventually, startTestStack } from '../support/local-stack.ts';

/**
 * The analytics run on the whole local stack: a planted month in the local S3 (as the sink
 * writes it), the workflow started as the schedules start it, warnings mailed once, the report
 * stored and mailed, and the supervisor's API answering from the data set through DuckDB.
 */
let stack: LocalStack;
let api: Api;
let sfn: SFNClient;
let s3: S3Client;
let runArn: string;
let month: SimulatedMonth;

beforeAll(async () => {
  // The morning after the planted surge: the daily run looks at 2026-10-12.
  stack = await startTestStack({ start: new Date('2026-10-13T07:30:00+08:00') });
  api = apiClient(stack);
  const config = { region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } };
  sfn = new SFNClient({ ...config, endpoint: stack.urls.sfn });
  s3 = new S3Client({ ...config, endpoint: stack.urls.s3, forcePathStyle: true });
  const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
  runArn = stateMachines?.find((m) => m.name?.endsWith('-analytics'))?.stateMachineArn as string;
  month = simulateMonth({ month: '2026-10', perDay: 50, seed: 21, plant: true });
  const rows = storedVersions(month.tickets).map((t) => analyticsRow(t, TEST_SALT));
  for (const [dt, group] of byPartition(rows)) {
    await s3.send(
      new PutObjectCommand({
        Bucket: LOCAL_ANALYTICS_BUCKET,
        Key: batchKey(dt, '100', '200'),
        Body: await parquetOf(group),
      }),
    );
  }
}, 300_000);

afterAll(async () => {
  sfn?.destroy();
  s3?.destroy();
  await stack?.close();
});

async function runAnalytics(input: Record<string, unknown>, name: string) {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: runArn, name, input: JSON.stringify(input) }),
  );
  return eventually(async () => {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(d.status).not.toBe('RUNNING');
    return d;
  }, 120_000);
}

const mailsAbout = (subject: string) =>
  stack.ses.messages().filter((m) => JSON.stringify(m).includes(subject));

describe('analytics on the local stack', () => {
  it('mails the day’s new warnings once, and the monthly report', async () => {
    const first = await runAnalytics({ report: true }, 'daily-and-report');
    expect(first.status, first.cause ?? first.error).toBe('SUCCEEDED');
    const output = JSON.parse(first.output as string);
    expect(output.detected).toMatchObject({ day: '2026-10-12' });
    // Of the planted patterns only the surge falls on that day (the cluster starts on the 18th,
    // the repeat caller calls on the 2nd, 5th, 8th, 11th, 14th…), and seed 21's background
    // raises no false alarm: one new warning, the planted surge's.
    const surge = month.planted.surge!;
    expect(surge.day).toBe('2026-10-12');
    expect(output.detected.new).toBe(1);
    const listed = await api('GET', '/analytics/warnings?month=2026-10', {
      token: stack.tokens.supervisor,
    });
    expect(
      listed.body.warnings
        .filter((w: { day: string }) => w.day === surge.day)
        .map((w: { id: string }) => w.id),
    ).toEqual([`surge:${surge.topic}:qingshan:${surge.township}:${surge.day}`]);
    expect(mailsAbout('【预警】2026-10-12')).toHaveLength(1);
    expect(JSON.stringify(mailsAbout('【预警】2026-10-12')[0])).toContain('songlin');
    // The report of the previous month, stored and mailed.
    const stored = await s3.send(
      new GetObjectCommand({ Bucket: LOCAL_ANALYTICS_BUCKET, Key: 'reports/2026-09.html' }),
    );
    expect(await stored.Body?.transformToString()).toContain('2026年9月分析研判报告');
    expect(mailsAbout('2026年9月分析研判报告')).toHaveLength(1);

    // The same day again: the findings are known, nothing is mailed twice.
    const again = await runAnalytics({}, 'daily-again');
    expect(again.status).toBe('SUCCEEDED');
    expect(JSON.parse(again.output as string).detected.new).toBe(0);
    expect(mailsAbout('【预警】2026-10-12')).toHaveLength(1);
  }, 300_000);

  it('answers the supervisor from the data set, and nobody else', async () => {
    const token = stack.tokens.supervisor;
    const warnings = await api('GET', '/analytics/warnings?month=2026-10', { token });
    expect(warnings.status).toBe(200);
    expect(warnings.body.warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: 'surge:roads:qingshan:songlin:2026-10-12',
          kind: 'surge',
          mailedAt: expect.any(String),
        }),
      ]),
    );
    const hotspots = await api('GET', '/analytics/hotspots?month=2026-10', { token });
    expect(hotspots.status).toBe(200);
    expect(hotspots.body.hotspots).toEqual(hotspotsOf(month.tickets, '2026-10'));
    expect(hotspots.body.repeatCallers).toHaveLength(1);
    const clusters = await api('GET', '/analytics/clusters?month=2026-10', { token });
    expect(clusters.status).toBe(200);
    expect(clusters.body.clusters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          township: 'nanhu',
          callers: expect.toSatisfy((n: number) => n >= 10),
        }),
      ]),
    );
    expect(clusters.body.candidates[0].township).toBe('nanhu');
    const compare = await api(
      'GET',
      '/analytics/compare?topic=roads&district=qingshan&township=songlin&date=2026-10-12&days=7',
      { token },
    );
    expect(compare.status).toBe(200);
    expect(compare.body.after.tickets).toBeGreaterThan(compare.body.before.tickets);

    const operator = await api('GET', '/analytics/warnings?month=2026-10', {
      token: stack.tokens.operator,
    });
    expect(operator.status).toBe(403);
    const bad = await api('GET', '/analytics/hotspots?month=2026-13', { token });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('month');
  }, 120_000);
});

/**
 * 高频 counted afresh from the planted tickets (each as finally stored): per place and topic, the
 * month's tickets, those the caller (or, unreached, the reply) called unresolved, and those not
 * closed; most tickets first, then by place and topic, the top 50.
 */
function hotspotsOf(tickets: readonly Ticket[], month: string) {
  const cells = new Map<string, MonthlyAnalysis['hotspots'][number]>();
  for (const t of tickets) {
    if (shanghaiDate(t.createdAt).slice(0, 7) !== month) continue;
    const township = t.place.township ?? '';
    const key = `${t.place.district}|${township}|${t.topic}`;
    const cell = cells.get(key) ?? {
      district: t.place.district,
      township,
      topic: t.topic!,
      tickets: 0,
      unresolved: 0,
      open: 0,
    };
    cell.tickets++;
    const resolved = t.survey?.reached ? t.survey.resolved : t.reply?.resolved;
    if (resolved === false) cell.unresolved++;
    if (t.status !== 'closed' && t.status !== 'merged') cell.open++;
    cells.set(key, cell);
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...cells.values()]
    .sort(
      (a, b) =>
        b.tickets - a.tickets ||
        byName(a.district, b.district) ||
        byName(a.township, b.township) ||
        byName(a.topic, b.topic),
    )
    .slice(0, 50);
}

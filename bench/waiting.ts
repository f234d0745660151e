/**
 * Waiting is free: a ticket's state transitions do not depend on how far away its deadlines are,
 * because the workflow sleeps in a task timeout until the next deadline event. Beside it, the same
 * three tickets watched by a polling reminder loop (bench/polling-reminder.asl.json: wait an hour,
 * read, decide) on the same engine and the same virtual timeline.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { VirtualClock } from '#local/clock';
import { startLocalStepFunctions } from '#local/stepfunctions/server';
import { diffTotals, meterCapacity } from './lib/capacity.ts';
import { type BenchResult, round, type Table } from './lib/common.ts';
import { Driver, MONDAY } from './lib/driver.ts';

const HEATING = 'heating-supply@qingshan.example.gov.cn';
const REGION = 'cn-north-1';
const HOUR_MS = 3600_000;
/** A polling loop never runs longer than this many virtual hours here. */
const MAX_POLL_HOURS = 24 * 120;

/** Three reply limits on one stack: the category picks the limit, nothing else differs. */
const CASES = [
  { label: '1 hour', category: '咨询', limit: { amount: 1, unit: 'hours' } },
  { label: '72 hours', category: '求助', limit: { amount: 72, unit: 'hours' } },
  { label: '15 working days', category: '投诉', limit: { amount: 15, unit: 'workingDays' } },
] as const;

export const LIFECYCLE_CONFIG = {
  reply: {
    normal: {
      consultation: CASES[0].limit,
      help: CASES[1].limit,
      complaint: CASES[2].limit,
      report: CASES[2].limit,
      suggestion: CASES[2].limit,
    },
    urgent: { amount: 24, unit: 'hours' },
  },
};

export function pollingDefinition(): object {
  return JSON.parse(
    readFileSync(new URL('./polling-reminder.asl.json', import.meta.url), 'utf8'),
  ) as object;
}

interface Timeline {
  filedAtMs: number;
  repliedAfterMs: number;
  deadlines: { remindAt?: string; replyBy?: string; reportAt?: string };
}

export async function run(): Promise<BenchResult> {
  const driver = await Driver.start({ lifecycleConfig: LIFECYCLE_CONFIG });
  try {
    const { documentClient } = await import('#adapters/dynamodb/client');
    const meter = meterCapacity(documentClient as never);

    // ── The lifecycle: file, sign, then let every deadline event fall due before replying. ──
    const lifecycle: {
      label: string;
      id: string;
      transitions: number;
      lambdas: number;
      rru: number;
      wru: number;
      events: string[];
      timeline: Timeline;
    }[] = [];
    for (const c of CASES) {
      const before = meter.snapshot();
      const { id } = await driver.file({ category: c.category, noCallback: true });
      await driver.act(id, { action: 'sign' }, HEATING);
      meter.enabled = false;
      const { ticket } = await driver.view(id);
      meter.enabled = true;
      const { remindAt, replyBy, reportAt } = ticket.deadlines;
      await driver.advanceTo(remindAt);
      await driver.advanceTo(replyBy);
      await driver.advanceTo(reportAt);
      await driver.act(id, { action: 'reply', content: '已处理。', resolved: true }, HEATING);
      const repliedAfterMs = driver.stack.clock.nowMs() - Date.parse(ticket.createdAt);
      meter.enabled = false;
      const after = await driver.view(id);
      meter.enabled = true;
      if (after.ticket.status !== 'closed')
        throw new Error(`${id} did not close: ${after.ticket.status}`);
      const capacity = diffTotals(meter.snapshot(), before);
      const stats = driver.stats(id);
      lifecycle.push({
        label: c.label,
        id,
        transitions: stats.stateTransitions,
        lambdas: stats.lambdaInvocations,
        rru: capacity.modelledRead,
        wru: capacity.modelledWrite,
        events: after.history.map((h: { event: string }) => h.event),
        timeline: {
          filedAtMs: Date.parse(ticket.createdAt),
          repliedAfterMs,
          deadlines: { remindAt, replyBy, reportAt },
        },
      });
    }

    // ── The polling loop, on its own engine and clock, replaying the same timelines. ──
    const clock = new VirtualClock({ start: MONDAY });
    const table = process.env.TABLE_NAME!;
    const raw = new DynamoDBClient({
      endpoint: driver.stack.urls.dynamodb,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const documents = DynamoDBDocumentClient.from(raw);
    const pollMeter = meterCapacity(documents as never);
    let reminders = 0;
    const key = (id: string) => ({ PK: `POLL#${id}`, SK: 'META' });
    const invokeLambda = async (arn: string, payload: unknown) => {
      const { ticketId, event } = payload as { ticketId: string; event?: string };
      if (arn.endsWith(':poll-read-ticket')) {
        const { Item } = await documents.send(
          new GetCommand({ TableName: table, Key: key(ticketId) }),
        );
        if (!Item) throw new Error(`no polled ticket ${ticketId}`);
        const now = new Date(clock.nowMs()).toISOString();
        let due: string | null = null;
        if (!Item.done) {
          if (!Item.reminded && now >= Item.remindAt && now < Item.replyBy) due = 'reminded';
          else if (!Item.overdue && now >= Item.replyBy) due = 'overdue';
          else if (!Item.reported && now >= Item.reportAt) due = 'reported';
        }
        return { done: Boolean(Item.done), due };
      }
      if (arn.endsWith(':poll-send-reminder')) {
        reminders++;
        await documents.send(
          new UpdateCommand({
            TableName: table,
            Key: key(ticketId),
            UpdateExpression: 'SET #e = :t',
            ExpressionAttributeNames: { '#e': String(event) },
            ExpressionAttributeValues: { ':t': true },
          }),
        );
        return {};
      }
      throw new Error(`no polling function ${arn}`);
    };
    const arn = `arn:aws:states:${REGION}:000000000000:stateMachine:PollingReminder`;
    const engine = await startLocalStepFunctions({
      clock,
      region: REGION,
      stateMachines: [{ name: 'PollingReminder', arn, definition: pollingDefinition() }],
      invokeLambda,
    });
    const sfn = new SFNClient({
      endpoint: engine.url,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const polling: {
      label: string;
      transitions: number;
      lambdas: number;
      hours: number;
      rru: number;
      wru: number;
      reminders: number;
    }[] = [];
    try {
      for (const [i, l] of lifecycle.entries()) {
        const id = `poll-${i}`;
        const startMs = clock.nowMs();
        // The same deadlines, shifted to when this loop starts.
        const shift = (iso: string | undefined) =>
          new Date(
            Date.parse(iso ?? '9999-12-31T00:00:00Z') - l.timeline.filedAtMs + startMs,
          ).toISOString();
        const before = pollMeter.snapshot();
        const sent = reminders;
        await documents.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...key(id),
              remindAt: shift(l.timeline.deadlines.remindAt),
              replyBy: shift(l.timeline.deadlines.replyBy),
              reportAt: shift(l.timeline.deadlines.reportAt),
              done: false,
            },
          }),
        );
        const { executionArn } = await sfn.send(
          new StartExecutionCommand({
            stateMachineArn: arn,
            name: id,
            input: JSON.stringify({ ticketId: id }),
          }),
        );
        await engine.waitForIdle(30_000);
        const replyAtMs = startMs + l.timeline.repliedAfterMs;
        let done = false;
        let hours = 0;
        for (; hours < MAX_POLL_HOURS; hours++) {
          if (!done && clock.nowMs() + HOUR_MS >= replyAtMs) {
            await documents.send(
              new UpdateCommand({
                TableName: table,
                Key: key(id),
                UpdateExpression: 'SET done = :t',
                ExpressionAttributeValues: { ':t': true },
              }),
            );
            done = true;
          }
          clock.advance(HOUR_MS);
          await engine.waitForIdle(30_000);
          if (done) {
            const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
            if (status !== 'RUNNING') break;
          }
        }
        const stats = engine.stats(executionArn!);
        const capacity = diffTotals(pollMeter.snapshot(), before);
        polling.push({
          label: l.label,
          transitions: stats.stateTransitions,
          lambdas: stats.lambdaInvocations,
          hours: hours + 1,
          rru: capacity.modelledRead,
          wru: capacity.modelledWrite,
          reminders: reminders - sent,
        });
      }
    } finally {
      sfn.destroy();
      raw.destroy();
      await engine.close();
      clock.stop();
    }

    const same = new Set(lifecycle.map((l) => l.transitions)).size === 1;
    const table1: Table = {
      title: 'State transitions per ticket: timeouts (the lifecycle) vs an hourly polling loop',
      columns: [
        'reply limit',
        'waited (h)',
        'lifecycle transitions',
        'λ',
        'RRU',
        'WRU',
        'polling transitions',
        'λ',
        'RRU',
        'reminders',
      ],
      rows: lifecycle.map((l, i) => {
        const p = polling[i]!;
        return [
          l.label,
          round(l.timeline.repliedAfterMs / HOUR_MS, 1),
          l.transitions,
          l.lambdas,
          round(l.rru, 1),
          round(l.wru, 1),
          p.transitions,
          p.lambdas,
          round(p.rru, 1),
          p.reminders,
        ];
      }),
      notes: [
        `Lifecycle transitions ${same ? 'are equal' : 'DIFFER'} across the three limits. Each ticket: filed, signed at once, then 催办, 督办 and 通报 fall due (the clock is moved to each), then the unit replies; no callback.`,
        `Events (each ticket): ${lifecycle[0]?.events.join(' → ')}`,
        'The limits are reply.normal.consultation = 1 h, help = 72 h, complaint = 15 working days (LIFECYCLE_CONFIG); the reminder is at four fifths of an hours limit, one working day before a working-day one; 通报 3 working days after the deadline.',
        'Polling: Wait 3600 s → Lambda read (GetItem) → Choice, plus a reminder Lambda per deadline event, until the reply; it notices each event up to an hour late (the 通报 falls in the hour of the reply, so the loop reads the reply first: 2 reminders). Lifecycle RRU/WRU are the whole ticket (intake, routing, actions); polling RRU/WRU only the loop’s own reads and reminder writes.',
      ],
    };
    return {
      name: 'waiting',
      title: 'Waiting is free',
      tables: [table1],
      data: { lifecycleConfig: LIFECYCLE_CONFIG, lifecycle, polling, equalTransitions: same },
    };
  } finally {
    await driver.close();
  }
}

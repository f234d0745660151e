import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/dynamodb/client';
import { recordSurveyAnswer } from '#core/tickets';
import { ticketDeps } from '#functions/lib/deps';
import { asFunction } from '#local/functions';
import type { LocalStack } from '#local/stack';
import { type CapacityTotals, diffTotals, meterCapacity } from '../../bench/lib/capacity.ts';
import { type Api, apiClient, replyIdFrom, startTestStack } from '../support/local-stack.ts';

/**
 * What a happy-path ticket (file → dispatch → sign → reply → survey → close) costs in DynamoDB
 * writes, counted from the capacity DynamoDB Local reports for every request of the process (the
 * API, the workflow's tasks and the stream consumers alike). A regression test of issue 12: the
 * ticket's changes are single conditional Puts, waits need no transaction, the counters are
 * counted from the stream.
 */
let stack: LocalStack;
let api: Api;
const surveys: string[] = [];
const HEATING = 'heating-supply@qingshan.example.gov.cn';

beforeAll(async () => {
  stack = await startTestStack({ start: new Date('2026-11-16T02:00:00Z') });
  api = apiClient(stack);
  asFunction('survey-caller', () => {
    ticketDeps().surveys = {
      requestSurvey: async ({ surveyId }) => void surveys.push(surveyId),
    };
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

let callers = 0;
async function happyTicket(): Promise<string> {
  callers++;
  const created = await api('POST', '/tickets', {
    token: stack.tokens.operator,
    body: {
      caller: { name: '王五', phone: `138${String(40_000_000 + callers).slice(-8)}` },
      content: '小区供暖温度不达标，室温不足16度。',
      category: '投诉',
      topic: 'heating',
      place: { district: 'qingshan', township: 'beiyuan', address: `北苑小区${callers}号楼` },
    },
  });
  expect(created.status, created.text).toBe(201);
  const id = created.body.id as string;
  await stack.sfn.waitForIdle();
  const link = replyIdFrom(
    stack.ses.messages().find((m) => m.subject.includes(id) && m.to.includes(HEATING))?.text,
  );
  for (const body of [
    { action: 'sign' },
    { action: 'reply', content: '已更换换热站阀门，室温恢复。', resolved: true },
  ]) {
    const response = await api('POST', `/replies/${link}`, { body });
    expect(response.status, response.text).toBe(200);
    await stack.sfn.waitForIdle();
  }
  const answer = { resolved: true, satisfaction: 'satisfied' } as const;
  expect(await recordSurveyAnswer(ticketDeps(), surveys.at(-1)!, answer)).toBe('recorded');
  await stack.sfn.waitForIdle();
  return id;
}

describe('a happy-path ticket in DynamoDB writes', () => {
  it('costs at most 47 write units as DynamoDB Local reports them, in at most 6 transactions', async () => {
    const meter = meterCapacity(documentClient as never);
    // A warm-up ticket first, as in bench/cost.ts: the catalogue and other first reads.
    await happyTicket();
    const before = meter.snapshot();
    const id = await happyTicket();
    const used: CapacityTotals = diffTotals(meter.snapshot(), before);
    const { body } = await api('GET', `/tickets/${id}`, { token: stack.tokens.supervisor });
    expect(body.ticket.status).toBe('closed');
    expect(body.history.map((h: { event: string }) => h.event)).toEqual([
      'received',
      'dispatched',
      'signed',
      'replied',
      'survey_requested',
      'closed',
    ]);
    // Before issue 12: 74 reported units (93 by AWS's rules), 10 transactions.
    expect(used.reportedWrite).toBeLessThanOrEqual(47);
    expect(used.byOperation.TransactWriteItemsCommand ?? 0).toBeLessThanOrEqual(6);
  });
});

import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readSeedModel } from '#adapters/seed-dispatch-model';
import { STANDARD_WEBHOOK_EXAMPLES } from '#core/phone/events';
import type { LocalStack } from '#local/stack';
import { localClientConfig, scanTable } from '../support/dynamodb.ts';
import { type Api, apiClient, eventually, startTestStack } from '../support/local-stack.ts';

const SEED_MODEL = await readSeedModel();
let stack: LocalStack;
let api: Api;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  stack = await startTestStack();
  api = apiClient(stack);
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient(localClientConfig(stack.urls.dynamodb)),
  );
}, 120_000);
afterAll(async () => {
  documents?.destroy();
  await stack?.close();
});

let callers = 0;
function request(content: string, extra: Record<string, unknown> = {}) {
  callers++;
  return {
    caller: { name: '赵女士', phone: `137${String(10_000_000 + callers).slice(-8)}` },
    content,
    category: 'complaint',
    place: { district: 'qingshan', township: 'dongcheng', address: `和平里${callers}号` },
    noCallback: true,
    ...extra,
  };
}

async function file(body: unknown): Promise<string> {
  const created = await api('POST', '/tickets', { token: stack.tokens.operator, body });
  expect(created.status, created.text).toBe(201);
  return created.body.id;
}

async function view(id: string) {
  return (await api('GET', `/tickets/${id}`, { token: stack.tokens.dispatcher })).body;
}

const CLEAR = '家里暖气片冰凉，屋里只有十二度，老人受不了';
const VAGUE = '我想反映一个事情，麻烦你们管一管';

describe('POST /tickets/classify', () => {
  it('answers the three most likely topics with their probabilities, storing nothing', async () => {
    const before = await scanTable(documents, process.env.TABLE_NAME!);
    // Nor logging it: the content may name people.
    const logged: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      vi.spyOn(stream, 'write').mockImplementation((chunk, ...rest) => {
        logged.push(String(chunk));
        return write(chunk, ...(rest as []));
      });
    }
    const response = await api('POST', '/tickets/classify', {
      token: stack.tokens.operator,
      body: { content: CLEAR },
    }).finally(() => vi.restoreAllMocks());
    expect(await scanTable(documents, process.env.TABLE_NAME!)).toEqual(before);
    expect(logged.filter((line) => line.includes(CLEAR))).toEqual([]);
    expect(response.status, response.text).toBe(200);
    expect(response.body.modelVersion).toBe(SEED_MODEL.version);
    const { suggestions } = response.body;
    expect(suggestions).toHaveLength(3);
    expect(suggestions[0].topic).toBe('heating');
    expect(suggestions[0].probability).toBeGreaterThan(response.body.threshold);
    expect(suggestions[0].probability).toBeGreaterThanOrEqual(suggestions[1].probability);
  });

  it('is for operators and dispatchers, and names a missing field', async () => {
    const unit = await api('POST', '/tickets/classify', {
      token: stack.tokens.units['water-supply'],
      body: { content: CLEAR },
    });
    expect(unit.status).toBe(403);
    const supervisor = await api('POST', '/tickets/classify', {
      token: stack.tokens.supervisor,
      body: { content: CLEAR },
    });
    expect(supervisor.status).toBe(403);
    const empty = await api('POST', '/tickets/classify', {
      token: stack.tokens.dispatcher,
      body: { content: '  ' },
    });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('content');
  });
});

describe('POST /tickets without a topic', () => {
  it('takes the suggested topic when the model is sure, and says so in the history', async () => {
    const id = await file(request(CLEAR));
    const done = await eventually(async () => {
      const v = await view(id);
      expect(v.ticket.status).toBe('dispatched');
      return v;
    });
    expect(done.ticket.topic).toBe('heating');
    expect(done.ticket.leadUnit).toBe('heating-supply');
    expect(done.ticket.topicChoice).toMatchObject({
      by: 'model',
      modelVersion: SEED_MODEL.version,
    });
    const received = done.history.find((h: { event: string }) => h.event === 'received');
    expect(received.details.topic).toBe('heating');
    expect(received.details.topicChoice.by).toBe('model');
    expect(received.details.topicChoice.probability).toBeGreaterThanOrEqual(SEED_MODEL.threshold);
  });

  it("records the dispatcher's topic after a return as a correction of the model's", async () => {
    const id = await file(request('小区停水两天了，水龙头一滴水都没有'));
    const dispatched = await eventually(async () => {
      const v = await view(id);
      expect(v.ticket.status).toBe('dispatched');
      return v.ticket;
    });
    expect(dispatched).toMatchObject({ topic: 'water-supply', leadUnit: 'water-supply' });
    const returned = await api('POST', `/tickets/${id}/actions`, {
      token: stack.tokens.units['water-supply'],
      body: { action: 'return', reason: '小区内部管网归物业维护，不归供水公司' },
    });
    expect(returned.status, returned.text).toBe(200);
    const decided = await api('POST', `/tickets/${id}/decisions`, {
      token: stack.tokens.dispatcher,
      body: { decision: 'dispatch', topic: 'property-management', lead: 'property-service' },
    });
    expect(decided.status, decided.text).toBe(200);
    const after = await view(id);
    expect(after.ticket.topic).toBe('property-management');
    expect(after.ticket.topicChoice).toMatchObject({ by: 'person', replaced: 'water-supply' });
  });

  it('records a topic the operator chose as chosen by a person', async () => {
    const id = await file(request(CLEAR, { topic: 'heating' }));
    const v = await view(id);
    expect(v.ticket.topicChoice).toEqual({ by: 'person' });
    expect(v.history[0].details.topicChoice).toEqual({ by: 'person' });
  });

  it('leaves an unclear request to a dispatcher with the suggestions, whose topic then counts', async () => {
    const id = await file(request(VAGUE));
    const waiting = await eventually(async () => {
      const v = await view(id);
      expect(v.ticket.status).toBe('awaiting_dispatch');
      return v;
    });
    expect(waiting.ticket.topic).toBeUndefined();
    expect(waiting.ticket.topicChoice.by).toBe('model');
    expect(waiting.ticket.topicChoice.probability).toBeUndefined();
    expect(waiting.ticket.topicChoice.suggestions).toHaveLength(3);
    const mail = await eventually(async () => {
      const m = stack.ses
        .messages()
        .find((x) => x.subject.includes(id) && x.subject.includes('待人工派单'));
      expect(m).toBeDefined();
      return m!;
    });
    expect(mail.text).toContain(waiting.ticket.topicChoice.suggestions[0].topic);

    const unknown = await api('POST', `/tickets/${id}/decisions`, {
      token: stack.tokens.dispatcher,
      body: { decision: 'dispatch', topic: 'ufo-sightings', lead: 'ecology-environment' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('topic');

    const decided = await api('POST', `/tickets/${id}/decisions`, {
      token: stack.tokens.dispatcher,
      body: { decision: 'dispatch', topic: 'noise', lead: 'ecology-environment' },
    });
    expect(decided.status, decided.text).toBe(200);
    const after = await view(id);
    expect(after.ticket).toMatchObject({ topic: 'noise', leadUnit: 'ecology-environment' });
    expect(after.ticket.topicChoice.by).toBe('person');
    const dispatched = after.history.find((h: { event: string }) => h.event === 'dispatched');
    expect(dispatched.details).toMatchObject({
      topic: 'noise',
      previousTopic: null,
      topicChoice: { by: 'person' },
    });
  });
});

describe('the phone webhook without a topic', () => {
  it('files the call with the suggested topic', async () => {
    const secret = stack.phone.config.standard!.secrets[0]!;
    const example = STANDARD_WEBHOOK_EXAMPLES['call.completed'];
    const callId = `call_${randomBytes(6).toString('hex')}`;
    const { topic: _free, ...ticket } = example.data.ticket;
    const body = JSON.stringify({
      ...example,
      timestamp: stack.clock.now().toISOString(),
      data: {
        ...example.data,
        callId,
        // Phone event times must be near now (issue #10.6).
        startedAt: new Date(stack.clock.nowMs() - 372_000).toISOString(),
        callerNumber: '+8613700009999',
        ticket: {
          ...ticket,
          callerPhone: '+8613700009999',
          content: '公司已经三个月没发工资了，老板一直拖着',
          place: { district: 'qingshan', township: 'dongcheng', address: '工业园8号' },
        },
      },
    });
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const at = stack.clock.now();
    const response = await fetch(`${stack.urls.api}/webhooks/phone/standard`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new StandardWebhook(secret).sign(id, at, body),
      },
      body,
    });
    const answer = (await response.json()) as { ticketIds: string[] };
    expect(response.status, JSON.stringify(answer)).toBe(200);
    const [ticketId] = answer.ticketIds;
    const v = await view(ticketId!);
    expect(v.ticket.topic).toBe('wages');
    expect(v.ticket.topicChoice.by).toBe('model');
  });
});

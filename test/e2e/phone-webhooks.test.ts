import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPhoneDeliveryStore } from '#adapters/dynamodb/delivery-store';
import { StandardSurveyRequester } from '#adapters/phone/standard-survey-requester';
import { shanghaiDate } from '#core/calendar';
import { STANDARD_WEBHOOK_EXAMPLES } from '#core/phone/events';
import type { PhoneConfig } from '#functions/phone/config';
import { invokeFunction } from '#local/functions';
import { newWebhookSecret } from '#local/phone';
import type { LocalStack } from '#local/stack';
import { scanTable } from '../support/dynamodb.ts';
import { type Api, apiClient, eventually, startTestStack } from '../support/local-stack.ts';

let stack: LocalStack;
let api: Api;
let documents: DynamoDBDocumentClient;
const OLD_SECRET = newWebhookSecret();
const ROTATED_OUT = newWebhookSecret();
const OTHER_TENANT = newWebhookSecret();
let secret: string;

beforeAll(async () => {
  stack = await startTestStack({
    // A rotation in progress: the new secret and the old one are both valid.
    phoneConfig: (c: PhoneConfig) => ({
      ...c,
      standard: { secrets: [...c.standard!.secrets, OLD_SECRET] },
    }),
  } as Parameters<typeof startTestStack>[0]);
  api = apiClient(stack);
  secret = stack.phone.config.standard!.secrets[0]!;
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: stack.urls.dynamodb,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
});
afterAll(async () => stack?.close());

/** Test-only: every item of this run's own table, to show that a refused request wrote nothing. */
const tableItems = () => scanTable(documents, process.env.TABLE_NAME!);
const PHONE_PREFIXES = ['DELIVERY#', 'CALL#', 'CALLBACKS#', 'SURVEY#', 'DEADLETTER#'];
/**
 * What a webhook may write: phone items, tickets (their META key) and the ticket counter. The
 * lifecycle keeps changing tickets it is routing meanwhile, so their contents are left out.
 */
async function written(): Promise<string[]> {
  return (await tableItems())
    .filter(
      (i) =>
        PHONE_PREFIXES.some((p) => String(i.PK).startsWith(p)) ||
        (String(i.PK).startsWith('TICKET#') && i.SK === 'META') ||
        i.PK === 'COUNTER',
    )
    .map((i) => `${i.PK}|${i.SK}|${i.PK === 'COUNTER' ? i.seq : ''}`)
    .sort();
}
const tickets = async () =>
  (await tableItems()).filter((i) => String(i.PK).startsWith('TICKET#') && i.SK === 'META');

function store() {
  return new DynamoPhoneDeliveryStore(documents, process.env.TABLE_NAME!, 'local');
}

const seconds = (d: Date) => String(Math.floor(d.getTime() / 1000));
const newId = () => `msg_${randomBytes(8).toString('hex')}`;

/** Headers signed by the `standardwebhooks` reference library. */
function signed(body: string, options: { id?: string; at?: Date; key?: string } = {}) {
  const id = options.id ?? newId();
  const at = options.at ?? stack.clock.now();
  return {
    'webhook-id': id,
    'webhook-timestamp': seconds(at),
    'webhook-signature': new StandardWebhook(options.key ?? secret).sign(id, at, body),
  };
}

async function post(
  provider: string,
  body: string,
  headers: Record<string, string>,
  type = 'application/json',
) {
  const response = await fetch(`${stack.urls.api}/webhooks/phone/${provider}`, {
    method: 'POST',
    headers: { 'content-type': type, ...headers },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {}
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  return { status: response.status, body: json as any, text };
}

function completedCall(callId: string, ticket: Record<string, unknown> = {}) {
  const example = STANDARD_WEBHOOK_EXAMPLES['call.completed'];
  return JSON.stringify({
    ...example,
    timestamp: stack.clock.now().toISOString(),
    data: {
      ...example.data,
      // Event times must be near now (the example's are from March).
      startedAt: new Date(stack.clock.now().getTime() - 372_000).toISOString(),
      callId,
      ticket: {
        ...example.data.ticket,
        // The example's topic and place are free text; a real ticket needs catalogue ids.
        topic: 'water-supply',
        place: { district: 'qingshan', township: 'dongcheng', address: '幸福小区3号楼' },
        ...ticket,
      },
    },
  });
}

describe('POST /webhooks/phone/standard', () => {
  it('files one ticket per call, however often and under whatever id it is delivered', async () => {
    const callId = `call_${randomBytes(6).toString('hex')}`;
    const body = completedCall(callId);
    const headers = signed(body);
    const first = await post('standard', body, headers);
    expect(first.status).toBe(200);
    expect(first.text).not.toContain('13800000000');
    const [ticketId] = first.body.ticketIds;
    expect(ticketId).toMatch(/^\d{8}-\d{6}$/);

    const before = await written();
    const again = await post('standard', body, headers);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(await written()).toEqual(before);

    // The same call redelivered as a new message, signed by another library (svix).
    const id = newId();
    const at = stack.clock.now();
    const redelivered = await post('standard', body, {
      'webhook-id': id,
      'webhook-timestamp': seconds(at),
      'webhook-signature': new SvixWebhook(secret).sign(id, at, body),
    });
    expect(redelivered.status).toBe(200);
    expect(redelivered.body.ticketIds).toEqual([ticketId]);
    expect((await tickets()).filter((t) => t.callId === callId)).toHaveLength(1);

    const view = await api('GET', `/tickets/${ticketId}`, { token: stack.tokens.operator });
    expect(view.status).toBe(200);
    expect(view.body.ticket.channel).toBe('phone');
    expect(view.body.ticket.callId).toBe(callId);
    expect(view.body.ticket.topic).toBe('water-supply');
  });

  it("carries the operator's disposition: a consultation answered on the spot closes at intake", async () => {
    const body = completedCall(`call_${randomBytes(6).toString('hex')}`, {
      category: '咨询',
      noCallback: true,
      disposition: { kind: 'answered', answer: '停水通知已在官网公布' },
    });
    const result = await post('standard', body, signed(body));
    expect(result.status, result.text).toBe(200);
    const view = await api('GET', `/tickets/${result.body.ticketIds[0]}`, {
      token: stack.tokens.operator,
    });
    expect(view.body.ticket).toMatchObject({
      status: 'closed',
      closure: 'answered_on_the_spot',
      noCallback: true,
    });
  });

  it('accepts the old secret during a rotation', async () => {
    const body = completedCall(`call_${randomBytes(6).toString('hex')}`);
    const result = await post('standard', body, signed(body, { key: OLD_SECRET }));
    expect(result.status).toBe(200);
    expect(result.body.ticketIds).toHaveLength(1);
  });

  it('refuses an invalid embedded ticket naming the field, writing nothing', async () => {
    const before = await written();
    const badTopic = completedCall('call_badtopic', { topic: 'UFO sightings' });
    const refused = await post('standard', badTopic, signed(badTopic));
    expect(refused.status).toBe(400);
    expect(refused.body.error.fields.map((f: { field: string }) => f.field)).toContain(
      'data.ticket.topic',
    );
    const unknownTopic = completedCall('call_unknowntopic', { topic: 'ufo' });
    const unknown = await post('standard', unknownTopic, signed(unknownTopic));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('data.ticket.topic');
    const noPlace = completedCall('call_noplace', { place: { district: '西湖区' } });
    const place = await post('standard', noPlace, signed(noPlace));
    expect(place.status).toBe(400);
    expect(place.body.error.message).toContain('data.ticket.place.district');
    expect(await written()).toEqual(before);
  });

  describe('refuses a bad delivery and writes nothing', () => {
    const body = () => completedCall(`call_${randomBytes(6).toString('hex')}`);
    const cases: [
      string,
      number,
      () => { body: string; headers: Record<string, string>; type?: string },
    ][] = [
      [
        'no webhook-id',
        400,
        () => {
          const b = body();
          const { 'webhook-id': _, ...headers } = signed(b);
          return { body: b, headers };
        },
      ],
      [
        'an empty signature',
        401,
        () => {
          const b = body();
          return { body: b, headers: { ...signed(b), 'webhook-signature': '' } };
        },
      ],
      [
        'an empty webhook-id',
        400,
        () => {
          const b = body();
          return { body: b, headers: { ...signed(b), 'webhook-id': ' ' } };
        },
      ],
      [
        'no timestamp',
        400,
        () => {
          const b = body();
          const { 'webhook-timestamp': _, ...headers } = signed(b);
          return { body: b, headers };
        },
      ],
      [
        'a wrong signature label',
        401,
        () => {
          const b = body();
          const h = signed(b);
          return {
            body: b,
            headers: { ...h, 'webhook-signature': h['webhook-signature'].replace('v1,', 'v2,') },
          };
        },
      ],
      [
        'malformed base64',
        401,
        () => {
          const b = body();
          return { body: b, headers: { ...signed(b), 'webhook-signature': 'v1,not*base64!' } };
        },
      ],
      [
        'no matching signature',
        401,
        () => {
          const b = body();
          return {
            body: b,
            headers: {
              ...signed(b),
              'webhook-signature': `v1,${randomBytes(32).toString('base64')}`,
            },
          };
        },
      ],
      [
        'a tampered body',
        401,
        () => {
          const b = body();
          return { body: b.replace('路灯', '路面'), headers: signed(b) };
        },
      ],
      [
        're-serialised JSON',
        401,
        () => {
          const b = body();
          return { body: JSON.stringify(JSON.parse(b), null, 2), headers: signed(b) };
        },
      ],
      [
        'a wrong secret',
        401,
        () => {
          const b = body();
          return { body: b, headers: signed(b, { key: newWebhookSecret() }) };
        },
      ],
      [
        "another tenant's secret",
        401,
        () => {
          const b = body();
          return { body: b, headers: signed(b, { key: OTHER_TENANT }) };
        },
      ],
      [
        'a rotated-out secret',
        401,
        () => {
          const b = body();
          return { body: b, headers: signed(b, { key: ROTATED_OUT }) };
        },
      ],
      [
        'a timestamp 301 s old',
        401,
        () => {
          const b = body();
          return {
            body: b,
            headers: signed(b, { at: new Date(stack.clock.now().getTime() - 301_000) }),
          };
        },
      ],
      [
        'a timestamp 301 s ahead',
        401,
        () => {
          const b = body();
          return {
            body: b,
            headers: signed(b, { at: new Date(stack.clock.now().getTime() + 301_000) }),
          };
        },
      ],
      ...(
        [
          ['a non-integer timestamp', (s: string) => `${s}.5`],
          ['a millisecond timestamp', (s: string) => `${s}000`],
          ['a negative timestamp', (s: string) => `-${s}`],
          ['a suffixed timestamp', (s: string) => `${s}abc`],
        ] as const
      ).map(
        ([name, change]): [
          string,
          number,
          () => { body: string; headers: Record<string, string> },
        ] => [
          name,
          400,
          () => {
            const b = body();
            const h = signed(b);
            return {
              body: b,
              headers: { ...h, 'webhook-timestamp': change(h['webhook-timestamp']) },
            };
          },
        ],
      ),
      [
        'an oversized body',
        413,
        () => {
          const b = JSON.stringify({ ...JSON.parse(body()), padding: 'x'.repeat(70 * 1024) });
          return { body: b, headers: signed(b) };
        },
      ],
      [
        'a wrong content type',
        415,
        () => {
          const b = body();
          return { body: b, headers: signed(b), type: 'text/plain' };
        },
      ],
      [
        'a keypress not on the menu',
        400,
        () => {
          const b = JSON.stringify({
            ...STANDARD_WEBHOOK_EXAMPLES['survey.completed'],
            data: { surveyId: 'srv_1', resolvedKey: '9', satisfactionKey: '1' },
          });
          return { body: b, headers: signed(b) };
        },
      ],
    ];
    for (const [name, status, make] of cases) {
      it(`${name} → ${status}`, async () => {
        const before = await written();
        const request = make();
        const result = await post('standard', request.body, request.headers, request.type);
        expect(result.status).toBe(status);
        expect(result.body.error.code).toEqual(expect.any(String));
        expect(result.text).not.toMatch(/whsec_|v1,/);
        expect(await written()).toEqual(before);
      });
    }
  });

  it('dead-letters a survey result for an unknown survey, once, and answers 2xx', async () => {
    const surveyId = `srv_${randomBytes(4).toString('hex')}`;
    const body = JSON.stringify({
      ...STANDARD_WEBHOOK_EXAMPLES['survey.unreachable'],
      timestamp: stack.clock.now().toISOString(),
      data: { surveyId, reason: 'no_answer' },
    });
    const headers = signed(body);
    const first = await post('standard', body, headers);
    expect(first.status).toBe(200);
    const again = await post('standard', body, headers);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    const letters = await store().deadLetters(shanghaiDate(stack.clock.now()));
    const mine = letters.filter((l) => l.surveyId === surveyId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ deadLetter: true, eventType: 'survey.unreachable' });
    // A dispatcher sees it; nobody else does.
    const day = shanghaiDate(stack.clock.now());
    const listed = await api('GET', `/dead-letters?date=${day}`, {
      token: stack.tokens.dispatcher,
    });
    expect(
      listed.body.deadLetters.filter((l: { surveyId?: string }) => l.surveyId === surveyId),
    ).toHaveLength(1);
    expect(
      (await api('GET', `/dead-letters?date=${day}`, { token: stack.tokens.supervisor })).status,
    ).toBe(403);
    expect(
      (await api('GET', '/dead-letters?date=21-11-2026', { token: stack.tokens.dispatcher }))
        .status,
    ).toBe(400);
  });

  it('ignores a status regression: call.received after call.completed changes nothing', async () => {
    const callId = `call_${randomBytes(6).toString('hex')}`;
    const completed = JSON.stringify({
      type: 'call.completed',
      timestamp: stack.clock.now().toISOString(),
      data: { callId, durationSeconds: 30 },
    });
    expect((await post('standard', completed, signed(completed))).status).toBe(200);
    const received = JSON.stringify({
      ...STANDARD_WEBHOOK_EXAMPLES['call.received'],
      timestamp: stack.clock.now().toISOString(),
      data: { ...STANDARD_WEBHOOK_EXAMPLES['call.received'].data, callId },
    });
    const late = await post('standard', received, signed(received));
    expect(late.status).toBe(200);
    expect(late.body.outcome).toBe('regression');
    expect(await store().receivedCall('standard', callId)).toBeUndefined();
    expect(await store().callStatus('standard', callId)).toBe('completed');
  });

  it('puts a missed call on the day’s call-back list for operators only', async () => {
    const callId = `call_${randomBytes(6).toString('hex')}`;
    const body = JSON.stringify({
      ...STANDARD_WEBHOOK_EXAMPLES['call.missed'],
      timestamp: stack.clock.now().toISOString(),
      data: { ...STANDARD_WEBHOOK_EXAMPLES['call.missed'].data, callId },
    });
    const result = await post('standard', body, signed(body));
    expect(result.status).toBe(200);
    expect(result.text).not.toContain('13900000000');
    const date = shanghaiDate(stack.clock.now());
    const list = await api('GET', `/callbacks?date=${date}`, { token: stack.tokens.operator });
    expect(list.status).toBe(200);
    const entry = list.body.callbacks.find((c: { callId: string }) => c.callId === callId);
    expect(entry).toMatchObject({ callerNumber: '+8613900000000', reason: 'abandoned' });
    expect(
      (await api('GET', `/callbacks?date=${date}`, { token: stack.tokens.units['water-supply'] }))
        .status,
    ).toBe(403);
    expect((await api('GET', `/callbacks?date=${date}`)).status).toBe(401);
    expect(
      (await api('GET', '/callbacks?date=2026-13-45', { token: stack.tokens.operator })).status,
    ).toBe(400);
    const other = await api('GET', '/callbacks?date=2020-01-01', {
      token: stack.tokens.dispatcher,
    });
    expect(other.body.callbacks).toEqual([]);
  });
});

describe('POST /webhooks/phone/twilio', () => {
  const callSid = () => `CA${randomBytes(16).toString('hex')}`;
  const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const token = () => stack.phone.config.twilio!.authTokens[0]!;
  const url = () => stack.phone.config.twilio!.publicUrl;

  async function postTwilio(params: Record<string, string>, signUrl = url(), key = token()) {
    const signature = twilio.getExpectedTwilioSignature(key, signUrl, params);
    return post(
      'twilio',
      form(params),
      { 'x-twilio-signature': signature },
      'application/x-www-form-urlencoded',
    );
  }

  it('records an inbound call and answers TwiML', async () => {
    const sid = callSid();
    const params = {
      CallSid: sid,
      CallStatus: 'ringing',
      Direction: 'inbound',
      From: '+8613700000000',
      To: '12345',
    };
    const result = await postTwilio(params);
    expect(result.status).toBe(200);
    expect(result.text).toContain('<Response');
    expect(await store().receivedCall('twilio', sid)).toEqual({ callerNumber: '+8613700000000' });
  });

  it('asks the survey in Chinese and takes the answer (unknown call: dead-lettered)', async () => {
    const sid = callSid();
    const base = { CallSid: sid, CallStatus: 'in-progress', Direction: 'outbound-api' };
    const asked = await postTwilio(base, `${url()}?survey=answered`);
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('是否已经解决');
    const second = await postTwilio({ ...base, Digits: '1' }, `${url()}?survey=resolved`);
    expect(second.text).toContain('是否满意');
    const done = await postTwilio(
      { ...base, Digits: '2' },
      `${url()}?survey=satisfaction-after-yes`,
    );
    expect(done.status).toBe(200);
    expect(done.text).toContain('感谢您的评价');
    const letters = await store().deadLetters(shanghaiDate(stack.clock.now()));
    expect(letters.filter((l) => l.callId === sid)).toHaveLength(1);
  });

  it('re-asks a keypress not on the menu, writing nothing', async () => {
    const before = await written();
    const base = { CallSid: callSid(), CallStatus: 'in-progress', Direction: 'outbound-api' };
    const result = await postTwilio({ ...base, Digits: '7' }, `${url()}?survey=resolved`);
    expect(result.status).toBe(200);
    expect(result.text).toContain('已解决请按1');
    expect(await written()).toEqual(before);
  });

  const refusals: [string, number, () => Promise<{ status: number }>][] = [
    [
      'signed for another URL (Host rebuilt)',
      401,
      () =>
        postTwilio(
          { CallSid: callSid(), CallStatus: 'ringing', Direction: 'inbound' },
          'https://attacker.example/webhooks/phone/twilio',
        ),
    ],
    [
      'signed for http instead of the configured URL',
      401,
      () =>
        postTwilio(
          { CallSid: callSid(), CallStatus: 'ringing', Direction: 'inbound' },
          url().replace('127.0.0.1', 'localhost'),
        ),
    ],
    [
      'signed with another auth token',
      401,
      () =>
        postTwilio(
          { CallSid: callSid(), CallStatus: 'ringing', Direction: 'inbound' },
          url(),
          randomBytes(16).toString('hex'),
        ),
    ],
    [
      'without a signature',
      401,
      () =>
        post(
          'twilio',
          form({ CallSid: callSid(), CallStatus: 'ringing' }),
          {},
          'application/x-www-form-urlencoded',
        ),
    ],
    ['as JSON', 415, () => post('twilio', '{}', { 'x-twilio-signature': 'x' }, 'application/json')],
  ];
  for (const [name, status, send] of refusals) {
    it(`refuses a request ${name} → ${status}, writing nothing`, async () => {
      const before = await written();
      expect((await send()).status).toBe(status);
      expect(await written()).toEqual(before);
    });
  }
});

describe('POST /webhooks/phone/tccc', () => {
  const token = () => {
    const c = stack.phone.config.tccc!.credentials[0]!;
    return c.scheme === 'bearer' ? c.token : '';
  };
  const cdr = (sessionId: string) =>
    JSON.stringify({
      SdkAppId: 1400000000,
      SessionId: sessionId,
      Caller: '+8613600000000',
      Callee: '12345',
      Direction: 0,
      StartTimestamp: Math.floor(stack.clock.now().getTime() / 1000) - 120,
      QueuedTimestamp: Math.floor(stack.clock.now().getTime() / 1000) - 110,
      EndedTimestamp: Math.floor(stack.clock.now().getTime() / 1000),
      Duration: 0,
      EndStatusString: 'waitingGiveUp',
    });

  it('puts a missed call on the call-back list once per push UUID', async () => {
    const session = `s-${randomBytes(6).toString('hex')}`;
    const headers = { authorization: `Bearer ${token()}`, 'x-tccc-push-uuid': `uuid-${session}` };
    const first = await post('tccc', cdr(session), headers, 'application/json;charset=utf8');
    expect(first.status).toBe(200);
    const again = await post('tccc', cdr(session), headers, 'application/json;charset=utf8');
    expect(again.body.duplicate).toBe(true);
    const date = shanghaiDate(stack.clock.now());
    const list = await api('GET', `/callbacks?date=${date}`, { token: stack.tokens.dispatcher });
    expect(
      list.body.callbacks.filter((c: { callId: string }) => c.callId === session),
    ).toHaveLength(1);
  });

  it('refuses wrong credentials and a missing push UUID, writing nothing', async () => {
    const before = await written();
    const wrong = await post('tccc', cdr('s-wrong'), {
      authorization: `Bearer ${randomBytes(24).toString('base64url')}`,
      'x-tccc-push-uuid': 'u-1',
    });
    expect(wrong.status).toBe(401);
    const none = await post('tccc', cdr('s-none'), { 'x-tccc-push-uuid': 'u-2' });
    expect(none.status).toBe(401);
    const noUuid = await post('tccc', cdr('s-nouuid'), { authorization: `Bearer ${token()}` });
    expect(noUuid.status).toBe(400);
    expect(await written()).toEqual(before);
  });
});

it('answers 404 for a phone system that is not configured', async () => {
  expect((await post('asterisk', '{}', {})).status).toBe(404);
});

describe('the local survey loop', () => {
  it('the simulated phone answers a signed survey request with a signed webhook to the stack', async () => {
    const surveys = stack.phone.config.surveys!;
    if (surveys.kind !== 'standard') throw new Error('the local stack surveys by webhook');
    const requester = new StandardSurveyRequester({ url: surveys.url, secrets: surveys.secrets });
    const surveyId = `srv_${randomBytes(4).toString('hex')}`;
    stack.phone.simulator.configure({ answer: { kind: 'unreachable', reason: 'busy' } });
    const result = await requester.requestSurvey({
      surveyId,
      ticketId: 'none',
      callee: '+8613800000000',
    });
    expect(result?.accepted).toBe(true);
    await eventually(async () => {
      expect(stack.phone.simulator.answers.find((a) => a.surveyId === surveyId)?.status).toBe(200);
    });
    // No ticket has this survey: the answer is accepted and left for a human.
    const letters = await store().deadLetters(shanghaiDate(stack.clock.now()));
    expect(letters.filter((l) => l.surveyId === surveyId)).toHaveLength(1);
  });
});

describe('Amazon Connect', () => {
  const instanceArn = 'arn:aws:connect:ap-east-1:111122223333:instance/abc';
  it('joins a missed contact to the number its flow reported, and ignores other event types', async () => {
    const contactId = `c-${randomBytes(6).toString('hex')}`;
    const flow = await invokeFunction('connect-flow', {
      Name: 'ContactFlowEvent',
      Details: {
        ContactData: {
          Channel: 'VOICE',
          ContactId: contactId,
          InstanceARN: instanceArn,
          CustomerEndpoint: { Address: '+8613500000000', Type: 'TELEPHONE_NUMBER' },
          SystemEndpoint: { Address: '12345', Type: 'TELEPHONE_NUMBER' },
        },
        Parameters: { hotlineEvent: 'call.received' },
      },
    });
    expect(flow).toEqual({ ok: 'true' });
    const now = stack.clock.now();
    const event = (eventType: string) => ({
      id: `ev-${eventType}-${contactId}`,
      'detail-type': 'Amazon Connect Contact Event',
      source: 'aws.connect',
      time: now.toISOString(),
      detail: {
        eventType,
        contactId,
        channel: 'VOICE',
        instanceArn,
        initiationMethod: 'INBOUND',
        queueInfo: { enqueueTimestamp: new Date(now.getTime() - 60_000).toISOString() },
        disconnectTimestamp: now.toISOString(),
      },
    });
    expect(await invokeFunction('connect-events', event('QUEUED'))).toEqual({ outcome: 'ignored' });
    expect(await invokeFunction('connect-events', event('SOMETHING_NEW'))).toEqual({
      outcome: 'ignored',
    });
    expect(await invokeFunction('connect-events', event('DISCONNECTED'))).toEqual({
      outcome: 'processed',
    });
    expect(await invokeFunction('connect-events', event('DISCONNECTED'))).toEqual({
      outcome: 'duplicate',
    });
    const list = await api('GET', `/callbacks?date=${shanghaiDate(now)}`, {
      token: stack.tokens.operator,
    });
    const entry = list.body.callbacks.find((c: { callId: string }) => c.callId === contactId);
    expect(entry).toMatchObject({
      provider: 'connect',
      callerNumber: '+8613500000000',
      waitSeconds: 60,
    });
  });
});

describe('a body API Gateway hands over base64-encoded', () => {
  const event = (body: string, headers: Record<string, string>) => ({
    version: '2.0',
    routeKey: 'POST /webhooks/phone/{provider}',
    rawPath: '/webhooks/phone/standard',
    headers: { 'content-type': 'application/json', ...headers },
    pathParameters: { provider: 'standard' },
    body,
    isBase64Encoded: true,
    requestContext: { http: { method: 'POST', path: '/webhooks/phone/standard' } },
  });

  it('is verified on the decoded bytes', async () => {
    const body = completedCall(`call_${randomBytes(6).toString('hex')}`);
    const result = (await invokeFunction(
      'phone-webhook',
      event(Buffer.from(body).toString('base64'), signed(body)),
    )) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).ticketIds).toHaveLength(1);
  });

  it('is refused when the base64 is malformed, writing nothing', async () => {
    const before = await written();
    const body = completedCall(`call_${randomBytes(6).toString('hex')}`);
    const mangled = `${Buffer.from(body).toString('base64').slice(0, -2)}*=`;
    const result = (await invokeFunction('phone-webhook', event(mangled, signed(body)))) as {
      statusCode: number;
    };
    expect(result.statusCode).toBe(400);
    expect(await written()).toEqual(before);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CALL_STATUSES,
  type CallStatus,
  isCallStatusRegression,
  mapSurveyKeys,
  normalisePhoneNumber,
  PhoneEventSchema,
  resolvedFromKey,
  STANDARD_EVENT_TYPES,
  STANDARD_WEBHOOK_EXAMPLES,
  StandardWebhookBodySchema,
  satisfactionFromKey,
} from '../../core/phone/events.ts';
import { receiveStandardWebhook, signStandardWebhook } from '../../core/phone/standard-webhooks.ts';

const NOW = new Date('2026-03-05T06:05:45Z');
const secret = `whsec_${randomBytes(24).toString('base64')}`;
let counter = 0;

function deliver(body: unknown) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const id = `msg_${++counter}`;
  return receiveStandardWebhook({
    headers: {
      ...signStandardWebhook({ id, timestamp: NOW, body: payload, secret }),
      'content-type': 'application/json',
    },
    rawBody: Buffer.from(payload, 'utf8'),
    secrets: [secret],
    now: NOW,
  });
}

describe('examples', () => {
  it('has one valid example per event type', () => {
    expect(Object.keys(STANDARD_WEBHOOK_EXAMPLES).sort()).toEqual([...STANDARD_EVENT_TYPES].sort());
    for (const [type, example] of Object.entries(STANDARD_WEBHOOK_EXAMPLES)) {
      expect(example.type).toBe(type);
      expect(StandardWebhookBodySchema.safeParse(example).success).toBe(true);
    }
  });

  it('normalises every example into a valid PhoneEvent', () => {
    for (const example of Object.values(STANDARD_WEBHOOK_EXAMPLES)) {
      const result = deliver(example);
      if (!result.ok) throw new Error(`${example.type}: ${result.code} ${result.message}`);
      expect(result.events).toHaveLength(1);
      const [event] = result.events;
      expect(PhoneEventSchema.parse(event)).toEqual(event);
      expect(event).toMatchObject({ type: example.type, provider: 'standard' });
    }
  });

  it('maps call.completed with its ticket', () => {
    const result = deliver(STANDARD_WEBHOOK_EXAMPLES['call.completed']);
    expect(result).toMatchObject({
      ok: true,
      events: [
        {
          type: 'call.completed',
          occurredAt: '2026-03-02T01:21:42.000Z',
          startedAt: '2026-03-02T01:15:00.000Z',
          callId: 'call_7f3a9c',
          durationSeconds: 372,
          recordingRef: 'recordings/2026/03/02/call_7f3a9c.wav',
          ticket: { place: { district: '西湖区' }, confidential: false },
        },
      ],
    });
  });

  it('maps survey keypresses to answers', () => {
    const result = deliver(STANDARD_WEBHOOK_EXAMPLES['survey.completed']);
    expect(result).toMatchObject({
      ok: true,
      events: [
        {
          type: 'survey.completed',
          surveyId: 'srv_5521',
          callId: 'call_e90f11',
          resolved: true,
          satisfaction: 'basically_satisfied',
        },
      ],
    });
  });

  it('normalises offsets to UTC', () => {
    const body = {
      ...STANDARD_WEBHOOK_EXAMPLES['call.received'],
      timestamp: '2026-03-02T09:15:00+08:00',
    };
    expect(deliver(body)).toMatchObject({ events: [{ occurredAt: '2026-03-02T01:15:00.000Z' }] });
  });
});

describe('bad bodies', () => {
  it('refuses survey keypresses that are not on the menu', () => {
    const base = STANDARD_WEBHOOK_EXAMPLES['survey.completed'];
    for (const [resolvedKey, satisfactionKey] of [
      ['3', '1'],
      ['0', '1'],
      ['1', '4'],
      ['2', '0'],
      ['*', '1'],
      ['1', '#'],
    ] as const) {
      const result = deliver({ ...base, data: { ...base.data, resolvedKey, satisfactionKey } });
      expect(result).toMatchObject({ ok: false, status: 400, code: 'keypress_not_on_menu' });
    }
  });

  it('refuses keypresses that are not single DTMF keys at all', () => {
    const base = STANDARD_WEBHOOK_EXAMPLES['survey.completed'];
    for (const resolvedKey of ['11', '', 'yes', 1]) {
      const result = deliver({ ...base, data: { ...base.data, resolvedKey } });
      expect(result).toMatchObject({ status: 400, code: 'body_invalid' });
    }
  });

  it('requires a survey id or a call id', () => {
    const result = deliver({
      type: 'survey.unreachable',
      timestamp: '2026-03-05T06:05:40Z',
      data: { reason: 'busy' },
    });
    expect(result).toMatchObject({ status: 400, code: 'body_invalid' });
    if (!result.ok) expect(result.message).toContain('data.surveyId');
  });

  it('refuses unknown event types', () => {
    for (const type of ['call.transferred', 'CALL.RECEIVED', undefined, 42]) {
      const result = deliver({ ...STANDARD_WEBHOOK_EXAMPLES['call.received'], type });
      expect(result).toMatchObject({ status: 400, code: 'unknown_event_type' });
    }
    expect(deliver('null')).toMatchObject({ code: 'unknown_event_type' });
    expect(deliver('[]')).toMatchObject({ code: 'unknown_event_type' });
  });

  it('refuses bad unreachable reasons, durations and timestamps', () => {
    const unreachable = STANDARD_WEBHOOK_EXAMPLES['survey.unreachable'];
    expect(
      deliver({ ...unreachable, data: { ...unreachable.data, reason: 'rejected' } }),
    ).toMatchObject({
      code: 'body_invalid',
    });
    const completed = STANDARD_WEBHOOK_EXAMPLES['call.completed'];
    for (const durationSeconds of [-1, 1.5, '60']) {
      expect(deliver({ ...completed, data: { ...completed.data, durationSeconds } })).toMatchObject(
        {
          code: 'body_invalid',
        },
      );
    }
    expect(deliver({ ...completed, timestamp: '2026-03-02 01:21:42' })).toMatchObject({
      code: 'body_invalid',
    });
  });

  it('refuses a ticket without content, without echoing the phone number', () => {
    const completed = STANDARD_WEBHOOK_EXAMPLES['call.completed'];
    const result = deliver({
      ...completed,
      data: {
        ...completed.data,
        callerNumber: '+8613912345678x',
        ticket: { ...completed.data.ticket, content: '   ' },
      },
    });
    expect(result).toMatchObject({ status: 400, code: 'body_invalid' });
    if (result.ok) return;
    expect(result.message).toContain('data.ticket.content');
    expect(result.message).toContain('data.callerNumber');
    expect(result.message).not.toContain('13912345678');
  });

  it('accepts a withheld caller number as null', () => {
    const received = STANDARD_WEBHOOK_EXAMPLES['call.received'];
    expect(deliver({ ...received, data: { ...received.data, callerNumber: null } })).toMatchObject({
      events: [{ callerNumber: null }],
    });
  });
});

describe('survey menu', () => {
  it('maps exactly the keys on the menu', () => {
    expect(resolvedFromKey('1')).toBe(true);
    expect(resolvedFromKey('2')).toBe(false);
    expect(satisfactionFromKey('1')).toBe('satisfied');
    expect(satisfactionFromKey('2')).toBe('basically_satisfied');
    expect(satisfactionFromKey('3')).toBe('unsatisfied');
    for (const key of [
      '0',
      '3',
      '9',
      '*',
      '#',
      '',
      ' 1',
      '1 ',
      '01',
      'constructor',
      '__proto__',
      'toString',
    ]) {
      expect(resolvedFromKey(key)).toBeUndefined();
    }
    for (const key of ['0', '4', '*', '#', '', '11', 'constructor', '__proto__', 'valueOf']) {
      expect(satisfactionFromKey(key)).toBeUndefined();
    }
  });

  it('says which answer was off the menu', () => {
    expect(mapSurveyKeys({ resolvedKey: '2', satisfactionKey: '3' })).toEqual({
      ok: true,
      resolved: false,
      satisfaction: 'unsatisfied',
    });
    expect(mapSurveyKeys({ resolvedKey: '3', satisfactionKey: '1' })).toMatchObject({
      code: 'keypress_not_on_menu',
      message: expect.stringContaining('resolved'),
    });
    expect(mapSurveyKeys({ resolvedKey: '1', satisfactionKey: '4' })).toMatchObject({
      code: 'keypress_not_on_menu',
      message: expect.stringContaining('satisfaction'),
    });
  });
});

describe('isCallStatusRegression', () => {
  const cases: [CallStatus | undefined, CallStatus, boolean][] = [
    [undefined, 'ringing', false],
    [undefined, 'completed', false],
    ['queued', 'initiated', false],
    ['initiated', 'ringing', false],
    ['ringing', 'in_progress', false],
    ['in_progress', 'completed', false],
    ['ringing', 'completed', false],
    ['ringing', 'no_answer', false],
    ['completed', 'completed', false],
    ['ringing', 'ringing', false],
    ['completed', 'ringing', true],
    ['completed', 'in_progress', true],
    ['completed', 'queued', true],
    ['in_progress', 'ringing', true],
    ['initiated', 'queued', true],
    ['busy', 'ringing', true],
    ['completed', 'failed', true],
    ['no_answer', 'completed', true],
    ['canceled', 'busy', true],
  ];
  for (const [previous, next, regression] of cases) {
    it(`${previous ?? '(none)'} -> ${next}: ${regression ? 'regression' : 'fine'}`, () => {
      expect(isCallStatusRegression(previous, next)).toBe(regression);
    });
  }

  it('never treats a status as a regression from itself', () => {
    for (const status of CALL_STATUSES) expect(isCallStatusRegression(status, status)).toBe(false);
  });
});

describe('normalisePhoneNumber', () => {
  it('keeps digits with an optional plus and drops anything else', () => {
    expect(normalisePhoneNumber(' +8613800000000 ')).toBe('+8613800000000');
    expect(normalisePhoneNumber('12345')).toBe('12345');
    expect(normalisePhoneNumber('008613800000000')).toBe('008613800000000');
    for (const raw of [
      '',
      'anonymous',
      'client:alice',
      '+',
      '12',
      '138-0000-0000',
      null,
      undefined,
    ]) {
      expect(normalisePhoneNumber(raw)).toBeNull();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PhoneEventSchema } from '../../core/phone/events.ts';
import {
  checkTcccCredentials,
  receiveTcccPush,
  type TcccCredential,
} from '../../core/phone/tccc.ts';

const NOW = new Date('2026-03-05T06:10:00Z');
const SDK_APP_ID = 1400123456;
const password = randomBytes(18).toString('base64url');
const token = randomBytes(24).toString('base64url');
const newToken = randomBytes(24).toString('base64url');
const basic: TcccCredential = { scheme: 'basic', username: 'tccc-push', password };
const bearer: TcccCredential = { scheme: 'bearer', token };

const basicHeader = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;

/** An inbound call answered by an operator, followed by the post-call survey. */
const answeredCdr = {
  SdkAppId: SDK_APP_ID,
  SessionId: 'e97be0ab-1ef6-4ad2-a8c4-2b2bbfb18e55',
  Caller: '008613800000000',
  Callee: '057112345',
  Direction: 0,
  CallType: 2,
  StartTimestamp: 1772690000,
  QueuedTimestamp: 1772690020,
  RingTimestamp: 1772690030,
  AcceptTimestamp: 1772690035,
  EndedTimestamp: 1772690400,
  Duration: 365,
  IVRDuration: 20,
  EndStatus: 1,
  EndStatusString: 'ok',
  HungUpSide: 'user',
  RecordURL: 'https://ccc.tencentcloudapi.example/record/e97be0ab.mp3',
  IVRKeyPressed: ['2'],
  IVRKeyPressedEx: [{ Key: '2', Label: '人工服务' }],
  PostIVRKeyPressed: [
    { Key: '1', Label: '已解决' },
    { Key: '2', Label: '基本满意' },
  ],
  SeatUser: { Mail: 'operator@example.gov.cn', StaffNumber: '1001' },
  ServeParticipants: [],
};

function push(
  body: unknown,
  opts: { headers?: Record<string, string | undefined>; credentials?: TcccCredential[] } = {},
) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = Object.fromEntries(
    Object.entries({
      authorization: `Bearer ${token}`,
      'content-type': 'application/json;charset=utf8',
      'x-tccc-push-uuid': 'b3c1f0de-8f51-4c0e-9d8e-3f6a0b7c9a11',
      ...opts.headers,
    }).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
  return receiveTcccPush({
    headers,
    rawBody: Buffer.from(raw, 'utf8'),
    credentials: opts.credentials ?? [basic, bearer],
    sdkAppId: SDK_APP_ID,
    now: NOW,
  });
}

describe('checkTcccCredentials', () => {
  const check = (authorization: string | undefined, credentials = [basic, bearer]) =>
    checkTcccCredentials(authorization, credentials);

  it('accepts the configured Basic and Bearer credentials', () => {
    expect(check(basicHeader('tccc-push', password))).toEqual({ ok: true });
    expect(check(`Bearer ${token}`)).toEqual({ ok: true });
    expect(check(`bearer ${token}`)).toEqual({ ok: true });
    expect(check(basicHeader('tccc-push', password).replace('Basic', 'BASIC'))).toEqual({
      ok: true,
    });
  });

  it('keeps colons in Basic passwords', () => {
    const withColon: TcccCredential = { scheme: 'basic', username: 'u', password: `${password}:x` };
    expect(check(basicHeader('u', `${password}:x`), [withColon])).toEqual({ ok: true });
    expect(check(basicHeader('u', password), [withColon])).toMatchObject({
      code: 'credentials_invalid',
    });
  });

  it('refuses wrong, short, long and cross-scheme credentials without throwing', () => {
    const refusals = [
      basicHeader('tccc-push', `${password}x`),
      basicHeader('tccc-push', password.slice(0, -1)),
      basicHeader('tccc-push', ''),
      basicHeader('other', password),
      basicHeader('', password),
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}A`,
      `Bearer ${'A'.repeat(4096)}`,
      `Bearer ${password}`,
      basicHeader('tccc-push', token),
    ];
    for (const header of refusals) {
      expect(check(header)).toMatchObject({ ok: false, status: 401, code: 'credentials_invalid' });
    }
  });

  it('refuses missing and malformed Authorization headers', () => {
    expect(check(undefined)).toMatchObject({ status: 401, code: 'credentials_missing' });
    expect(check('')).toMatchObject({ status: 401, code: 'credentials_missing' });
    for (const header of [
      'Basic',
      'Bearer',
      `Token ${token}`,
      `Digest ${token}`,
      token,
      'Basic not*base64',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from([0xff, 0x3a, 0x61]).toString('base64')}`,
      `Bearer ${token} extra`,
      'Bearer tok€n',
    ]) {
      expect(check(header)).toMatchObject({ status: 401, code: 'credentials_malformed' });
    }
  });

  it('accepts every credential listed during a rotation, and none removed from the list', () => {
    const rotating: TcccCredential[] = [bearer, { scheme: 'bearer', token: newToken }];
    expect(check(`Bearer ${token}`, rotating)).toEqual({ ok: true });
    expect(check(`Bearer ${newToken}`, rotating)).toEqual({ ok: true });
    expect(check(`Bearer ${token}`, [{ scheme: 'bearer', token: newToken }])).toMatchObject({
      code: 'credentials_invalid',
    });
  });

  it('throws for weak or malformed configuration, without echoing it', () => {
    for (const credentials of [
      [],
      [{ scheme: 'basic', username: 'a:b', password }],
      [{ scheme: 'basic', username: '', password }],
      [{ scheme: 'basic', username: 'u', password: 'short' }],
      [{ scheme: 'bearer', token: 'short' }],
      [{ scheme: 'bearer', token: `${token} space` }],
    ] as TcccCredential[][]) {
      expect(() => checkTcccCredentials(`Bearer ${token}`, credentials)).toThrow(TypeError);
      try {
        checkTcccCredentials(`Bearer ${token}`, credentials);
      } catch (error) {
        expect(String(error)).not.toContain(password);
        expect(String(error)).not.toContain(token);
      }
    }
  });

  it('never echoes presented credentials in messages', () => {
    for (const header of [
      `Bearer ${newToken}`,
      basicHeader('tccc-push', newToken),
      `Token ${newToken}`,
    ]) {
      const result = check(header);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).not.toContain(newToken);
    }
  });
});

describe('receiveTcccPush', () => {
  it('turns an answered inbound call into call.completed and survey.completed', () => {
    const result = push(answeredCdr);
    expect(result).toEqual({
      ok: true,
      provider: 'tccc',
      deliveryId: 'tccc:b3c1f0de-8f51-4c0e-9d8e-3f6a0b7c9a11',
      events: [
        {
          type: 'call.completed',
          provider: 'tccc',
          occurredAt: new Date(1772690400 * 1000).toISOString(),
          callId: answeredCdr.SessionId,
          callerNumber: '008613800000000',
          calledNumber: '057112345',
          startedAt: new Date(1772690000 * 1000).toISOString(),
          durationSeconds: 365,
          recordingRef: answeredCdr.RecordURL,
        },
        {
          type: 'survey.completed',
          provider: 'tccc',
          occurredAt: new Date(1772690400 * 1000).toISOString(),
          callId: answeredCdr.SessionId,
          resolved: true,
          satisfaction: 'basically_satisfied',
        },
      ],
    });
    if (result.ok)
      for (const event of result.events) expect(PhoneEventSchema.parse(event)).toEqual(event);
  });

  it('accepts Basic credentials, EndTimestamp as an alias and null optional fields', () => {
    const { EndedTimestamp, ...rest } = answeredCdr;
    const result = push(
      { ...rest, EndTimestamp: EndedTimestamp, RecordURL: null, PostIVRKeyPressed: null },
      { headers: { authorization: basicHeader('tccc-push', password) } },
    );
    expect(result).toMatchObject({
      ok: true,
      events: [
        { type: 'call.completed', occurredAt: new Date(EndedTimestamp * 1000).toISOString() },
      ],
    });
    expect(result.ok && result.events).toHaveLength(1);
    expect(result.ok && 'recordingRef' in result.events[0]!).toBe(false);
  });

  it('puts calls abandoned in the queue on the call-back list', () => {
    const abandoned = {
      ...answeredCdr,
      AcceptTimestamp: 0,
      Duration: 0,
      EndedTimestamp: 1772690115,
      EndStatus: 103,
      EndStatusString: 'waitingGiveUp',
      RecordURL: '',
      PostIVRKeyPressed: [],
    };
    expect(push(abandoned)).toMatchObject({
      ok: true,
      events: [
        {
          type: 'call.missed',
          reason: 'abandoned',
          waitSeconds: 95,
          callerNumber: '008613800000000',
        },
      ],
    });
  });

  it('maps missed reasons, by string or by numeric EndStatus', () => {
    const base = { ...answeredCdr, AcceptTimestamp: 0, Duration: 0, PostIVRKeyPressed: [] };
    const cases: [Record<string, unknown>, string][] = [
      [{ EndStatusString: 'ringingGiveUp' }, 'abandoned'],
      [{ EndStatusString: 'seatGiveUp' }, 'not_answered'],
      [{ EndStatusString: 'noSeatOnline' }, 'no_agent'],
      [{ EndStatusString: 'notWorkTime', QueuedTimestamp: 0 }, 'after_hours'],
      [{ EndStatusString: undefined, EndStatus: 105 }, 'no_agent'],
      [{ EndStatusString: undefined, EndStatus: 106 }, 'after_hours'],
    ];
    for (const [patch, reason] of cases) {
      expect(push({ ...base, ...patch })).toMatchObject({
        events: [{ type: 'call.missed', reason }],
      });
    }
  });

  it('ignores calls that ended in the IVR', () => {
    for (const EndStatusString of ['ivrEnd', 'ivrGiveUp', 'blackList']) {
      const result = push({ ...answeredCdr, EndStatusString, PostIVRKeyPressed: [] });
      expect(result).toMatchObject({
        ok: true,
        events: [],
        ignored: expect.stringContaining(EndStatusString),
      });
    }
  });

  it('leaves masked numbers as null', () => {
    const result = push({ ...answeredCdr, Caller: '', ProtectedCaller: 'pc_1', Callee: null });
    expect(result.ok && result.events[0]).toMatchObject({ callerNumber: null, calledNumber: null });
  });

  it('emits no survey event for an unfinished survey', () => {
    const result = push({ ...answeredCdr, PostIVRKeyPressed: [{ Key: '1', Label: '已解决' }] });
    expect(result.ok && result.events.map((e) => e.type)).toEqual(['call.completed']);
  });

  it('refuses survey keypresses that are not on the menu', () => {
    for (const keys of [
      ['3', '1'],
      ['1', '4'],
      ['0', '0'],
      ['*', '#'],
      ['1', '2', '3'],
    ]) {
      const result = push({ ...answeredCdr, PostIVRKeyPressed: keys.map((Key) => ({ Key })) });
      expect(result).toMatchObject({ ok: false, status: 400, code: 'keypress_not_on_menu' });
    }
  });

  describe('outbound survey calls (UUI survey:<id>)', () => {
    const outbound = {
      ...answeredCdr,
      Direction: 1,
      CallType: 1,
      Caller: '057112345',
      Callee: '13800000000',
      UUI: 'survey:srv_5521',
      PostIVRKeyPressed: [],
    };

    it('maps the IVR keys to survey.completed', () => {
      const result = push({ ...outbound, IVRKeyPressed: ['2', '3'] });
      expect(result).toMatchObject({
        ok: true,
        events: [
          {
            type: 'survey.completed',
            surveyId: 'srv_5521',
            callId: outbound.SessionId,
            resolved: false,
            satisfaction: 'unsatisfied',
          },
        ],
      });
    });

    it('reports calls that did not connect as survey.unreachable', () => {
      for (const [EndStatusString, reason] of [
        ['busy', 'busy'],
        ['userReject', 'busy'],
        ['notAnswer', 'no_answer'],
        ['powerOff', 'no_answer'],
        ['numberNotExist', 'failed'],
        ['operatorError', 'failed'],
        ['somethingNew', 'failed'],
      ]) {
        expect(push({ ...outbound, EndStatusString, Duration: 0 })).toMatchObject({
          events: [{ type: 'survey.unreachable', surveyId: 'srv_5521', reason }],
        });
      }
      expect(
        push({
          ...outbound,
          EndStatusString: undefined,
          EndStatus: 206,
          Uui: outbound.UUI,
          UUI: undefined,
        }),
      ).toMatchObject({
        events: [{ type: 'survey.unreachable', reason: 'busy' }],
      });
    });

    it('ignores outbound calls that are not survey calls', () => {
      expect(push({ ...outbound, UUI: 'callback:123' })).toMatchObject({ ok: true, events: [] });
      expect(push({ ...outbound, UUI: undefined })).toMatchObject({ ok: true, events: [] });
    });

    it('refuses off-menu keys in a survey call', () => {
      expect(push({ ...outbound, IVRKeyPressed: ['1', '9'] })).toMatchObject({
        code: 'keypress_not_on_menu',
      });
    });
  });

  it('refuses a push for another TCCC instance with 403', () => {
    expect(push({ ...answeredCdr, SdkAppId: 1400999999 })).toMatchObject({
      status: 403,
      code: 'tenant_mismatch',
    });
  });

  it('authenticates before looking at anything else', () => {
    expect(
      push('not json', {
        headers: { authorization: `Bearer ${newToken}`, 'content-type': 'text/plain' },
      }),
    ).toMatchObject({
      status: 401,
      code: 'credentials_invalid',
    });
    expect(push(answeredCdr, { headers: { authorization: undefined } })).toMatchObject({
      status: 401,
      code: 'credentials_missing',
    });
    expect(push(answeredCdr, { headers: { Authorization: `Bearer ${newToken}` } })).toMatchObject({
      status: 400,
      code: 'header_ambiguous',
    });
  });

  it('requires the push uuid for de-duplication', () => {
    expect(push(answeredCdr, { headers: { 'x-tccc-push-uuid': undefined } })).toMatchObject({
      status: 400,
      code: 'delivery_id_missing',
    });
    expect(push(answeredCdr, { headers: { 'x-tccc-push-uuid': ' ' } })).toMatchObject({
      code: 'delivery_id_missing',
    });
    expect(push(answeredCdr, { headers: { 'x-tccc-push-uuid': 'a b' } })).toMatchObject({
      code: 'delivery_id_malformed',
    });
    expect(
      push(answeredCdr, {
        headers: { 'X-TCCC-PUSH-UUID': 'retry-1', 'x-tccc-push-uuid': undefined },
      }),
    ).toMatchObject({
      deliveryId: 'tccc:retry-1',
    });
  });

  it('refuses wrong content types, oversized and malformed bodies', () => {
    expect(push(answeredCdr, { headers: { 'content-type': 'text/plain' } })).toMatchObject({
      status: 415,
    });
    expect(
      push(answeredCdr, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    ).toMatchObject({
      status: 415,
    });
    expect(
      push(answeredCdr, { headers: { 'content-type': 'application/json; charset=gbk' } }),
    ).toMatchObject({
      status: 415,
    });
    expect(push({ ...answeredCdr, Padding: 'x'.repeat(64 * 1024) })).toMatchObject({ status: 413 });
    expect(push('{"SdkAppId":')).toMatchObject({ status: 400, code: 'body_malformed' });
    for (const patch of [
      { Direction: 2 },
      { SessionId: '' },
      { Duration: -1 },
      { StartTimestamp: 1.5 },
      { EndStatusString: undefined, EndStatus: undefined },
      { SdkAppId: '1400123456' },
    ]) {
      expect(push({ ...answeredCdr, ...patch })).toMatchObject({
        status: 400,
        code: 'body_invalid',
      });
    }
  });

  it('describes invalid bodies without echoing phone numbers', () => {
    const result = push({ ...answeredCdr, Caller: 13800000000, Direction: 'in' });
    expect(result).toMatchObject({ status: 400, code: 'body_invalid' });
    if (!result.ok) {
      expect(result.message).toContain('Caller');
      expect(result.message).not.toContain('13800000000');
    }
  });
});

import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { normaliseConnectContactEvent } from '../../core/phone/connect.ts';
import { STANDARD_WEBHOOK_EXAMPLES } from '../../core/phone/events.ts';
import { checkEventTimes } from '../../core/phone/http.ts';
import { receiveStandardWebhook } from '../../core/phone/standard-webhooks.ts';
import { receiveTcccPush } from '../../core/phone/tccc.ts';
import { receiveTwilioWebhook } from '../../core/phone/twilio.ts';

/**
 * Issue 10.6: authenticated senders' out-of-range times gave 500 (retried forever) or filed a
 * missed call under a day no call-back list shows. Each is refused with 400 naming the field.
 */
const NOW = new Date('2026-11-30T02:00:00Z');
const nowSeconds = Math.floor(NOW.getTime() / 1000);

describe('checkEventTimes', () => {
  it('accepts times inside the window and names the first field outside it, not its value', () => {
    const minute = 60_000;
    expect(checkEventTimes({ a: NOW.getTime() - minute, b: undefined }, NOW)).toBeUndefined();
    const refused = checkEventTimes({ a: NOW.getTime(), start: 8.64e15 }, NOW);
    expect(refused).toMatchObject({ status: 400, code: 'time_out_of_range' });
    expect(refused?.message).toBe('start is outside the accepted time window');
    expect(checkEventTimes({ t: Number.NaN }, NOW)?.message).toContain('t ');
    const window = { pastSeconds: 3600, futureSeconds: 0 };
    expect(checkEventTimes({ t: NOW.getTime() - 2 * 3600_000 }, NOW, window)).toBeDefined();
    expect(checkEventTimes({ t: NOW.getTime() + 1000 }, NOW, window)).toBeDefined();
  });
});

describe('standard webhooks', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const deliver = (payload: object) => {
    const raw = JSON.stringify(payload);
    const id = `msg_${randomBytes(6).toString('hex')}`;
    return receiveStandardWebhook({
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(nowSeconds),
        'webhook-signature': new Webhook(secret).sign(id, NOW, raw),
      },
      rawBody: Buffer.from(raw),
      secrets: [secret],
      now: NOW,
    });
  };

  it('refuses a call.missed dated 9999-12-31T23:59:59-23:59, naming timestamp', () => {
    const missed = STANDARD_WEBHOOK_EXAMPLES['call.missed'];
    const result = deliver({ ...missed, timestamp: '9999-12-31T23:59:59-23:59' });
    expect(result).toMatchObject({ ok: false, status: 400, code: 'time_out_of_range' });
    expect(!result.ok && result.message).toContain('timestamp');
    expect(!result.ok && result.message).not.toContain('9999');
    expect(deliver({ ...missed, timestamp: NOW.toISOString() }).ok).toBe(true);
  });

  it('refuses a call.completed whose startedAt is years ago, naming data.startedAt', () => {
    const completed = STANDARD_WEBHOOK_EXAMPLES['call.completed'];
    const result = deliver({
      ...completed,
      timestamp: NOW.toISOString(),
      data: { ...completed.data, startedAt: '2001-01-01T00:00:00Z' },
    });
    expect(result).toMatchObject({ status: 400, code: 'time_out_of_range' });
    expect(!result.ok && result.message).toContain('data.startedAt');
  });
});

describe('TCCC', () => {
  const token = randomBytes(24).toString('base64url');
  const push = (times: Record<string, number>) =>
    receiveTcccPush({
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json;charset=utf8',
        'x-tccc-push-uuid': `u-${randomBytes(4).toString('hex')}`,
      },
      rawBody: Buffer.from(
        JSON.stringify({
          SdkAppId: 1400000000,
          SessionId: 's-1',
          Caller: '+8613600000000',
          Callee: '12345',
          Direction: 0,
          StartTimestamp: nowSeconds - 120,
          QueuedTimestamp: nowSeconds - 110,
          EndedTimestamp: nowSeconds,
          Duration: 0,
          EndStatusString: 'waitingGiveUp',
          ...times,
        }),
      ),
      credentials: [{ scheme: 'bearer', token }],
      now: NOW,
    });

  it.each([
    ['EndedTimestamp', 10_000_000_000_000],
    ['StartTimestamp', Number.MAX_SAFE_INTEGER],
    ['QueuedTimestamp', 1],
    ['AcceptTimestamp', nowSeconds + 86_400],
  ])('refuses %s = %d with 400 naming it', (field, value) => {
    const result = push({ [field]: value });
    expect(result).toMatchObject({ ok: false, status: 400, code: 'time_out_of_range' });
    expect(!result.ok && result.message).toBe(`${field} is outside the accepted time window`);
  });

  it('still treats 0 as "not known"', () => {
    expect(push({ QueuedTimestamp: 0, StartTimestamp: 0 }).ok).toBe(true);
  });
});

describe('Twilio', () => {
  const authToken = randomBytes(16).toString('hex');
  const publicUrl = 'https://hotline.example.gov.cn/webhooks/phone/twilio';
  const send = (timestamp: string) => {
    const params = {
      CallSid: `CA${randomBytes(16).toString('hex')}`,
      CallStatus: 'no-answer',
      Direction: 'inbound',
      From: '+8613700000000',
      To: '12345',
      SequenceNumber: '1',
      Timestamp: timestamp,
    };
    return receiveTwilioWebhook({
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, publicUrl, params),
      },
      rawBody: Buffer.from(new URLSearchParams(params).toString()),
      publicUrl,
      authToken,
      now: NOW,
    });
  };

  it('refuses Timestamp "Sat, 13 Sep 275760 00:00:00 GMT" with 400 naming it', () => {
    const result = send('Sat, 13 Sep 275760 00:00:00 GMT');
    expect(result).toMatchObject({ ok: false, status: 400, code: 'time_out_of_range' });
    expect(!result.ok && result.message).toContain('Timestamp');
    expect(send(NOW.toUTCString()).ok).toBe(true);
  });
});

describe('Amazon Connect contact events', () => {
  it('refuses a disconnect time outside the window, naming the field', () => {
    const event = (disconnectTimestamp: string) => ({
      id: 'ev-1',
      'detail-type': 'Amazon Connect Contact Event',
      source: 'aws.connect',
      time: NOW.toISOString(),
      detail: {
        eventType: 'DISCONNECTED',
        contactId: 'c-1',
        channel: 'VOICE',
        instanceArn: 'arn:aws:connect:ap-east-1:111122223333:instance/abc',
        initiationMethod: 'INBOUND',
        queueInfo: { enqueueTimestamp: NOW.toISOString() },
        disconnectTimestamp,
      },
    });
    const result = normaliseConnectContactEvent(event('9999-12-31T23:59:59Z'), { now: NOW });
    expect(result).toMatchObject({ ok: false, status: 400, code: 'time_out_of_range' });
    expect(!result.ok && result.message).toContain('detail.disconnectTimestamp');
    expect(normaliseConnectContactEvent(event(NOW.toISOString()), { now: NOW }).ok).toBe(true);
  });
});

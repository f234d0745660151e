import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STANDARD_WEBHOOK_EXAMPLES } from '../../core/phone/events.ts';
import {
  parseWebhookSecret,
  receiveStandardWebhook,
  signStandardWebhook,
  verifyStandardWebhook,
} from '../../core/phone/standard-webhooks.ts';

// The spec's own example of a suffixed timestamp is 1795234367abc; put "now" next to it.
const NOW_SECONDS = 1795234367;
const NOW = new Date(NOW_SECONDS * 1000 + 400);

const newSecret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;
const secret = newSecret();
const nextSecret = newSecret();
const otherTenantSecret = newSecret();
const retiredSecret = newSecret();

// A call a minute before NOW: event times far from now are refused (see 'event times' below).
const body = JSON.stringify({
  ...STANDARD_WEBHOOK_EXAMPLES['call.received'],
  timestamp: new Date((NOW_SECONDS - 60) * 1000).toISOString(),
});
const rawBody = Buffer.from(body, 'utf8');
const msgId = 'msg_2vQ8pZc1s0XkZt6Lq3';

type Headers = Record<string, string>;

/** Signed by the reference library, not by us. */
function referenceHeaders(opts: { secret?: string; at?: Date; payload?: string } = {}): Headers {
  const at = opts.at ?? NOW;
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new StandardWebhook(opts.secret ?? secret).sign(
      msgId,
      at,
      opts.payload ?? body,
    ),
    'content-type': 'application/json',
  };
}

function ours(headers: Headers, payload: Buffer = rawBody, secrets = [secret, nextSecret]) {
  return verifyStandardWebhook({ headers, rawBody: payload, secrets, now: NOW });
}

/** Both reference verifiers, trying every secret we consider current. */
function theirs(headers: Headers, payload: string = body, secrets = [secret, nextSecret]) {
  const verdict = (make: (s: string) => { verify(p: string, h: Headers): unknown }) =>
    secrets.some((s) => {
      try {
        make(s).verify(payload, headers);
        return true;
      } catch {
        return false;
      }
    });
  return {
    standardwebhooks: verdict((s) => new StandardWebhook(s)),
    svix: verdict((s) => new SvixWebhook(s)),
  };
}

const both = (ok: boolean) => ({ standardwebhooks: ok, svix: ok });

beforeEach(() => {
  // The reference libraries read the clock themselves.
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('verifyStandardWebhook agrees with standardwebhooks and svix', () => {
  it('accepts a delivery signed by the standardwebhooks library', () => {
    const headers = referenceHeaders();
    expect(ours(headers)).toEqual({ ok: true, id: msgId, timestamp: new Date(NOW_SECONDS * 1000) });
    expect(theirs(headers)).toEqual(both(true));
  });

  it('accepts a delivery signed by svix', () => {
    const headers = {
      ...referenceHeaders(),
      'webhook-signature': new SvixWebhook(secret).sign(msgId, NOW, body),
    };
    expect(ours(headers).ok).toBe(true);
    expect(theirs(headers)).toEqual(both(true));
  });

  it('produces signatures both libraries accept', () => {
    const headers = signStandardWebhook({ id: msgId, timestamp: NOW, body, secret });
    expect(headers['webhook-signature']).toBe(referenceHeaders()['webhook-signature']);
    expect(theirs(headers)).toEqual(both(true));
    expect(ours(headers).ok).toBe(true);
  });

  it('accepts header names in any case', () => {
    const h = referenceHeaders();
    const headers = {
      'Webhook-Id': h['webhook-id']!,
      'WEBHOOK-TIMESTAMP': h['webhook-timestamp']!,
      'Webhook-Signature': h['webhook-signature']!,
    };
    expect(ours(headers).ok).toBe(true);
    expect(theirs(headers)).toEqual(both(true));
  });

  const good = referenceHeaders();
  const validSig = good['webhook-signature']!.slice(3);
  const otherSig = referenceHeaders({ secret: otherTenantSecret })['webhook-signature']!;
  const cases: {
    name: string;
    headers: Headers;
    payload?: string;
    status: number;
    code: string;
  }[] = [
    {
      name: 'missing webhook-id',
      headers: omit(good, 'webhook-id'),
      status: 400,
      code: 'webhook_id_missing',
    },
    {
      name: 'empty webhook-id',
      headers: { ...good, 'webhook-id': '' },
      status: 400,
      code: 'webhook_id_missing',
    },
    {
      name: 'missing webhook-timestamp',
      headers: omit(good, 'webhook-timestamp'),
      status: 400,
      code: 'timestamp_missing',
    },
    {
      name: 'empty webhook-timestamp',
      headers: { ...good, 'webhook-timestamp': '' },
      status: 400,
      code: 'timestamp_missing',
    },
    {
      name: 'missing webhook-signature',
      headers: omit(good, 'webhook-signature'),
      status: 401,
      code: 'signature_missing',
    },
    {
      name: 'empty webhook-signature',
      headers: { ...good, 'webhook-signature': '' },
      status: 401,
      code: 'signature_missing',
    },
    {
      name: 'blank webhook-signature',
      headers: { ...good, 'webhook-signature': '   ' },
      status: 401,
      code: 'signature_missing',
    },
    {
      name: 'wrong version label v2',
      headers: { ...good, 'webhook-signature': `v2,${validSig}` },
      status: 401,
      code: 'signature_version_unsupported',
    },
    {
      name: 'version label v1a (asymmetric)',
      headers: { ...good, 'webhook-signature': `v1a,${validSig}` },
      status: 401,
      code: 'signature_version_unsupported',
    },
    {
      name: 'no version label',
      headers: { ...good, 'webhook-signature': validSig },
      status: 401,
      code: 'signature_malformed',
    },
    {
      name: 'malformed base64',
      headers: { ...good, 'webhook-signature': 'v1,not*base64!' },
      status: 401,
      code: 'signature_malformed',
    },
    {
      name: 'unpadded base64',
      headers: { ...good, 'webhook-signature': `v1,${validSig.replace(/=+$/, '')}` },
      status: 401,
      code: 'signature_malformed',
    },
    {
      name: 'base64 of the wrong length',
      headers: { ...good, 'webhook-signature': `v1,${Buffer.alloc(20).toString('base64')}` },
      status: 401,
      code: 'signature_malformed',
    },
    {
      name: 'truncated signature',
      headers: { ...good, 'webhook-signature': `v1,${validSig.slice(0, 20)}` },
      status: 401,
      code: 'signature_malformed',
    },
    {
      name: 'a list in which no signature matches',
      headers: {
        ...good,
        'webhook-signature': `${otherSig} v1,${Buffer.alloc(32).toString('base64')} v2,${validSig}`,
      },
      status: 401,
      code: 'signature_mismatch',
    },
    {
      name: 'tampered body',
      headers: good,
      payload: body.replace('call_7f3a9c', 'call_7f3a9d'),
      status: 401,
      code: 'signature_mismatch',
    },
    {
      name: 'body with a trailing newline',
      headers: good,
      payload: `${body}\n`,
      status: 401,
      code: 'signature_mismatch',
    },
    {
      name: 're-serialised JSON',
      headers: good,
      payload: JSON.stringify(JSON.parse(body), null, 2),
      status: 401,
      code: 'signature_mismatch',
    },
    {
      name: 'signature for another message id',
      headers: { ...good, 'webhook-id': 'msg_other' },
      status: 401,
      code: 'signature_mismatch',
    },
    {
      name: 'signature for another timestamp',
      headers: { ...good, 'webhook-timestamp': String(NOW_SECONDS - 1) },
      status: 401,
      code: 'signature_mismatch',
    },
    {
      name: 'signed with the secret of another tenant',
      headers: referenceHeaders({ secret: otherTenantSecret }),
      status: 401,
      code: 'signature_mismatch',
    },
    {
      name: 'signed with a secret rotated out',
      headers: referenceHeaders({ secret: retiredSecret }),
      status: 401,
      code: 'signature_mismatch',
    },
    {
      name: 'timestamp 301 s in the past',
      headers: referenceHeaders({ at: new Date((NOW_SECONDS - 301) * 1000) }),
      status: 401,
      code: 'timestamp_too_old',
    },
    {
      name: 'timestamp a day in the past',
      headers: referenceHeaders({ at: new Date((NOW_SECONDS - 86_400) * 1000) }),
      status: 401,
      code: 'timestamp_too_old',
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}, as the reference libraries do`, () => {
      const payload = c.payload ?? body;
      const verdict = ours(c.headers, Buffer.from(payload, 'utf8'));
      expect(verdict).toMatchObject({ ok: false, status: c.status, code: c.code });
      expect(theirs(c.headers, payload)).toEqual(both(false));
    });
  }

  it('accepts a list in which one signature matches (key rotation)', () => {
    const headers = {
      ...good,
      'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${otherSig}  ${good['webhook-signature']}`,
    };
    expect(ours(headers).ok).toBe(true);
    expect(theirs(headers)).toEqual(both(true));
  });

  it('accepts the new secret during a rotation and refuses the old one after it', () => {
    const signed = signStandardWebhook({
      id: msgId,
      timestamp: NOW,
      body,
      secret: [retiredSecret, nextSecret],
    });
    expect(signed['webhook-signature'].split(' ')).toHaveLength(2);
    expect(ours(signed, rawBody, [nextSecret]).ok).toBe(true);
    expect(theirs(signed, body, [nextSecret])).toEqual(both(true));

    const oldOnly = referenceHeaders({ secret: retiredSecret });
    expect(ours(oldOnly, rawBody, [nextSecret])).toMatchObject({ code: 'signature_mismatch' });
    expect(theirs(oldOnly, body, [nextSecret])).toEqual(both(false));
  });

  it('accepts exactly 300 s of skew either way', () => {
    for (const skew of [-300, 300]) {
      const headers = referenceHeaders({ at: new Date((NOW_SECONDS + skew) * 1000) });
      expect(ours(headers).ok).toBe(true);
      expect(theirs(headers)).toEqual(both(true));
    }
  });

  it('refuses a timestamp 301 s in the future (the reference libraries do too)', () => {
    const headers = referenceHeaders({ at: new Date((NOW_SECONDS + 301) * 1000) });
    expect(ours(headers)).toMatchObject({ status: 401, code: 'timestamp_too_new' });
    expect(theirs(headers)).toEqual(both(false));
  });

  it('honours a custom tolerance', () => {
    const headers = referenceHeaders({ at: new Date((NOW_SECONDS - 60) * 1000) });
    const verdict = verifyStandardWebhook({
      headers,
      rawBody,
      secrets: [secret],
      now: NOW,
      toleranceSeconds: 30,
    });
    expect(verdict).toMatchObject({ status: 401, code: 'timestamp_too_old' });
  });
});

describe('timestamps: deliberately stricter than the reference libraries', () => {
  // Signed over the plain number, then the header is decorated: the libraries parseInt the
  // header and sign the parsed number, so they still see a valid signature.
  const signed = referenceHeaders();
  const strictCases: { header: string; theirVerdict: boolean }[] = [
    { header: `${NOW_SECONDS}abc`, theirVerdict: true },
    { header: `${NOW_SECONDS}.5`, theirVerdict: true },
    { header: `${NOW_SECONDS}.0`, theirVerdict: true },
    { header: `${NOW_SECONDS}e0`, theirVerdict: true },
    { header: `+${NOW_SECONDS}`, theirVerdict: true },
    { header: `0${NOW_SECONDS}`, theirVerdict: true },
    { header: `${NOW_SECONDS} 1`, theirVerdict: true },
    { header: String(NOW_SECONDS * 1000), theirVerdict: false },
    { header: String(NOW_SECONDS * 1000 + 400), theirVerdict: false },
    { header: `-${NOW_SECONDS}`, theirVerdict: false },
    { header: '-1', theirVerdict: false },
    { header: 'now', theirVerdict: false },
    { header: '0x6b00f93f', theirVerdict: false },
  ];

  for (const { header, theirVerdict } of strictCases) {
    it(`refuses webhook-timestamp ${JSON.stringify(header)} (reference libraries: ${theirVerdict ? 'accept' : 'refuse'})`, () => {
      const headers = { ...signed, 'webhook-timestamp': header };
      expect(ours(headers)).toMatchObject({ ok: false, status: 400, code: 'timestamp_malformed' });
      expect(theirs(headers)).toEqual(both(theirVerdict));
    });
  }

  it('refuses a millisecond timestamp even when it is correctly signed', () => {
    const ms = String(NOW.getTime());
    const signature = `v1,${createHmac('sha256', parseWebhookSecret(secret))
      .update(`${msgId}.${ms}.${body}`)
      .digest('base64')}`;
    const headers = { ...signed, 'webhook-timestamp': ms, 'webhook-signature': signature };
    expect(ours(headers)).toMatchObject({ status: 400, code: 'timestamp_malformed' });
    expect(theirs(headers)).toEqual(both(false));
  });
});

describe('other request checks', () => {
  it('refuses bodies over the limit before hashing them, default 64 KiB', () => {
    const limit = 64 * 1024;
    const atLimit = Buffer.alloc(limit, 0x20);
    const over = Buffer.alloc(limit + 1, 0x20);
    const sign = (b: Buffer) => signStandardWebhook({ id: msgId, timestamp: NOW, body: b, secret });
    expect(ours(sign(atLimit), atLimit).ok).toBe(true);
    expect(ours(sign(over), over)).toMatchObject({ status: 413, code: 'body_too_large' });
    const small = verifyStandardWebhook({
      headers: sign(rawBody),
      rawBody,
      secrets: [secret],
      now: NOW,
      maxBodyBytes: 100,
    });
    expect(small).toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('refuses a header sent twice with different values', () => {
    const headers = { ...goodHeaders(), 'Webhook-Id': 'msg_other' };
    expect(ours(headers)).toMatchObject({ status: 400, code: 'header_ambiguous' });
  });

  it('refuses a webhook-id with control characters or spaces', () => {
    for (const id of ['msg 1', 'msg\u00001', 'x'.repeat(257)]) {
      expect(ours({ ...goodHeaders(), 'webhook-id': id })).toMatchObject({
        code: 'webhook_id_malformed',
      });
    }
  });

  it('verifies raw bytes, including bytes that are not UTF-8', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const headers = signStandardWebhook({ id: msgId, timestamp: NOW, body: bytes, secret });
    expect(ours(headers, bytes).ok).toBe(true);
    expect(ours(headers, Buffer.from([0x7b, 0xfd, 0xfd, 0x7d])).ok).toBe(false);
  });

  it('throws for misconfigured secrets, without echoing them', () => {
    const raw = randomBytes(32).toString('base64');
    const attempts = [[raw], ['whsec_not base64'], [newSecret(8)], [newSecret(65)], []];
    for (const secrets of attempts) {
      const call = () =>
        verifyStandardWebhook({ headers: goodHeaders(), rawBody, secrets, now: NOW });
      expect(call).toThrow(TypeError);
      try {
        call();
      } catch (error) {
        expect(String(error)).not.toContain(raw);
      }
    }
  });

  it('never puts secrets, signatures or phone numbers into rejection messages', () => {
    const headers = referenceHeaders({ secret: otherTenantSecret });
    const verdicts = [
      ours(headers),
      ours({ ...goodHeaders(), 'webhook-signature': 'v1,!!' }),
      ours({ ...goodHeaders(), 'webhook-timestamp': '1' }),
      receiveStandardWebhook({
        headers: signStandardWebhook({
          id: msgId,
          timestamp: NOW,
          body: '{"type":"call.received","timestamp":"2026-01-01T00:00:00Z","data":{"callId":"c","callerNumber":"+86139123456780000000000","calledNumber":"12345"}}',
          secret,
        }),
        rawBody: Buffer.from(
          '{"type":"call.received","timestamp":"2026-01-01T00:00:00Z","data":{"callId":"c","callerNumber":"+86139123456780000000000","calledNumber":"12345"}}',
        ),
        secrets: [secret],
        now: NOW,
      }),
    ];
    for (const verdict of verdicts) {
      expect(verdict.ok).toBe(false);
      if (verdict.ok) continue;
      for (const leaked of [
        secret,
        otherTenantSecret,
        secret.slice(6),
        headers['webhook-signature']!.slice(3),
        '139123',
        '12345',
      ]) {
        expect(verdict.message).not.toContain(leaked);
      }
    }
  });
});

describe('property: ours and the reference library agree', () => {
  it('on signatures over arbitrary ids, times and bodies', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
        fc.integer({ min: -300, max: 300 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        (id, skew, payload) => {
          const at = new Date((NOW_SECONDS + skew) * 1000);
          const signature = new StandardWebhook(secret).sign(id, at, payload);
          const headers = {
            'webhook-id': id,
            'webhook-timestamp': String(NOW_SECONDS + skew),
            'webhook-signature': signature,
          };
          const bytes = Buffer.from(payload, 'utf8');
          expect(ours(headers, bytes).ok).toBe(true);
          expect(signStandardWebhook({ id, timestamp: at, body: payload, secret })).toEqual(
            headers,
          );
          // Any single flipped bit anywhere in the body breaks it.
          if (bytes.length > 0) {
            const tampered = Buffer.from(bytes);
            tampered[tampered.length >> 1]! ^= 0x01;
            expect(ours(headers, tampered)).toMatchObject({ code: 'signature_mismatch' });
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('receiveStandardWebhook', () => {
  const deliver = (payload: string, headers: Headers = {}) =>
    receiveStandardWebhook({
      headers: {
        ...signStandardWebhook({ id: msgId, timestamp: NOW, body: payload, secret }),
        'content-type': 'application/json',
        ...headers,
      },
      rawBody: Buffer.from(payload, 'utf8'),
      secrets: [secret],
      now: NOW,
    });

  it('checks the signature before anything else in the body', () => {
    const result = receiveStandardWebhook({
      headers: { ...goodHeaders(), 'content-type': 'text/plain' },
      rawBody: Buffer.from('not json'),
      secrets: [secret],
      now: NOW,
    });
    expect(result).toMatchObject({ status: 401, code: 'signature_mismatch' });
  });

  it('refuses the wrong content type', () => {
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      '',
    ]) {
      expect(deliver(body, { 'content-type': contentType })).toMatchObject({
        status: 415,
        code: 'content_type_unsupported',
      });
    }
    expect(deliver(body, { 'content-type': 'Application/JSON; charset=UTF-8' }).ok).toBe(true);
  });

  it('uses the webhook-id as delivery id', () => {
    expect(deliver(body)).toMatchObject({ ok: true, deliveryId: `standard:${msgId}` });
  });

  it('refuses invalid JSON and invalid UTF-8', () => {
    expect(deliver('{"type":')).toMatchObject({ status: 400, code: 'body_malformed' });
    const bytes = Buffer.from([0x7b, 0xff, 0x7d]);
    const result = receiveStandardWebhook({
      headers: {
        ...signStandardWebhook({ id: msgId, timestamp: NOW, body: bytes, secret }),
        'content-type': 'application/json',
      },
      rawBody: bytes,
      secrets: [secret],
      now: NOW,
    });
    expect(result).toMatchObject({ status: 400, code: 'body_not_utf8' });
  });
});

function omit(headers: Headers, name: string): Headers {
  const { [name]: _, ...rest } = headers;
  return rest;
}

function goodHeaders(): Headers {
  return referenceHeaders();
}

import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { isCallStatusRegression } from '../../core/phone/events.ts';
import {
  buildSurveyGoodbyeTwiml,
  buildSurveyTwiml,
  computeTwilioSignature,
  parseFormBody,
  receiveTwilioWebhook,
  twilioSurveyQuestionTwiml,
  twilioSurveyUrl,
  verifyTwilioSignature,
} from '../../core/phone/twilio.ts';

// twilio v6 is CommonJS with `export =`; the helpers hang off the default export.
const { getExpectedTwilioSignature, validateRequest } = twilio;

const authToken = randomBytes(16).toString('hex');
const otherToken = randomBytes(16).toString('hex');
const accountSid = `AC${randomBytes(16).toString('hex')}`;
const callSid = `CA${randomBytes(16).toString('hex')}`;
const publicUrl = 'https://hotline.example.gov.cn/webhooks/phone/twilio?tenant=hz';
const NOW = new Date('2026-03-05T06:00:00Z');

type Pairs = [string, string][];
type TwilioParams = Record<string, string | string[]>;

/** What Twilio's helpers expect: one key per name, arrays for repeated names. */
function toTwilioParams(pairs: Pairs): TwilioParams {
  // Null prototype, so that names like "constructor" or "__proto__" are ordinary fields.
  const params: TwilioParams = Object.create(null);
  for (const [k, v] of pairs) {
    const existing = Object.hasOwn(params, k) ? params[k] : undefined;
    params[k] =
      existing === undefined ? v : [...(Array.isArray(existing) ? existing : [existing]), v];
  }
  return params;
}

const encode = (pairs: Pairs) => Buffer.from(new URLSearchParams(pairs).toString(), 'utf8');

const statusPairs: Pairs = [
  ['AccountSid', accountSid],
  ['ApiVersion', '2010-04-01'],
  ['CallSid', callSid],
  ['CallStatus', 'completed'],
  ['CallDuration', '372'],
  ['CallbackSource', 'call-progress-events'],
  ['Called', '+8657112345'],
  ['Caller', '+8613800000000'],
  ['Direction', 'inbound'],
  ['From', '+8613800000000'],
  ['SequenceNumber', '3'],
  ['Timestamp', 'Thu, 05 Mar 2026 05:59:58 +0000'],
  ['To', '+8657112345'],
];

function receive(opts: {
  pairs: Pairs;
  signUrl?: string;
  signPairs?: Pairs;
  token?: string;
  headers?: Record<string, string>;
  url?: string;
}) {
  const signature = getExpectedTwilioSignature(
    opts.token ?? authToken,
    opts.signUrl ?? opts.url ?? publicUrl,
    toTwilioParams(opts.signPairs ?? opts.pairs),
  );
  return receiveTwilioWebhook({
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      ...opts.headers,
    },
    rawBody: encode(opts.pairs),
    publicUrl,
    authToken,
    accountSid,
    now: NOW,
  });
}

describe('verifyTwilioSignature agrees with twilio.validateRequest', () => {
  const params = toTwilioParams(statusPairs);
  const signature = getExpectedTwilioSignature(authToken, publicUrl, params);
  const without = (name: string) => toTwilioParams(statusPairs.filter(([k]) => k !== name));
  const cases: {
    name: string;
    signUrl?: string;
    signParams?: TwilioParams;
    params?: TwilioParams;
    token?: string;
    signature?: string;
    valid: boolean;
  }[] = [
    { name: 'the request as signed', valid: true },
    {
      name: 'the default port spelled out',
      signUrl: 'https://hotline.example.gov.cn:443/webhooks/phone/twilio?tenant=hz',
      valid: true,
    },
    { name: 'a tampered value', params: { ...params, CallDuration: '1' }, valid: false },
    { name: 'an added field', params: { ...params, Digits: '1' }, valid: false },
    { name: 'a removed field', params: without('SequenceNumber'), valid: false },
    { name: 'an emptied field', params: { ...params, From: '' }, valid: false },
    {
      name: 'a renamed field',
      params: { ...without('From'), from: '+8613800000000' },
      valid: false,
    },
    { name: 'http instead of https', signUrl: publicUrl.replace('https:', 'http:'), valid: false },
    {
      name: 'another host',
      signUrl: publicUrl.replace('hotline.example', 'evil.example'),
      valid: false,
    },
    {
      name: 'the query missing',
      signUrl: 'https://hotline.example.gov.cn/webhooks/phone/twilio',
      valid: false,
    },
    {
      name: 'another tenant in the query',
      signUrl: publicUrl.replace('tenant=hz', 'tenant=nb'),
      valid: false,
    },
    {
      name: 'an API Gateway stage prefix',
      signUrl: 'https://hotline.example.gov.cn/prod/webhooks/phone/twilio?tenant=hz',
      valid: false,
    },
    {
      name: 'a trailing slash',
      signUrl: 'https://hotline.example.gov.cn/webhooks/phone/twilio/?tenant=hz',
      valid: false,
    },
    {
      name: 'a non-default port',
      signUrl: 'https://hotline.example.gov.cn:8443/webhooks/phone/twilio?tenant=hz',
      valid: false,
    },
    { name: 'another auth token', token: otherToken, valid: false },
    { name: 'an empty signature', signature: '', valid: false },
    { name: 'a truncated signature', signature: signature.slice(0, 20), valid: false },
    {
      name: 'a signature that is not base64',
      signature: `${signature.slice(0, 26)}!=`,
      valid: false,
    },
    {
      name: 'a hex signature',
      signature: Buffer.from(signature, 'base64').toString('hex'),
      valid: false,
    },
  ];

  for (const c of cases) {
    it(`${c.valid ? 'accepts' : 'refuses'} ${c.name}`, () => {
      const sig =
        c.signature ??
        getExpectedTwilioSignature(
          c.token ?? authToken,
          c.signUrl ?? publicUrl,
          c.signParams ?? params,
        );
      const received = c.params ?? params;
      const ours = verifyTwilioSignature({
        publicUrl,
        params: received,
        signature: sig,
        authToken,
      });
      expect(ours.ok).toBe(c.valid);
      expect(validateRequest(authToken, sig, publicUrl, received)).toBe(c.valid);
    });
  }

  it('agrees on repeated keys: values are sorted, and one value more or less is refused', () => {
    const signedPairs: Pairs = [...statusPairs, ['Tag', 'b'], ['Tag', 'a'], ['Tag', 'c']];
    const sig = getExpectedTwilioSignature(authToken, publicUrl, toTwilioParams(signedPairs));
    const verdicts = (pairs: Pairs) => {
      const form = parseFormBody(encode(pairs));
      if (!form.ok) throw new Error(form.message);
      return [
        verifyTwilioSignature({ publicUrl, params: form.params, signature: sig, authToken }).ok,
        validateRequest(authToken, sig, publicUrl, toTwilioParams(pairs)),
      ];
    };
    expect(verdicts(signedPairs)).toEqual([true, true]);
    expect(verdicts([...statusPairs, ['Tag', 'c'], ['Tag', 'a'], ['Tag', 'b']])).toEqual([
      true,
      true,
    ]);
    expect(verdicts([...statusPairs, ['Tag', 'b'], ['Tag', 'a']])).toEqual([false, false]);
    expect(
      verdicts([...statusPairs, ['Tag', 'b'], ['Tag', 'a'], ['Tag', 'c'], ['Tag', 'd']]),
    ).toEqual([false, false]);
    // Twilio's algorithm (as twilio-node implements it) cannot see a repeated identical value;
    // both verifiers accept it, which is why fields we read must not be repeated at all.
    expect(
      verdicts([...statusPairs, ['Tag', 'b'], ['Tag', 'a'], ['Tag', 'c'], ['Tag', 'a']]),
    ).toEqual([true, true]);
  });

  it('accepts the secondary token during a rotation', () => {
    const sig = getExpectedTwilioSignature(otherToken, publicUrl, params);
    expect(
      verifyTwilioSignature({
        publicUrl,
        params,
        signature: sig,
        authToken: [authToken, otherToken],
      }).ok,
    ).toBe(true);
    expect(verifyTwilioSignature({ publicUrl, params, signature: sig, authToken }).ok).toBe(false);
  });

  it('classifies failures', () => {
    const verify = (signature: string | undefined) =>
      verifyTwilioSignature({ publicUrl, params, signature, authToken });
    expect(verify(undefined)).toMatchObject({ status: 401, code: 'signature_missing' });
    expect(verify('  ')).toMatchObject({ status: 401, code: 'signature_missing' });
    expect(verify('abc')).toMatchObject({ status: 401, code: 'signature_malformed' });
    expect(verify(getExpectedTwilioSignature(otherToken, publicUrl, params))).toMatchObject({
      status: 401,
      code: 'signature_mismatch',
    });
  });

  it('computes the same signature as twilio for arbitrary parameters, repeated keys included', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            // A few fixed names force repeated keys; arbitrary names cover odd characters.
            fc.oneof(
              fc.constantFrom('Digits', 'CallSid', 'a'),
              fc.string({ minLength: 1, maxLength: 12 }),
            ),
            fc.string({ unit: 'grapheme', maxLength: 20 }),
          ),
          {
            maxLength: 12,
          },
        ),
        (pairs) => {
          const p = toTwilioParams(pairs);
          const expected = getExpectedTwilioSignature(authToken, publicUrl, p);
          expect(computeTwilioSignature(authToken, publicUrl, p)).toBe(expected);
          // And what we parse back from the wire verifies the same way.
          const form = parseFormBody(encode(pairs));
          if (!form.ok) throw new Error(form.message);
          expect(
            verifyTwilioSignature({
              publicUrl,
              params: form.params,
              signature: expected,
              authToken,
            }).ok,
          ).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseFormBody', () => {
  it('keeps every field, repeated keys included, and decodes + and %', () => {
    const form = parseFormBody(Buffer.from('a=1&b=x+y&a=2&c=%E4%BD%A0%26&d&=e&&'));
    expect(form).toEqual({
      ok: true,
      params: { a: ['1', '2'], b: ['x y'], c: ['你&'], d: [''], '': ['e'] },
    });
  });

  it('does not let names like __proto__ touch the prototype', () => {
    const form = parseFormBody(Buffer.from('__proto__=x&constructor=y'));
    if (!form.ok) throw new Error(form.message);
    expect(Object.getPrototypeOf(form.params)).toBeNull();
    expect(Object.entries(form.params)).toEqual([
      ['__proto__', ['x']],
      ['constructor', ['y']],
    ]);
  });

  it('refuses malformed escapes and bytes that are not UTF-8', () => {
    for (const body of ['a=%', 'a=%zz', 'a=%E4%BD', '%=1']) {
      expect(parseFormBody(Buffer.from(body))).toMatchObject({
        status: 400,
        code: 'body_malformed',
      });
    }
    expect(parseFormBody(Buffer.from([0x61, 0x3d, 0xff]))).toMatchObject({ code: 'body_not_utf8' });
  });
});

describe('receiveTwilioWebhook: calls', () => {
  it('turns the voice request of an incoming call into call.received', () => {
    const pairs: Pairs = [
      ['AccountSid', accountSid],
      ['CallSid', callSid],
      ['CallStatus', 'ringing'],
      ['Direction', 'inbound'],
      ['From', '+8613800000000'],
      ['To', '+8657112345'],
    ];
    expect(receive({ pairs })).toEqual({
      ok: true,
      provider: 'twilio',
      deliveryId: `twilio:${callSid}:voice`,
      callStatus: { callId: callSid, status: 'ringing' },
      events: [
        {
          type: 'call.received',
          provider: 'twilio',
          occurredAt: NOW.toISOString(),
          callId: callSid,
          callerNumber: '+8613800000000',
          calledNumber: '+8657112345',
        },
      ],
    });
  });

  it('turns the completed status callback into call.completed, keyed on SequenceNumber', () => {
    expect(receive({ pairs: statusPairs })).toMatchObject({
      ok: true,
      deliveryId: `twilio:${callSid}:status:3`,
      callStatus: { status: 'completed' },
      events: [
        {
          type: 'call.completed',
          occurredAt: '2026-03-05T05:59:58.000Z',
          durationSeconds: 372,
          callerNumber: '+8613800000000',
        },
      ],
    });
  });

  it('gives a late ringing callback a different delivery id, and flags it as a regression', () => {
    const late = receive({
      pairs: statusPairs.map(([k, v]): [string, string] =>
        k === 'CallStatus' ? [k, 'ringing'] : k === 'SequenceNumber' ? [k, '1'] : [k, v],
      ),
    });
    if (!late.ok) throw new Error(late.message);
    expect(late.deliveryId).toBe(`twilio:${callSid}:status:1`);
    expect(late.events).toEqual([]);
    expect(isCallStatusRegression('completed', late.callStatus!.status)).toBe(true);
  });

  it('puts unanswered inbound calls on the call-back list', () => {
    for (const [status, reason] of [
      ['no-answer', 'not_answered'],
      ['busy', 'not_answered'],
      ['canceled', 'abandoned'],
    ] as const) {
      const pairs = statusPairs.map(([k, v]): [string, string] =>
        k === 'CallStatus' ? [k, status] : [k, v],
      );
      expect(receive({ pairs })).toMatchObject({ events: [{ type: 'call.missed', reason }] });
    }
  });

  it('reports survey calls that did not connect as survey.unreachable', () => {
    for (const [status, reason] of [
      ['busy', 'busy'],
      ['no-answer', 'no_answer'],
      ['failed', 'failed'],
      ['canceled', 'failed'],
    ] as const) {
      const pairs = statusPairs.map(([k, v]): [string, string] =>
        k === 'CallStatus' ? [k, status] : k === 'Direction' ? [k, 'outbound-api'] : [k, v],
      );
      expect(receive({ pairs })).toMatchObject({
        events: [{ type: 'survey.unreachable', callId: callSid, reason }],
      });
    }
  });

  it('refuses requests signed for another URL, token or body', () => {
    const refusals = [
      receive({ pairs: statusPairs, signUrl: publicUrl.replace('https:', 'http:') }),
      receive({
        pairs: statusPairs,
        signUrl: 'https://hotline.example.gov.cn/prod/webhooks/phone/twilio?tenant=hz',
      }),
      receive({
        pairs: statusPairs,
        signUrl: 'https://hotline.example.gov.cn/webhooks/phone/twilio',
      }),
      receive({ pairs: statusPairs, token: otherToken }),
      receive({ pairs: [...statusPairs, ['Digits', '1']], signPairs: statusPairs }),
      receive({ pairs: statusPairs.slice(1), signPairs: statusPairs }),
    ];
    for (const r of refusals)
      expect(r).toMatchObject({ ok: false, status: 401, code: 'signature_mismatch' });
  });

  it('refuses missing, empty and duplicated signatures', () => {
    expect(receive({ pairs: statusPairs, headers: { 'x-twilio-signature': '' } })).toMatchObject({
      status: 401,
      code: 'signature_missing',
    });
    expect(
      receive({ pairs: statusPairs, headers: { 'X-Twilio-Signature': 'AAAA' } }),
    ).toMatchObject({
      status: 400,
      code: 'header_ambiguous',
    });
  });

  it('refuses another account with 403, even when correctly signed', () => {
    const pairs = statusPairs.map(([k, v]): [string, string] =>
      k === 'AccountSid' ? [k, `AC${'0'.repeat(32)}`] : [k, v],
    );
    expect(receive({ pairs })).toMatchObject({ status: 403, code: 'tenant_mismatch' });
  });

  it('refuses wrong content types and oversized bodies', () => {
    expect(
      receive({ pairs: statusPairs, headers: { 'content-type': 'application/json' } }),
    ).toMatchObject({
      status: 415,
    });
    expect(
      receive({
        pairs: statusPairs,
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
      }),
    ).toMatchObject({
      status: 415,
    });
    const big = receive({ pairs: [...statusPairs, ['Padding', 'x'.repeat(64 * 1024)]] });
    expect(big).toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('refuses a signed request whose fields we read are repeated or malformed', () => {
    expect(receive({ pairs: [...statusPairs, ['CallSid', `CA${'f'.repeat(32)}`]] })).toMatchObject({
      status: 400,
      code: 'body_invalid',
    });
    expect(
      receive({
        pairs: statusPairs.map(([k, v]): [string, string] =>
          k === 'CallStatus' ? [k, 'exploded'] : [k, v],
        ),
      }),
    ).toMatchObject({ status: 400, code: 'body_invalid' });
  });

  it('never puts the token, the signature or phone numbers in messages', () => {
    const results = [
      receive({ pairs: statusPairs, token: otherToken }),
      receive({
        pairs: statusPairs.map(([k, v]): [string, string] =>
          k === 'CallSid' ? [k, '+8613800000000'] : [k, v],
        ),
      }),
    ];
    for (const r of results) {
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      for (const secret of [authToken, otherToken, '13800000000'])
        expect(r.message).not.toContain(secret);
    }
  });
});

describe('receiveTwilioWebhook: survey', () => {
  const gather = (step: Parameters<typeof twilioSurveyUrl>[1], digits?: string) => {
    const pairs: Pairs = [
      ['AccountSid', accountSid],
      ['CallSid', callSid],
      ['CallStatus', 'in-progress'],
      ['Direction', 'outbound-api'],
      ...(digits === undefined ? [] : ([['Digits', digits]] as Pairs)),
      ['From', '+8657112345'],
      ['To', '+8613800000000'],
    ];
    return receive({ pairs, signUrl: twilioSurveyUrl(publicUrl, step) });
  };

  it('asks the first question when the survey call is answered', () => {
    const result = gather('answered');
    expect(result).toMatchObject({
      ok: true,
      deliveryId: `twilio:${callSid}:survey:answered`,
      events: [],
    });
    expect(result.ok && result.reply).toBe(
      twilioSurveyQuestionTwiml(publicUrl, { question: 'resolved' }),
    );
    expect(result.ok && result.reply).toContain(
      'action="https://hotline.example.gov.cn/webhooks/phone/twilio?tenant=hz&amp;survey=resolved"',
    );
  });

  it('carries the first answer into the second question', () => {
    const yes = gather('resolved', '1');
    expect(yes).toMatchObject({
      ok: true,
      deliveryId: `twilio:${callSid}:survey:resolved`,
      events: [],
    });
    expect(yes.ok && yes.reply).toContain('survey=satisfaction-after-yes');
    expect(yes.ok && yes.reply).toContain('满意请按1，基本满意请按2，不满意请按3');
    const no = gather('resolved', '2');
    expect(no.ok && no.reply).toContain('survey=satisfaction-after-no');
  });

  it('emits survey.completed after the second answer', () => {
    const result = gather('satisfaction-after-no', '3');
    expect(result).toMatchObject({
      ok: true,
      deliveryId: `twilio:${callSid}:survey:satisfaction`,
      events: [
        {
          type: 'survey.completed',
          provider: 'twilio',
          callId: callSid,
          resolved: false,
          satisfaction: 'unsatisfied',
        },
      ],
      reply: buildSurveyGoodbyeTwiml(),
    });
    expect(gather('satisfaction-after-yes', '1')).toMatchObject({
      events: [{ resolved: true, satisfaction: 'satisfied' }],
    });
  });

  it('refuses keys that are not on the menu, offering the same question again', () => {
    for (const [step, digits] of [
      ['resolved', '3'],
      ['resolved', '0'],
      ['resolved', '*'],
      ['resolved', undefined],
      ['satisfaction-after-yes', '4'],
      ['satisfaction-after-no', '#'],
      ['satisfaction-after-no', '12'],
    ] as const) {
      const result = gather(step, digits);
      expect(result).toMatchObject({ ok: false, status: 400, code: 'keypress_not_on_menu' });
      const question = step === 'resolved' ? '已解决请按1' : '满意请按1';
      expect(!result.ok && result.reprompt).toContain(question);
    }
  });

  it('refuses a step URL we never hand out', () => {
    const pairs: Pairs = [
      ['AccountSid', accountSid],
      ['CallSid', callSid],
      ['CallStatus', 'in-progress'],
      ['Digits', '1'],
    ];
    const result = receive({ pairs, signUrl: `${publicUrl}&survey=satisfaction-after-maybe` });
    expect(result).toMatchObject({ status: 401, code: 'signature_mismatch' });
  });
});

describe('TwiML', () => {
  it('matches what the twilio library builds, escaping included', () => {
    const actionUrl = `https://h.example.gov.cn/w?tenant=a&b="c"&d='e'`;
    const prompt = '请按 <1> & "2"，谢谢';
    const ours = buildSurveyTwiml({
      question: 'resolved',
      actionUrl,
      prompt,
      voice: 'Polly.Zhiyu',
    });

    const response = new twilio.twiml.VoiceResponse();
    response
      .gather({ numDigits: 1, action: actionUrl, method: 'POST', timeout: 8 })
      .say({ language: 'zh-CN', voice: 'Polly.Zhiyu' }, prompt);
    response.say(
      { language: 'zh-CN', voice: 'Polly.Zhiyu' },
      '未收到您的按键，本次回访结束，再见。',
    );
    response.hangup();

    expect(ours).toBe(response.toString());
  });

  it('builds the standard survey questions', () => {
    const twiml = buildSurveyTwiml({ question: 'satisfaction', actionUrl: 'https://h/x' });
    expect(twiml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Gather numDigits="1" action="https:\/\/h\/x" method="POST" timeout="8"><Say language="zh-CN">[^<]*满意请按1，基本满意请按2，不满意请按3。<\/Say><\/Gather>/,
    );
    expect(buildSurveyGoodbyeTwiml()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="zh-CN">感谢您的评价，再见。</Say><Hangup/></Response>',
    );
  });

  it('escapes attribute whitespace and refuses characters XML cannot carry', () => {
    expect(buildSurveyTwiml({ question: 'resolved', actionUrl: 'https://h/x?a=1\n2' })).toContain(
      'a=1&#xA;2',
    );
    expect(() => buildSurveyTwiml({ question: 'resolved', actionUrl: 'https://h/\u0000' })).toThrow(
      TypeError,
    );
    expect(() =>
      buildSurveyTwiml({ question: 'resolved', actionUrl: 'https://h/', prompt: '\ud800' }),
    ).toThrow(TypeError);
  });

  it('derives survey URLs from the configured URL only', () => {
    expect(twilioSurveyUrl(publicUrl, 'resolved')).toBe(`${publicUrl}&survey=resolved`);
    expect(twilioSurveyUrl('https://h.example/w', 'answered')).toBe(
      'https://h.example/w?survey=answered',
    );
    expect(() => twilioSurveyUrl('/relative', 'answered')).toThrow(TypeError);
  });
});

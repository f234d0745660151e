import { now } from '#core/clock';
import { NotFoundError, ValidationError } from '#core/errors';
import { decodeBase64Strict } from '#core/phone/crypto';
import type { Received } from '#core/phone/events';
import type { HttpHeaders } from '#core/phone/http';
import { receiveStandardWebhook } from '#core/phone/standard-webhooks';
import { receiveTcccPush } from '#core/phone/tccc';
import { receiveTwilioWebhook, type TwilioReceived } from '#core/phone/twilio';
import { receivePhoneDelivery } from '#core/phone-intake';
import { type HttpEvent, type HttpResult, httpHandler, json, pathParameter } from '../lib/http.ts';
import { logger } from '../lib/logger.ts';
import { countWebhookRefused } from '../lib/metrics.ts';
import { type PhoneConfig, phoneConfig } from '../phone/config.ts';
import { phoneIntakeDeps } from '../phone/deps.ts';

/**
 * The exact bytes the sender signed. API Gateway hands binary or non-text bodies over in base64;
 * that is decoded strictly, so a body that is not what was signed never verifies by accident.
 */
function rawBytes(event: HttpEvent): Uint8Array {
  if (!event.body) return new Uint8Array();
  if (!event.isBase64Encoded) return Buffer.from(event.body, 'utf8');
  const bytes = decodeBase64Strict(event.body);
  if (!bytes) {
    throw new ValidationError('the body is not valid base64', [
      { field: '(body)', problem: 'is not valid base64' },
    ]);
  }
  return bytes;
}

function notConfigured(): never {
  throw new NotFoundError('provider: no such phone system is configured', [
    { field: 'provider', problem: 'not configured' },
  ]);
}

function verify(
  provider: string,
  config: PhoneConfig,
  headers: HttpHeaders,
  rawBody: Uint8Array,
): Received | TwilioReceived {
  const at = now();
  const window = config.eventTimeWindow ? { timeWindow: config.eventTimeWindow } : {};
  switch (provider) {
    case 'standard': {
      const c = config.standard ?? notConfigured();
      return receiveStandardWebhook({
        headers,
        rawBody,
        secrets: c.secrets,
        now: at,
        ...window,
        ...(c.toleranceSeconds !== undefined ? { toleranceSeconds: c.toleranceSeconds } : {}),
      });
    }
    case 'twilio': {
      const c = config.twilio ?? notConfigured();
      return receiveTwilioWebhook({
        headers,
        rawBody,
        publicUrl: c.publicUrl,
        authToken: c.authTokens,
        now: at,
        ...window,
        ...(c.accountSid ? { accountSid: c.accountSid } : {}),
        ...(c.voice ? { voice: c.voice } : {}),
      });
    }
    case 'tccc': {
      const c = config.tccc ?? notConfigured();
      return receiveTcccPush({
        headers,
        rawBody,
        credentials: c.credentials,
        now: at,
        ...window,
        ...(c.sdkAppId !== undefined ? { sdkAppId: c.sdkAppId } : {}),
      });
    }
    default:
      return notConfigured();
  }
}

const twiml = (body: string): HttpResult => ({
  statusCode: 200,
  headers: { 'content-type': 'text/xml; charset=utf-8' },
  body,
});
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/**
 * POST /webhooks/phone/{provider}: a phone system reports calls and survey results. No staff
 * credential: the request is authenticated by its signature (standard, twilio) or credentials
 * (tccc), checked on the raw bytes before anything else. Refused requests write nothing.
 */
export const handler = httpHandler(async (event) => {
  const provider = pathParameter(event, 'provider');
  const config = await phoneConfig();
  let received: ReturnType<typeof verify>;
  try {
    received = verify(provider, config, event.headers ?? {}, rawBytes(event));
  } catch (error) {
    if (error instanceof NotFoundError) countWebhookRefused('not_configured');
    throw error;
  }
  if (!received.ok) {
    countWebhookRefused(received.code);
    logger.info('phone delivery refused', {
      provider,
      status: received.status,
      code: received.code,
    });
    // A key not on the menu: ask again rather than let Twilio say "an application error".
    if ('reprompt' in received && received.reprompt) return twiml(received.reprompt);
    return json(received.status, {
      error: { code: received.code, message: received.message, fields: [] },
    });
  }
  const result = await receivePhoneDelivery(phoneIntakeDeps(), received);
  logger.info('phone delivery', {
    provider,
    deliveryId: received.deliveryId,
    outcome: result.outcome,
    events: received.events.map((e) => e.type),
    ticketIds: result.ticketIds,
    deadLetters: result.deadLetters,
    ...(received.ignored ? { ignored: received.ignored } : {}),
  });
  if (provider === 'twilio') {
    return twiml(('reply' in received && received.reply) || EMPTY_TWIML);
  }
  return json(200, {
    received: true,
    duplicate: result.outcome === 'duplicate',
    outcome: result.outcome,
    ...(result.ticketIds.length > 0 ? { ticketIds: result.ticketIds } : {}),
  });
});

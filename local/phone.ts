import { randomBytes } from 'node:crypto';
import type { PhoneConfig } from '#functions/phone/config';
import type { VirtualClock } from './clock.ts';
import { type PhoneSimulator, startPhoneSimulator } from './phone-simulator.ts';
import { startLocalSecretsManager } from './secrets-manager.ts';

export interface LocalPhone {
  /** The phone configuration the functions read (through the local Secrets Manager). */
  config: PhoneConfig;
  /** Webhook URLs per provider. */
  webhooks: Record<'standard' | 'twilio' | 'tccc', string>;
  /** The simulated phone system survey requests go to. */
  simulator: PhoneSimulator;
}

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Phone systems for the local stack: fresh secrets and credentials for each start, served to the
 * functions by a local Secrets Manager endpoint (the same PHONE_CONFIG_SECRET_ARN mechanism as
 * in AWS), and a simulated phone system that answers survey requests.
 */
export async function startLocalPhone(
  apiPort: number,
  clock: VirtualClock,
  customise: (defaults: PhoneConfig) => PhoneConfig = (c) => c,
): Promise<{ env: Record<string, string>; phone: LocalPhone; close(): Promise<void> }> {
  const api = `http://127.0.0.1:${apiPort}`;
  const webhooks = {
    standard: `${api}/webhooks/phone/standard`,
    twilio: `${api}/webhooks/phone/twilio`,
    tccc: `${api}/webhooks/phone/tccc`,
  };
  const surveySecret = newWebhookSecret();
  const answerSecret = newWebhookSecret();
  const simulator = await startPhoneSimulator({
    requestSecrets: [surveySecret],
    answerSecret,
    webhookUrl: webhooks.standard,
    now: () => clock.now(),
  });
  const config = customise({
    standard: { secrets: [answerSecret] },
    twilio: { publicUrl: webhooks.twilio, authTokens: [randomBytes(16).toString('hex')] },
    tccc: { credentials: [{ scheme: 'bearer', token: randomBytes(24).toString('base64url') }] },
    connect: {},
    surveys: { kind: 'standard', url: simulator.url, secrets: [surveySecret] },
  });
  const secrets = await startLocalSecretsManager();
  const arn = secrets.put('hotline-phone-config', JSON.stringify(config));
  return {
    env: {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      PHONE_CONFIG_SECRET_ARN: arn,
      PHONE_TENANT: 'local',
    },
    phone: { config, webhooks, simulator },
    close: async () => {
      await simulator.close();
      await secrets.close();
    },
  };
}

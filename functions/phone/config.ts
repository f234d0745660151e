import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import { env } from '#adapters/function-env';
import { parseWebhookSecret } from '#core/phone/standard-webhooks';

/** Secrets are checked for their form here; a message never contains one. */
const webhookSecret = z.string().refine(
  (value) => {
    try {
      parseWebhookSecret(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be whsec_ followed by base64 of 24 to 64 bytes' },
);
const secretText = z.string().min(16, 'must be at least 16 characters');

/**
 * The phone systems this hotline takes webhooks from and places survey calls through. In AWS
 * this JSON is a Secrets Manager secret (its ARN in PHONE_CONFIG_SECRET_ARN, read through
 * Powertools parameters and cached for five minutes, so a rotated secret takes effect within
 * that time); the local stack serves the same JSON from its local Secrets Manager endpoint.
 * Each list of secrets holds every secret currently valid: during a rotation, old and new.
 */
export const phoneConfigSchema = z.strictObject({
  standard: z
    .strictObject({
      secrets: z.array(webhookSecret).min(1),
      toleranceSeconds: z.int().min(0).max(3600).optional(),
    })
    .optional(),
  twilio: z
    .strictObject({
      /** The webhook URL exactly as configured at Twilio (signatures cover it). */
      publicUrl: z.url({ protocol: /^https?$/ }),
      authTokens: z.array(secretText).min(1),
      accountSid: z
        .string()
        .regex(/^AC[0-9a-f]{32}$/)
        .optional(),
      voice: z.string().max(64).optional(),
    })
    .optional(),
  tccc: z
    .strictObject({
      credentials: z
        .array(
          z.discriminatedUnion('scheme', [
            z.strictObject({
              scheme: z.literal('basic'),
              username: z.string().min(1),
              password: secretText,
            }),
            z.strictObject({ scheme: z.literal('bearer'), token: secretText }),
          ]),
        )
        .min(1),
      sdkAppId: z.int().optional(),
    })
    .optional(),
  connect: z.strictObject({ instanceArn: z.string().startsWith('arn:').optional() }).optional(),
  /**
   * How far from now a provider's event times may be: further out is refused with 400 naming the
   * field. Defaults (core/phone/http.ts): 30 days back, one hour ahead.
   */
  eventTimeWindow: z
    .strictObject({
      pastSeconds: z
        .int()
        .min(3600)
        .max(400 * 24 * 3600),
      futureSeconds: z
        .int()
        .min(0)
        .max(7 * 24 * 3600),
    })
    .optional(),
  /** Where callback surveys (回访) are requested; absent: survey requests fail and are recorded. */
  surveys: z
    .discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('standard'),
        url: z.url({ protocol: /^https?$/ }),
        secrets: z.array(webhookSecret).min(1),
        attempts: z.int().min(1).max(10).optional(),
      }),
      z.strictObject({
        kind: z.literal('connect'),
        instanceId: z.string().min(1),
        contactFlowId: z.string().min(1),
        sourcePhoneNumber: z.string().optional(),
        queueId: z.string().optional(),
      }),
    ])
    .optional(),
});
export type PhoneConfig = z.infer<typeof phoneConfigSchema>;

/** Names the settings that are wrong, never their values. */
export function parsePhoneConfig(raw: string): PhoneConfig {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error('phone configuration: the secret is not valid JSON');
  }
  const parsed = phoneConfigSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`phone configuration: ${where.join('; ')}`);
}

/** The tenant prefix of delivery ids and phone records (not a secret). */
export function phoneTenant(): string {
  return env('PHONE_TENANT') || 'default';
}

export async function phoneConfig(): Promise<PhoneConfig> {
  const arn = env('PHONE_CONFIG_SECRET_ARN');
  if (!arn) return {};
  const raw = await getSecret<string>(arn, { maxAge: 300 });
  if (typeof raw !== 'string') throw new Error('phone configuration: the secret is not a string');
  if (raw !== parsed?.raw) parsed = { raw, config: parsePhoneConfig(raw) };
  return parsed.config;
}

let parsed: { raw: string; config: PhoneConfig } | undefined;

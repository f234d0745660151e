import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StaffRole } from '#core/access';

/**
 * Development credentials for the local gateway. In AWS the HTTP API's JWT authorizer checks the
 * city's tokens; locally the gateway checks these HMAC-signed tokens and hands the handlers the
 * same claims, so the handlers' access rules are exercised unchanged.
 */
export interface DevClaims {
  sub: string;
  'hotline:role': StaffRole;
  'hotline:unit'?: string;
}

export function newDevSecret(): Buffer {
  return randomBytes(32);
}

function sign(secret: Buffer, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function mintDevToken(secret: Buffer, role: StaffRole, unitId?: string): string {
  const claims: DevClaims = {
    sub: unitId ? `dev-${role}-${unitId}` : `dev-${role}`,
    'hotline:role': role,
    ...(unitId ? { 'hotline:unit': unitId } : {}),
  };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `dev.${payload}.${sign(secret, payload)}`;
}

export function verifyDevToken(secret: Buffer, token: string): DevClaims | undefined {
  const [prefix, payload, signature] = token.split('.');
  if (prefix !== 'dev' || !payload || !signature) return undefined;
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DevClaims;
  } catch {
    return undefined;
  }
}

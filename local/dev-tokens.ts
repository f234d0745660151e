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
  /** Expiry in seconds since the epoch (wall-clock time, as the JWT authorizer reads it). */
  exp: number;
}

/** How long a development token is valid: a working day of demos or tests. */
export const DEV_TOKEN_LIFETIME_SECONDS = 12 * 3600;

export function newDevSecret(): Buffer {
  return randomBytes(32);
}

function sign(secret: Buffer, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function mintDevToken(
  secret: Buffer,
  role: StaffRole,
  unitId?: string,
  options: { expiresAt?: number } = {},
): string {
  const claims: DevClaims = {
    sub: unitId ? `dev-${role}-${unitId}` : `dev-${role}`,
    'hotline:role': role,
    ...(unitId ? { 'hotline:unit': unitId } : {}),
    exp: options.expiresAt ?? Math.floor(Date.now() / 1000) + DEV_TOKEN_LIFETIME_SECONDS,
  };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `dev.${payload}.${sign(secret, payload)}`;
}

/**
 * The claims of a token signed with `secret` that has not expired, as the HTTP API's JWT
 * authorizer accepts a JWT only with an `exp` in the future; anything else is undefined.
 */
export function verifyDevToken(
  secret: Buffer,
  token: string,
  nowSeconds = Date.now() / 1000,
): DevClaims | undefined {
  const [prefix, payload, signature] = token.split('.');
  if (prefix !== 'dev' || !payload || !signature) return undefined;
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  let claims: DevClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DevClaims;
  } catch {
    return undefined;
  }
  if (typeof claims.exp !== 'number' || !(claims.exp > nowSeconds)) return undefined;
  return claims;
}

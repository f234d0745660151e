import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '#functions/registry';
import { mintDevToken, newDevSecret } from '#local/dev-tokens';
import { type LocalGateway, routeAuthorizers, startGateway } from '#local/gateway';
import { synthesizeLocal } from '#local/synth';

const secret = newDevSecret();
// biome-ignore lint/suspicious/noExplicitAny: tests read whatever event the gateway built
type Json = Record<string, any>;
const invoked: { key: string; event: Json }[] = [];
let gateway: LocalGateway;
let authorizers: ReturnType<typeof routeAuthorizers>;

beforeAll(async () => {
  authorizers = routeAuthorizers(synthesizeLocal().template);
  gateway = await startGateway({
    port: 0,
    devSecret: secret,
    authorizers,
    invoke: async (key, event) => {
      invoked.push({ key, event: event as Json });
      return { statusCode: 200, body: '{}' };
    },
  });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
});

const call = (path: string, init: RequestInit = {}) => fetch(`${gateway.url}${path}`, init);
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('the local gateway applies the template’s authorizers', () => {
  it('knows every registry route from the template, link routes without an authorizer', () => {
    for (const route of ROUTES) {
      expect(authorizers.get(`${route.method} ${route.path}`), route.path).toBe(
        route.auth === 'staff' ? 'JWT' : 'NONE',
      );
    }
  });

  it('refuses an expired development token with 401, and accepts a fresh one', async () => {
    const expired = mintDevToken(secret, 'dispatcher', undefined, {
      expiresAt: Math.floor(Date.now() / 1000) - 1,
    });
    const before = invoked.length;
    const refused = await call('/metrics', bearer(expired));
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ message: 'Unauthorized' });
    expect(invoked.length).toBe(before);
    expect((await call('/metrics', bearer(mintDevToken(secret, 'dispatcher')))).status).toBe(200);
    expect(invoked.at(-1)!.event.requestContext.authorizer.jwt.claims).toMatchObject({
      'hotline:role': 'dispatcher',
      exp: expect.stringMatching(/^\d+$/),
    });
  });

  it('refuses a token without exp, as the JWT authorizer does', async () => {
    const payload = Buffer.from(
      JSON.stringify({ sub: 'x', 'hotline:role': 'dispatcher' }),
    ).toString('base64url');
    const { createHmac } = await import('node:crypto');
    const token = `dev.${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
    expect((await call('/metrics', bearer(token))).status).toBe(401);
  });

  it('hands a route without an authorizer no claims, even with a valid token, as AWS does', async () => {
    const unitToken = mintDevToken(secret, 'unit', 'water-supply');
    const response = await call('/replies/abc', bearer(unitToken));
    expect(response.status).toBe(200);
    const { event } = invoked.at(-1)!;
    expect(event.requestContext.authorizer).toBeUndefined();
    // A broken or expired credential on a link route is not the gateway's business either.
    expect((await call('/replies/abc', bearer('garbage'))).status).toBe(200);
  });

  it('answers 400 JSON naming the parameter for a malformed %-escape, without invoking anything', async () => {
    const before = invoked.length;
    const response = await call('/replies/%E0%A4%A', {});
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toMatchObject({
      error: { code: 'invalid_request', fields: [{ field: 'replyId' }] },
    });
    expect(invoked.length).toBe(before);
    const staff = await call('/tickets/%zz', bearer(mintDevToken(secret, 'operator')));
    expect(staff.status).toBe(400);
  });
});

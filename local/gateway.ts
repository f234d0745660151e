import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { type FunctionKey, ROUTES, type Route } from '#functions/registry';
import { verifyDevToken } from './dev-tokens.ts';
import { invokeFunction } from './functions.ts';
import { Throttle } from './throttle.ts';

/** API Gateway refuses payloads over 10 MB; the local gateway stops reading far earlier. */
const MAX_GATEWAY_BODY_BYTES = 1024 * 1024;

export interface LocalGateway {
  url: string;
  close(): Promise<void>;
}

export interface ExtraRoute {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

const routeKeyOf = (route: Route) => `${route.method} ${route.path}`;

function compile(route: Route) {
  const names: string[] = [];
  const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, names, regex: new RegExp(`^${pattern}$`) };
}

const compiled = ROUTES.map(compile);

/** How the deployed API authorizes each route key (`GET /tickets/{id}`), from the template. */
export type RouteAuthorizers = ReadonlyMap<string, 'JWT' | 'NONE'>;

/**
 * Each route's authorization type as the synthesized template deploys it (the local stack reads
 * it like the ASL): the local gateway applies exactly these, not what the registry intends.
 */
export function routeAuthorizers(template: {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}): RouteAuthorizers {
  const result = new Map<string, 'JWT' | 'NONE'>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const key = String(resource.Properties?.RouteKey);
    const type = resource.Properties?.AuthorizationType;
    if (type !== undefined && type !== 'JWT' && type !== 'NONE') {
      throw new Error(`the local gateway cannot apply the ${String(type)} authorizer of ${key}`);
    }
    result.set(key, type === 'JWT' ? 'JWT' : 'NONE');
  }
  return result;
}

/** A path segment that is not valid percent-encoding: API Gateway answers 400, not 500. */
class BadPathError extends Error {
  constructor(readonly parameter: string) {
    super(`path parameter ${parameter} is not valid percent-encoding`);
  }
}

function decodeSegment(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadPathError(name);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_GATEWAY_BODY_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The local stand-in for the HTTP API: the routes the template deploys, the same payload format
 * 2.0 events, and the template's authorizer per route. A JWT route answers 401 without an
 * unexpired credential and hands the handler its claims (as strings, like API Gateway); a route
 * without an authorizer never looks at credentials and hands the handler none, as in AWS.
 */
export async function startGateway(options: {
  port: number;
  host?: string;
  devSecret: Buffer;
  authorizers: RouteAuthorizers;
  extraRoutes?: ExtraRoute[];
  /** Runs the route's function (default: the local function runtime). */
  invoke?: (key: FunctionKey, event: unknown) => Promise<unknown>;
}): Promise<LocalGateway> {
  const invoke = options.invoke ?? invokeFunction;
  const host = options.host ?? '127.0.0.1';
  const throttle = new Throttle();
  const server: Server = createServer(async (req, res) => {
    let release: (() => void) | undefined;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const extra = options.extraRoutes?.find((r) => url.pathname.startsWith(r.prefix));
      if (extra) return await extra.handle(req, res);
      const method = req.method ?? 'GET';
      const match = compiled
        .filter((c) => c.route.method === method && options.authorizers.has(routeKeyOf(c.route)))
        .map((c) => ({ c, m: c.regex.exec(url.pathname) }))
        .find((x) => x.m);
      if (!match) return send(res, 404, { message: 'Not Found' });
      const { route, names } = match.c;
      // Stage throttling and reserved concurrency (API_LIMITS), before anything else runs.
      const admitted = throttle.admit(`${route.method} ${route.path}`);
      if ('retryAfter' in admitted) {
        req.resume();
        res.writeHead(429, {
          'content-type': 'application/json; charset=utf-8',
          'retry-after': String(admitted.retryAfter),
        });
        res.end(JSON.stringify({ message: 'Too Many Requests' }));
        return;
      }
      release = admitted.done;

      let claims: Record<string, string> | undefined;
      if (options.authorizers.get(routeKeyOf(route)) === 'JWT') {
        const authorization = req.headers.authorization ?? '';
        const verified = authorization.startsWith('Bearer ')
          ? verifyDevToken(options.devSecret, authorization.slice(7).trim())
          : undefined;
        if (!verified) return send(res, 401, { message: 'Unauthorized' });
        claims = Object.fromEntries(Object.entries(verified).map(([k, v]) => [k, String(v)]));
      }

      const body = await readBody(req);
      if (body === 'too-large') return send(res, 413, { message: 'Request Entity Too Large' });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      const pathParameters = Object.fromEntries(
        names.map((name, i) => [name, decodeSegment(name, match.m![i + 1]!)]),
      );
      const routeKey = `${route.method} ${route.path}`;
      const event = {
        version: '2.0',
        routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
        pathParameters,
        ...(body.length > 0
          ? { body: body.toString('utf8'), isBase64Encoded: false }
          : { isBase64Encoded: false }),
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          domainName: headers.host ?? 'localhost',
          domainPrefix: 'local',
          http: {
            method,
            path: url.pathname,
            protocol: 'HTTP/1.1',
            sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
            userAgent: headers['user-agent'] ?? '',
          },
          requestId: randomUUID(),
          routeKey,
          stage: '$default',
          time: new Date().toISOString(),
          timeEpoch: Date.now(),
          ...(claims
            ? {
                authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } },
              }
            : {}),
        },
      } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
      const result = (await invoke(route.function, event)) as APIGatewayProxyStructuredResultV2;
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      res.end(result.body ?? '');
    } catch (error) {
      if (error instanceof BadPathError) {
        return send(res, 400, {
          error: {
            code: 'invalid_request',
            message: error.message,
            fields: [{ field: error.parameter, problem: 'not valid percent-encoding' }],
          },
        });
      }
      // A handler that throws past its own error mapping is a 500 in API Gateway too.
      console.error(
        `[gateway] ${req.method} ${req.url?.split('?')[0]}: ${(error as Error)?.name}: ${(error as Error)?.message}`,
      );
      if (!res.headersSent) send(res, 500, { message: 'Internal Server Error' });
      else res.end();
    } finally {
      release?.();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { ROUTES, type Route } from '#functions/registry';
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

function compile(route: Route) {
  const names: string[] = [];
  const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, names, regex: new RegExp(`^${pattern}$`) };
}

const compiled = ROUTES.map(compile);

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
 * The local stand-in for the HTTP API: the same routes (from functions/registry.ts), the same
 * payload format 2.0 events, and the same authorizer behaviour (401 without a valid credential on
 * staff routes, claims passed to the handler).
 */
export async function startGateway(options: {
  port: number;
  host?: string;
  devSecret: Buffer;
  extraRoutes?: ExtraRoute[];
}): Promise<LocalGateway> {
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
        .filter((c) => c.route.method === method)
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
      const authorization = req.headers.authorization ?? '';
      if (authorization.startsWith('Bearer ')) {
        const verified = verifyDevToken(options.devSecret, authorization.slice(7).trim());
        if (!verified && route.auth === 'staff') return send(res, 401, { message: 'Unauthorized' });
        if (verified) claims = { ...verified } as Record<string, string>;
      } else if (route.auth === 'staff') {
        return send(res, 401, { message: 'Unauthorized' });
      }

      const body = await readBody(req);
      if (body === 'too-large') return send(res, 413, { message: 'Request Entity Too Large' });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      const pathParameters = Object.fromEntries(
        names.map((name, i) => [name, decodeURIComponent(match.m![i + 1]!)]),
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
      const result = (await invokeFunction(
        route.function,
        event,
      )) as APIGatewayProxyStructuredResultV2;
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      res.end(result.body ?? '');
    } catch (error) {
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

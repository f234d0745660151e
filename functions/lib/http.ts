import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type * as z from 'zod';
import { env } from '#adapters/function-env';
import { type Principal, STAFF_ROLES, type StaffRole } from '#core/access';
import {
  DomainError,
  PayloadTooLargeError,
  schemaProblems,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '#core/errors';
import { logger } from './logger.ts';
import { traced } from './tracer.ts';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** Requests larger than this are refused before parsing; a ticket is a few kilobytes. */
export const MAX_BODY_BYTES = 64 * 1024;

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function html(statusCode: number, body: string): HttpResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
      'referrer-policy': 'no-referrer',
    },
    body,
  };
}

function errorBody(error: DomainError) {
  return { error: { code: error.code, message: error.message, fields: error.fields } };
}

/** Validates with a zod schema and reports every problem with the field it concerns. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = schemaProblems(result.error.issues);
  throw new ValidationError(fields.map((f) => `${f.field}: ${f.problem}`).join('; '), fields);
}

function rawBody(event: HttpEvent): string {
  if (!event.body) return '';
  const body = event.isBase64Encoded
    ? Buffer.from(event.body, 'base64').toString('utf8')
    : event.body;
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`the body is larger than ${MAX_BODY_BYTES} bytes`, [
      { field: '(body)', problem: `larger than ${MAX_BODY_BYTES} bytes` },
    ]);
  }
  return body;
}

function mediaType(event: HttpEvent): string {
  return (event.headers?.['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Reads a JSON body, or a form body where the route also serves an HTML form. */
export function readBody(event: HttpEvent, options: { allowForm?: boolean } = {}): unknown {
  const body = rawBody(event);
  const type = mediaType(event);
  if (options.allowForm && type === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(body));
  }
  if (type !== 'application/json') {
    throw new UnsupportedMediaTypeError('send the body as application/json', [
      { field: 'content-type', problem: 'must be application/json' },
    ]);
  }
  if (body.trim() === '') {
    throw new ValidationError('the body is empty', [
      { field: '(body)', problem: 'must be a JSON object' },
    ]);
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new ValidationError('the body is not valid JSON', [
      { field: '(body)', problem: 'is not valid JSON' },
    ]);
  }
}

/**
 * The caller as the authorizer established it. In AWS the HTTP API's JWT authorizer has checked
 * the token; locally the gateway has checked a development token and fills in the same claims.
 */
export function principalOf(event: HttpEvent): Principal | undefined {
  const claims = event.requestContext?.authorizer?.jwt?.claims;
  if (!claims) return undefined;
  const role = claims[env('ROLE_CLAIM') ?? 'hotline:role'];
  const unit = claims[env('UNIT_CLAIM') ?? 'hotline:unit'];
  if (typeof role !== 'string' || !STAFF_ROLES.includes(role as StaffRole)) return undefined;
  return {
    subject: String(claims.sub ?? 'unknown'),
    role: role as StaffRole,
    ...(typeof unit === 'string' && unit ? { unitId: unit } : {}),
  };
}

export function requirePrincipal(event: HttpEvent): Principal {
  const principal = principalOf(event);
  if (!principal) {
    throw new UnauthorizedError('a staff credential is required', [
      { field: 'authorization', problem: 'missing, invalid or without a hotline role' },
    ]);
  }
  return principal;
}

export function pathParameter(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value)
    throw new ValidationError(`${name} is missing`, [{ field: name, problem: 'is missing' }]);
  return value;
}

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/**
 * Wraps a route handler: Powertools logging with the Lambda context, and one place that turns
 * errors into responses. Expected errors become a 4xx naming the field; anything else is a 500
 * whose body says nothing about the internals.
 */
export function httpHandler(handler: Handler) {
  return middy<HttpEvent, HttpResult>()
    .use(traced())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      try {
        return await handler(event, context);
      } catch (error) {
        if (error instanceof DomainError) {
          logger.info('request refused', {
            status: error.status,
            code: error.code,
            fields: error.fields.map((f) => f.field),
          });
          return json(error.status, errorBody(error));
        }
        logger.error('request failed', {
          errorName: (error as Error)?.name,
          errorMessage: (error as Error)?.message,
        });
        return json(500, { error: { code: 'internal', message: 'internal error' } });
      }
    });
}

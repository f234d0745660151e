import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VirtualClock } from '#local/clock';
import { DEFAULT_HOST, endpointUrl, portInUseError } from '#local/ports';
import {
  Engine,
  type ExecutionStats,
  type LambdaInvoker,
  type LocalStateMachine,
} from './engine.ts';
import { ApiError } from './errors.ts';

export type { ExecutionStats, LambdaInvoker, LocalStateMachine } from './engine.ts';
export { DefinitionError } from './errors.ts';

export interface LocalStepFunctions {
  /** e.g. `http://127.0.0.1:PORT`: the SDK's `endpoint` or `AWS_ENDPOINT_URL_SFN`. */
  url: string;
  /** Aborts running executions, then stops the server. */
  close(): Promise<void>;
  /** Throws for an execution this server never started. */
  stats(executionArn: string): ExecutionStats;
  /**
   * Resolves once every running execution waits on the virtual clock or a task token and no
   * Lambda runs: the moment a test may advance the clock. Rejects after `timeoutMs` of real time.
   */
  waitForIdle(timeoutMs?: number): Promise<void>;
}

export interface LocalStepFunctionsOptions {
  /** Omitted or 0: a free port. */
  port?: number;
  /** Omitted: 127.0.0.1. */
  host?: string;
  clock: VirtualClock;
  stateMachines: LocalStateMachine[];
  invokeLambda: LambdaInvoker;
  /** Omitted: cn-north-1. */
  region?: string;
  /** Omitted: 000000000000. */
  accountId?: string;
  /** Lambda tasks running at once (the engine's default when omitted). */
  lambdaConcurrency?: number;
}

type Body = Record<string, unknown>;
type Operation = (body: Body) => Body;

/** The service caps requests at 1 MiB of input; a little slack for the envelope. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

/**
 * A Step Functions endpoint (AWS JSON 1.0 protocol) that runs the given state machines with
 * aws-local-stepfunctions, with all time on `clock`. Signatures are not checked.
 */
export async function startLocalStepFunctions(
  options: LocalStepFunctionsOptions,
): Promise<LocalStepFunctions> {
  const engine = await Engine.create({
    clock: options.clock,
    stateMachines: options.stateMachines,
    invokeLambda: options.invokeLambda,
    region: options.region ?? 'cn-north-1',
    accountId: options.accountId ?? '000000000000',
    ...(options.lambdaConcurrency ? { lambdaConcurrency: options.lambdaConcurrency } : {}),
  });
  const operations: Record<string, Operation> = {
    StartExecution: (body) => engine.startExecution(body),
    DescribeExecution: (body) => engine.describeExecution(body),
    DescribeStateMachineForExecution: (body) => engine.describeStateMachineForExecution(body),
    ListExecutions: (body) => engine.listExecutions(body),
    StopExecution: (body) => engine.stopExecution(body),
    GetExecutionHistory: (body) => engine.getExecutionHistory(body),
    SendTaskSuccess: (body) => engine.sendTaskSuccess(body),
    SendTaskFailure: (body) => engine.sendTaskFailure(body),
    SendTaskHeartbeat: (body) => engine.sendTaskHeartbeat(body),
    DescribeStateMachine: (body) => engine.describeStateMachine(body),
    ListStateMachines: (body) => engine.listStateMachines(body),
  };

  const server = createServer((request, response) => {
    handle(operations, request, response).catch(() => {
      if (!response.headersSent)
        send(response, 500, errorBody('ServiceUnavailable', 'Internal error'));
      else response.destroy();
    });
  });
  // SDK clients keep connections alive; an idle one must not hold close() up.
  server.keepAliveTimeout = 5_000;

  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE' ? portInUseError(port, 'the Step Functions endpoint') : error,
      );
    });
    server.listen({ port, host }, () => resolve());
  });
  const address = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: endpointUrl(host, address.port),
    stats: (executionArn) => engine.stats(executionArn),
    waitForIdle: (timeoutMs) => engine.waitForIdle(timeoutMs),
    close() {
      closing ??= (async () => {
        await engine.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

async function handle(
  operations: Record<string, Operation>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const target = String(request.headers['x-amz-target'] ?? '');
  if (request.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) {
    request.resume();
    send(response, 404, errorBody('UnknownOperationException', 'Not a Step Functions request'));
    return;
  }
  const raw = await readBody(request);
  if (raw === undefined) {
    send(response, 413, errorBody('ValidationException', 'The request is too large'));
    return;
  }
  const operation = operations[target.slice(TARGET_PREFIX.length)];
  if (!operation) {
    send(response, 400, errorBody('UnknownOperationException', `Unknown operation ${target}`));
    return;
  }
  let body: Body;
  try {
    const parsed: unknown = raw.length === 0 ? {} : JSON.parse(raw);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error();
    body = parsed as Body;
  } catch {
    send(
      response,
      400,
      errorBody('SerializationException', 'The request body is not a JSON object'),
    );
    return;
  }
  try {
    send(response, 200, operation(body));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    send(response, 400, errorBody(error.type, error.message));
  }
}

function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function errorBody(type: string, message: string): Body {
  return { __type: type, message };
}

function send(response: ServerResponse, status: number, body: Body): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(status >= 400 && typeof body.__type === 'string'
      ? { 'x-amzn-errortype': body.__type }
      : {}),
  });
  response.end(text);
}

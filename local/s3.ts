import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { DEFAULT_HOST, endpointUrl, portInUseError } from './ports.ts';

const SERVICE = 'the local S3 server';

export interface LocalS3Options {
  /** Omitted: a free port. */
  port?: number;
  host?: string;
  /** Where objects are kept across restarts. Omitted: a temporary directory removed on close. */
  directory?: string;
  /** Buckets to create at start-up (existing ones are kept as they are). */
  buckets?: string[];
  /** Names the port flag in the "port in use" message, e.g. `--s3-port`. */
  portFlag?: string;
}

export interface LocalS3 {
  endpoint: string;
  port: number;
  directory: string;
  close(): Promise<void>;
}

/** The part of s3rver 3.7 used here; the package ships no type declarations. */
interface S3rverInstance {
  /** Koa's middleware stack, composed when `callback()` is called. */
  middleware: KoaMiddleware[];
  configureBuckets(): Promise<unknown>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  logger?: { close?: () => void; exceptions?: { unhandle?: () => void } };
}
interface KoaContext {
  req: NodeJS.ReadableStream;
  request: { req: IncomingMessage };
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<unknown>) => Promise<unknown>;
interface S3rverModule {
  new (options: Record<string, unknown>): S3rverInstance;
}
interface S3rverAccountModule {
  registry: Map<string, unknown>;
  DUMMY_ACCOUNT: unknown;
}

const require = createRequire(import.meta.url);

/**
 * An S3-compatible server (s3rver) for `@aws-sdk/client-s3` with `forcePathStyle: true`.
 *
 * s3rver is mounted on our own HTTP server through its Koa `callback()` instead of its `run()`,
 * because `run()` does not wire the listen error: a taken port would surface as an uncaught
 * exception instead of a rejected promise.
 */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const host = options.host ?? DEFAULT_HOST;
  const temporary = options.directory === undefined;
  const directory = temporary
    ? await mkdtemp(join(tmpdir(), 'hotline-s3-'))
    : resolve(options.directory as string);
  await mkdir(directory, { recursive: true });

  acceptAnyAccessKey();
  const S3rver = require('s3rver') as S3rverModule;
  const s3rver = new S3rver({
    directory,
    silent: true,
    // Path-style only: with virtual-host detection on, any non-IP host name other than
    // `localhost` (a container name, say) would be taken for a bucket name.
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });

  const removeTemporary = async () => {
    if (temporary) await rm(directory, { recursive: true, force: true });
  };

  s3rver.middleware.unshift(decodeAwsChunked);
  const server = createServer(s3rver.callback());
  try {
    await s3rver.configureBuckets();
    server.listen({ port: options.port ?? 0, host, exclusive: true });
    await once(server, 'listening');
  } catch (error) {
    releaseLogger(s3rver);
    await removeTemporary();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw portInUseError(options.port ?? 0, SERVICE, options.portFlag);
    }
    throw error;
  }
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    endpoint: endpointUrl(host, port),
    port,
    directory,
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((done) => server.close(() => done()));
        releaseLogger(s3rver);
        await removeTemporary();
      })();
      return closing;
    },
  };
}

function releaseLogger(s3rver: S3rverInstance): void {
  s3rver.logger?.exceptions?.unhandle?.();
  s3rver.logger?.close?.();
}

let anyAccessKey = false;

/**
 * s3rver only knows the access key `S3RVER` and answers InvalidAccessKeyId to any other. It does
 * not check SigV4 signatures at all, so letting every key map to its one dummy account changes
 * nothing else and lets handlers use whatever dummy credentials the local stack gives them.
 */
function acceptAnyAccessKey(): void {
  if (anyAccessKey) return;
  const account = require('s3rver/lib/models/account') as S3rverAccountModule;
  const { registry, DUMMY_ACCOUNT } = account;
  const known = registry.get.bind(registry);
  registry.get = (accessKeyId: string) => known(accessKeyId) ?? DUMMY_ACCOUNT;
  anyAccessKey = true;
}

/**
 * The SDK sends stream bodies `aws-chunked` (chunk framing plus a trailing checksum) when it
 * computes flexible checksums, its default since 3.729. s3rver predates that and would store the
 * framing as the object's content; unwrap it first and make the request look like a plain PUT.
 */
const decodeAwsChunked: KoaMiddleware = (ctx, next) => {
  const headers = ctx.request.req.headers;
  const encodings = String(headers['content-encoding'] ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
  const streaming = String(headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
  if (!encodings.includes('aws-chunked') && !streaming) return next();

  const rest = encodings.filter((value) => value !== 'aws-chunked');
  if (rest.length > 0) headers['content-encoding'] = rest.join(', ');
  else delete headers['content-encoding'];
  if (headers['x-amz-decoded-content-length'] !== undefined) {
    headers['content-length'] = String(headers['x-amz-decoded-content-length']);
  }
  delete headers['x-amz-decoded-content-length'];
  delete headers['x-amz-trailer'];
  headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  ctx.req = ctx.request.req.pipe(new AwsChunkedDecoder());
  return next();
};

/** `<hex size>[;extensions]\r\n<data>\r\n` ... `0\r\n<trailers>\r\n`, keeping only the data. */
export class AwsChunkedDecoder extends Transform {
  private buffered: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    try {
      this.drain();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(
      this.state === 'done' || (this.state === 'trailer' && this.buffered.length === 0)
        ? null
        : new Error('aws-chunked body ended early'),
    );
  }

  private drain(): void {
    for (;;) {
      if (this.state === 'data') {
        if (this.buffered.length === 0) return;
        const take = Math.min(this.remaining, this.buffered.length);
        this.push(this.buffered.subarray(0, take));
        this.buffered = this.buffered.subarray(take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      if (this.state === 'done') {
        this.buffered = Buffer.alloc(0);
        return;
      }
      const lineEnd = this.buffered.indexOf('\r\n');
      if (lineEnd < 0) {
        if (this.buffered.length > 64 * 1024) throw new Error('aws-chunked line too long');
        return;
      }
      const line = this.buffered.subarray(0, lineEnd).toString('latin1');
      this.buffered = this.buffered.subarray(lineEnd + 2);
      if (this.state === 'data-end') {
        if (line !== '') throw new Error('aws-chunked data not followed by CRLF');
        this.state = 'size';
      } else if (this.state === 'size') {
        const size = Number.parseInt(line.split(';')[0] ?? '', 16);
        if (!Number.isFinite(size) || size < 0) throw new Error('aws-chunked size is not hex');
        if (size === 0) {
          this.state = 'trailer';
        } else {
          this.remaining = size;
          this.state = 'data';
        }
      } else if (line === '') {
        // Trailers (e.g. x-amz-checksum-crc32) end with an empty line; their values are dropped.
        this.state = 'done';
      }
    }
  }
}

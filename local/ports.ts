import { createServer } from 'node:net';
import { PortInUseError, PrerequisiteError } from './errors.ts';

/** Loopback: local services are for this machine only unless the caller asks otherwise. */
export const DEFAULT_HOST = '127.0.0.1';

/** A port the OS reports free right now. Another process may still take it before we bind. */
export function freePort(host: string = DEFAULT_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface PortCheckOptions {
  /**
   * Interface to test. Omitted: every interface, which also catches a process bound only to
   * 127.0.0.1 or ::1 (DynamoDB Local, for one, listens on all interfaces).
   */
  host?: string;
  /** The command-line flag that picks another port, named in the error message. */
  flag?: string;
}

export function portInUseError(port: number, what: string, flag?: string): PortInUseError {
  const remedy = flag
    ? `pass ${flag} <port> to use another port, or stop the other process`
    : 'choose another port or stop the other process';
  return new PortInUseError(port, what, `port ${port} for ${what} is already in use; ${remedy}`);
}

/** Throws PortInUseError naming the service when `port` cannot be bound. */
export async function assertPortFree(
  port: number,
  what: string,
  options: PortCheckOptions = {},
): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RangeError(`${what}: ${port} is not a valid TCP port`);
  }
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(portInUseError(port, what, options.flag));
      } else if (error.code === 'EACCES') {
        reject(
          new PrerequisiteError(
            `port ${port} for ${what} needs privileges this process lacks; choose a port above 1023`,
          ),
        );
      } else {
        reject(error);
      }
    });
    const listenOptions = options.host ? { port, host: options.host } : { port };
    server.listen({ ...listenOptions, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** `http://host:port`, with IPv6 literals bracketed. */
export function endpointUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

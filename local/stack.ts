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
import { FUNCTIONS, type FunctionKey } from '#functions/registry';
import {
  bulletinRunRoute,
  bulletinSiteRoute,
  runBulletinSchedule,
  runSchedule,
  startBulletinRun,
} from './bulletin.ts';
import { type ClockState, VirtualClock } from './clock.ts';
import { mintDevToken, newDevSecret } from './dev-tokens.ts';
import { startDynamoDbLocal } from './dynamodb.ts';
import { configureFunctions, invokeFunction } from './functions.ts';
import { type ExtraRoute, routeAuthorizers, startGateway } from './gateway.ts';
import { type LocalPhone, startLocalPhone } from './phone.ts';
import { assertPortFree, freePort } from './ports.ts';
import { startLocalS3 } from './s3.ts';
import { startLocalSes } from './ses.ts';
import { startLocalStepFunctions } from './stepfunctions/server.ts';
import { type LocalStreams, startLocalStreams } from './streams.ts';
import { LOCAL_REGION, type LocalResources, synthesizeLocal } from './synth.ts';

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
  /** The Step Functions endpoint; its waitForIdle also waits for the stream consumers. */
  sfn: Awaited<ReturnType<typeof startLocalStepFunctions>>;
  /** The table's stream consumers (event source mappings) and their dead letters. */
  streams: LocalStreams;
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
/** The tenant prefix of the local phone records (PHONE_TENANT). */
export const LOCAL_PHONE_TENANT = 'local';
export const LOCAL_DISPATCH_MODEL_BUCKET = 'hotline-12345-dispatch-models';
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
      buckets: [LOCAL_BULLETIN_BUCKET, LOCAL_DISPATCH_MODEL_BUCKET, LOCAL_ANALYTICS_BUCKET],
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
    // The local settings go in as CDK context, so the template itself carries them and each
    // function's environment is read from it exactly as AWS would set it.
    const settings = {
      mailFrom: 'no-reply@12345.qingshan.example.gov.cn',
      centreMail: 'dispatch@12345.qingshan.example.gov.cn',
      supervisorMail: 'supervision@12345.qingshan.example.gov.cn',
      publicBaseUrl: `http://127.0.0.1:${apiPort}`,
      bulletinReviewers: 'bulletin-review@12345.qingshan.example.gov.cn',
      bulletinSubscribers: 'bulletin-subscribers@qingshan.example.gov.cn',
    };
    const assembly = synthesizeLocal(dataDir ? join(dataDir, 'cdk.out') : undefined, {
      'hotline:sesFromAddress': settings.mailFrom,
      'hotline:centreMail': settings.centreMail,
      'hotline:supervisorMail': settings.supervisorMail,
      'hotline:publicBaseUrl': settings.publicBaseUrl,
      'hotline:bulletinReviewers': settings.bulletinReviewers,
      'hotline:bulletinSubscribers': settings.bulletinSubscribers,
      'hotline:lifecycleConfig': lifecycleConfig,
      'hotline:phoneTenant': LOCAL_PHONE_TENANT,
    });
    const lifecycle = assembly.stateMachines.find((m) => m.logicalId === 'TicketLifecycle');
    if (!lifecycle) throw new Error('the CDK app has no TicketLifecycle state machine');
    const bulletinRun = assembly.stateMachines.find((m) => m.logicalId === 'BulletinRun');
    if (!bulletinRun) throw new Error('the CDK app has no BulletinRun state machine');

    const phone = await startLocalPhone(apiPort, clock, options.phoneConfig);
    closers.push(() => phone.close());
    Object.assign(process.env, phone.env);

    // The local stack's own code (resuming tickets, tools, tests) reads these; the functions
    // never do: each runs with its template environment only (configureFunctions below).
    const endpoints = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SES: ses.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: phone.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '',
    };
    // Embedded-metric lines are for CloudWatch; locally they would only crowd the console.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    Object.assign(process.env, endpoints, {
      TABLE_NAME: table,
      MAIL_FROM: settings.mailFrom,
      CENTRE_MAIL: settings.centreMail,
      SUPERVISOR_MAIL: settings.supervisorMail,
      PUBLIC_BASE_URL: settings.publicBaseUrl,
      LIFECYCLE_STATE_MACHINE_ARN: lifecycle.arn,
      BULLETIN_BUCKET: LOCAL_BULLETIN_BUCKET,
      BULLETIN_REVIEWERS: settings.bulletinReviewers,
      BULLETIN_SUBSCRIBERS: settings.bulletinSubscribers,
      DISPATCH_MODEL_BUCKET: LOCAL_DISPATCH_MODEL_BUCKET,
      LIFECYCLE_CONFIG: JSON.stringify(lifecycleConfig),
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
      ...lambdaConcurrencyFromEnv(),
      invokeLambda: (arn, payload) => {
        const key = assembly.functionsByArn.get(arn);
        if (!key) throw new Error(`no local function for ${arn}`);
        return invokeFunction(key as FunctionKey, payload);
      },
    });
    closers.push(() => sfn.close());
    process.env.AWS_ENDPOINT_URL_SFN = sfn.url;
    const locals: LocalResources = {
      'AWS::DynamoDB::GlobalTable': table,
      BulletinBucket: LOCAL_BULLETIN_BUCKET,
      DispatchModelBucket: LOCAL_DISPATCH_MODEL_BUCKET,
      AnalyticsBucket: LOCAL_ANALYTICS_BUCKET,
      AthenaResults: 'hotline-12345-athena-results',
      AnalyticsSalt: 'local-analytics-salt',
      'AWS::SecretsManager::Secret': phone.env.PHONE_CONFIG_SECRET_ARN,
    };
    const analyticsSalt = analyticsSaltIn(dataDir);
    configureFunctions({
      environment: (key) => ({
        ...analyticsStandIns(
          assembly.functionEnvironment(key, locals),
          s3.directory,
          analyticsSalt,
        ),
        ...endpoints,
        AWS_ENDPOINT_URL_SFN: sfn.url,
        AWS_LAMBDA_FUNCTION_NAME: key,
      }),
      actions: (key) => assembly.functionActions.get(key) ?? [],
    });
    closers.push(async () => configureFunctions(undefined));

    const raw = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: LOCAL_REGION });
    const documents = DynamoDBDocumentClient.from(raw);
    await ensureTable(raw, table);
    await putCatalogue(documents, table, catalogueSchema.parse(sampleCounty));
    // The table's stream consumers, as the CDK app's event source mappings declare them.
    const streams = await startLocalStreams({
      endpoint: dynamodb.endpoint,
      region: LOCAL_REGION,
      table,
      consumers: Object.entries(FUNCTIONS).flatMap(([key, spec]) =>
        'stream' in spec
          ? [
              {
                name: key,
                source: spec.stream,
                invoke: (event) => invokeFunction(key as FunctionKey, event),
              },
            ]
          : [],
      ),
      ...(dataDir ? { deadLetterFile: join(dataDir, 'stream-dead-letters.jsonl') } : {}),
    });
    closers.push(() => streams.close());
    // Scheduled work the clock set off (resume-stalled, a bulletin run's start) and not yet
    // done: idle waits for it, or how often a schedule fires depends on the machine's speed.
    const scheduled = new Set<Promise<unknown>>();
    const tracked = <T>(work: Promise<T>): Promise<T> => {
      scheduled.add(work);
      const done = () => scheduled.delete(work);
      work.then(done, done);
      return work;
    };
    // Idle means the stream consumers too: a stored ticket's execution starts from the stream.
    const settle = async (timeoutMs?: number) => {
      for (;;) {
        while (scheduled.size > 0) await Promise.allSettled([...scheduled]);
        await streams.drain();
        const mark = streams.delivered();
        await sfn.waitForIdle(timeoutMs);
        await streams.drain();
        if (streams.delivered() === mark && scheduled.size === 0) return;
      }
    };

    const devSecret = devSecretIn(dataDir);
    let manualRuns = 0;
    const startBulletin = (name = `manual-${clock.nowMs()}-${++manualRuns}`) =>
      startBulletinRun(sfn.url, bulletinRun.arn, name);
    const stopSchedule = runBulletinSchedule(
      assembly,
      clock,
      (name) => tracked(startBulletin(name)),
      (error) => console.error(`bulletin schedule: ${(error as Error).message}`),
    );
    closers.push(async () => stopSchedule());
    // Functions the CDK app runs on a schedule (resume-stalled), fired on the virtual clock.
    for (const [key, spec] of Object.entries(FUNCTIONS)) {
      if (!('schedule' in spec)) continue;
      const stop = runSchedule(
        spec.schedule,
        undefined,
        clock,
        () => tracked(invokeFunction(key as FunctionKey, {})),
        (error) => console.error(`${key} schedule: ${(error as Error).message}`),
      );
      closers.push(async () => stop());
    }
    const extraRoutes: ExtraRoute[] = [
      clockRoute(clock),
      bulletinSiteRoute(s3.endpoint, LOCAL_BULLETIN_BUCKET),
      bulletinRunRoute(() => startBulletin()),
    ];
    const gateway = await startGateway({
      port: apiPort,
      devSecret,
      authorizers: routeAuthorizers(assembly.template),
      extraRoutes,
    });
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
      sfn: { ...sfn, waitForIdle: settle },
      streams,
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

/**
 * Athena has no local endpoint: an analytics function's template environment points at the
 * workgroup, the Glue database and the salt secret; locally DuckDB, the embedded engine, reads
 * the same Parquet files where the local S3 keeps them, with the SQL files of the checkout and a
 * salt from the data folder. Nothing else of the template environment changes.
 */
function analyticsStandIns(
  environment: Record<string, string>,
  s3Directory: string,
  salt: string,
): Record<string, string> {
  if (!environment.ANALYTICS_BUCKET) return environment;
  const {
    ANALYTICS_WORKGROUP: _workgroup,
    ANALYTICS_DATABASE: _database,
    ANALYTICS_SALT_SECRET_ARN: _secret,
    // The SQL files are read from the checkout's sql/analytics/ (adapters/analytics/sql-files.ts).
    ANALYTICS_SQL_DIR: _bundledSql,
    ...kept
  } = environment;
  return {
    ...kept,
    ANALYTICS_FILES: join(
      s3Directory,
      LOCAL_ANALYTICS_BUCKET,
      'tickets',
      'dt=*',
      '*.parquet._S3rver_object',
    ),
    ANALYTICS_SALT: salt,
  };
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

/** `LOCAL_LAMBDA_CONCURRENCY`: how many Lambda tasks the local Step Functions run at once. */
function lambdaConcurrencyFromEnv(): { lambdaConcurrency?: number } {
  const raw = process.env.LOCAL_LAMBDA_CONCURRENCY;
  if (raw === undefined || raw === '') return {};
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`LOCAL_LAMBDA_CONCURRENCY must be a whole number ≥ 1, not '${raw}'`);
  }
  return { lambdaConcurrency: value };
}

import { readFileSync } from 'node:fs';
import {
  Arn,
  ArnFormat,
  CfnOutput,
  type CfnResource,
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  TimeZone,
} from 'aws-cdk-lib';
import { type CfnStage, CorsHttpMethod, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AttributeType,
  Billing,
  ProjectionType,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Schedule as EventsSchedule, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  Architecture,
  type CfnFunction,
  FilterCriteria,
  type Function as LambdaFunction,
  LoggingFormat,
  Runtime,
  StartingPosition,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { INDEXES, projectionOf, TABLE_KEYS } from '../adapters/dynamodb/keys.ts';
import { TTL_ATTRIBUTE } from '../adapters/dynamodb/schema.ts';
import type { LifecycleConfig } from '../core/config.ts';
import {
  API_LIMITS,
  FUNCTIONS,
  type FunctionKey,
  type FunctionSpec,
  ROUTES,
} from '../functions/registry.ts';
import { bulletinWorkflow } from '../workflows/bulletin.ts';
import { dispatchRetrainWorkflow } from '../workflows/dispatch-retrain.ts';
import { ticketLifecycle } from '../workflows/ticket-lifecycle.ts';
import { type AccessTargets, declaredEnvironment, grantDeclared } from './access.ts';
import { addAlarms, SCHEDULE_RETRIES } from './alarms.ts';
import { analyticsBundling, analyticsInfra } from './analytics.ts';
import {
  dataBesideBundle,
  externalModules,
  JIEBA,
  LAMBDA_BUNDLING,
  usesJieba,
} from './bundling.ts';

export interface HotlineStackProps extends StackProps {
  /** The sender address (an SES-verified identity). */
  mailFrom: string;
  /** Where the hotline centre is told about decisions waiting for it (comma-separated). */
  centreMail: string;
  /** Where supervisors (督办) hear of overdue tickets (comma-separated). */
  supervisorMail: string;
  /** Time limits and thresholds, validated at synthesis (see core/config.ts). */
  lifecycleConfig: LifecycleConfig;
  sesConfigurationSet?: string;
  /** The OIDC issuer and audience of the staff JWTs (e.g. the city's identity provider). */
  jwtIssuer: string;
  jwtAudience: string[];
  /** The public base URL units' reply links point at (a custom domain of the HTTP API). */
  publicBaseUrl?: string;
}

/** jieba ships beside the bundle, installed for the functions' platform (linux arm64 glibc). */
const JIEBA_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    dependencies: Record<string, string>;
  }
).dependencies[JIEBA];
/**
 * What a bundle carries beside the code: jieba for the function's own platform, the dispatch seed
 * model, and for the analytics functions their SQL files and (the sink) DuckDB, installed on the
 * x86_64 host.
 */
function nativeBundling(key: string, spec: FunctionSpec, cpu: 'arm64' | 'x64') {
  const analytics = spec.analytics ? analyticsBundling(key) : undefined;
  if (!analytics && !usesJieba(spec) && !spec.dispatchModel) return {};
  return {
    ...(analytics && 'nodeModules' in analytics ? { nodeModules: analytics.nodeModules } : {}),
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (input: string, output: string) => [
        ...(analytics ? analytics.commandHooks.afterBundling(input, output) : []),
        ...dataBesideBundle(spec, input, output),
        ...(usesJieba(spec)
          ? [
              `cd "${output}" && npm install --no-save --no-package-lock --no-audit --no-fund --os=linux --cpu=${cpu} --libc=glibc ${JIEBA}@${JIEBA_VERSION}`,
            ]
          : []),
      ],
    },
  };
}

/**
 * The bulletin run's settings, from CDK context (`-c hotline:bulletinSchedule=…`): an EventBridge
 * Scheduler cron in Asia/Shanghai (default 09:00 on the 1st of each month), the reviewers' and
 * subscribers' addresses (comma-separated), the approval timeout and the public site address.
 */
function bulletinSettings(scope: Construct) {
  const get = (key: string) => String(scope.node.tryGetContext(`hotline:${key}`) ?? '');
  return {
    schedule: get('bulletinSchedule') || 'cron(0 9 1 * ? *)',
    approvalTimeoutHours: Number(get('bulletinApprovalHours') || 7 * 24),
    reviewers: get('bulletinReviewers') || 'bulletin-review@12345.example.gov.cn',
    subscribers: get('bulletinSubscribers'),
    siteUrl: get('bulletinSiteUrl'),
    maxCases: get('bulletinMaxCases') || '20',
  };
}

function reservedConcurrency(key: FunctionKey): { reservedConcurrentExecutions?: number } {
  const limited = ROUTES.filter((r) => r.function === key)
    .map((r) => API_LIMITS.routes[`${r.method} ${r.path}`])
    .filter((l) => l !== undefined);
  if (limited.length === 0) return {};
  return { reservedConcurrentExecutions: Math.max(...limited.map((l) => l.concurrency)) };
}

/** Marks each Lambda with its registry key, which the local stack uses to find the handler. */
export const FUNCTION_KEY_METADATA = 'hotline:function';

export class HotlineStack extends Stack {
  constructor(scope: Construct, id: string, props: HotlineStackProps) {
    super(scope, id, props);

    // One customer-managed key for the table, the bulletin bucket and the phone secret, when a
    // city's rules ask for it (`-c hotline:kms=true`); AWS-managed encryption otherwise.
    const dataKey =
      String(this.node.tryGetContext('hotline:kms') ?? '') === 'true'
        ? new Key(this, 'DataKey', {
            description: '12345 hotline: tickets, bulletins and phone-system secrets',
            enableKeyRotation: true,
            removalPolicy: RemovalPolicy.RETAIN,
          })
        : undefined;

    const table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      encryption: dataKey
        ? TableEncryptionV2.customerManagedKey(dataKey)
        : TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // Stream consumers (functions/registry.ts `stream`): at most two, as AWS advises per stream:
      // stream-workflow and analytics-sink.
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // CloudFormation cannot change an existing index's projection: a table deployed with another
      // one needs that index removed in one deployment and added back in the next.
      globalSecondaryIndexes: Object.values(INDEXES).map((index) => {
        const { ProjectionType: projection, NonKeyAttributes } = projectionOf(index);
        return {
          indexName: index.name,
          partitionKey: { name: index.partition, type: AttributeType.STRING },
          sortKey: { name: index.sort, type: AttributeType.STRING },
          projectionType: ProjectionType[projection],
          ...(NonKeyAttributes ? { nonKeyAttributes: NonKeyAttributes } : {}),
        };
      }),
    });

    // Stable logical ids: renaming a construct must never replace the table.
    (table.node.defaultChild as CfnResource).overrideLogicalId('TicketTable');

    const bulletins = new Bucket(this, 'BulletinBucket', {
      ...(dataKey
        ? { encryption: BucketEncryption.KMS, encryptionKey: dataKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // 智能派单: every dispatch model version, and the pointer to the promoted one.
    const dispatchModels = new Bucket(this, 'DispatchModelBucket', {
      ...(dataKey
        ? { encryption: BucketEncryption.KMS, encryptionKey: dataKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // A fixed name lets the functions be granted SendTaskSuccess without a dependency cycle
    // (state machine → functions → their policies → state machine).
    const lifecycleName = `${this.stackName}-ticket-lifecycle`;
    const lifecycleArn = Arn.format(
      {
        service: 'states',
        resource: 'stateMachine',
        resourceName: lifecycleName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      },
      this,
    );

    const bulletin = bulletinSettings(this);
    const bulletinRunName = `${this.stackName}-bulletin`;
    const bulletinRunArn = Arn.format(
      {
        service: 'states',
        resource: 'stateMachine',
        resourceName: bulletinRunName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      },
      this,
    );

    // Phone-system webhooks: the JSON of functions/phone/config.ts (webhook secrets, Twilio and
    // TCCC credentials, where surveys are requested). Deployed as "{}" (nothing configured): put
    // the real JSON into the secret; functions pick it up within five minutes.
    const phoneConfig = new Secret(this, 'PhoneConfig', {
      description: '12345 hotline: phone-system webhook secrets and credentials (JSON)',
      secretStringValue: SecretValue.unsafePlainText('{}'),
      ...(dataKey ? { encryptionKey: dataKey } : {}),
    });
    const phoneTenant = String(this.node.tryGetContext('hotline:phoneTenant') ?? 'default');

    const sesIdentityArn = Arn.format(
      {
        service: 'ses',
        resource: 'identity',
        resourceName: props.mailFrom.split('@')[1] ?? props.mailFrom,
      },
      this,
    );

    const targets: AccessTargets = {
      table,
      ...(dataKey ? { key: dataKey } : {}),
      bulletins,
      dispatchModels,
      phoneConfig,
      lifecycleArn,
      bulletinRunArn,
      sesIdentityArn,
    };
    const functions = {} as Record<FunctionKey, LambdaFunction>;
    for (const [key, spec] of Object.entries(FUNCTIONS) as [FunctionKey, FunctionSpec][]) {
      const logGroup = new LogGroup(this, `${key}-logs`, { retention: RetentionDays.SIX_MONTHS });
      const fn = new NodejsFunction(this, key, {
        entry: spec.entry,
        runtime: Runtime.NODEJS_24_X,
        // DuckDB's native module is installed on the (x86_64) build host for the sink.
        architecture: key === 'analytics-sink' ? Architecture.X86_64 : Architecture.ARM_64,
        // Retraining fits tens of thousands of labelled tickets in one invocation.
        memorySize: spec.retrain ? 3008 : 512,
        timeout: spec.retrain ? Duration.minutes(15) : Duration.seconds(20),
        // A route with its own limits gets reserved concurrency: a burst cannot starve the rest.
        ...reservedConcurrency(key),
        loggingFormat: LoggingFormat.JSON,
        logGroup,
        tracing: Tracing.ACTIVE,
        environment: {
          ...declaredEnvironment(spec, targets),
          MAIL_FROM: props.mailFrom,
          CENTRE_MAIL: props.centreMail,
          SUPERVISOR_MAIL: props.supervisorMail,
          LIFECYCLE_CONFIG: JSON.stringify(props.lifecycleConfig),
          PUBLIC_BASE_URL: props.publicBaseUrl ?? 'https://12345.example.gov.cn',
          POWERTOOLS_SERVICE_NAME: 'hotline-12345',
          POWERTOOLS_METRICS_NAMESPACE: 'Hotline12345',
          // Error messages may name a caller: traces keep the error's name only.
          POWERTOOLS_TRACER_CAPTURE_ERROR: 'false',
          ...(props.sesConfigurationSet
            ? { SES_CONFIGURATION_SET: props.sesConfigurationSet }
            : {}),
          PHONE_TENANT: phoneTenant,
          ...(spec.bulletin
            ? {
                BULLETIN_REVIEWERS: bulletin.reviewers,
                BULLETIN_SUBSCRIBERS: bulletin.subscribers,
                BULLETIN_MAX_CASES: bulletin.maxCases,
                ...(bulletin.siteUrl ? { BULLETIN_SITE_URL: bulletin.siteUrl } : {}),
              }
            : {}),
        },
        bundling: {
          ...LAMBDA_BUNDLING,
          format: OutputFormat.ESM,
          mainFields: [...LAMBDA_BUNDLING.mainFields],
          externalModules: externalModules(spec),
          ...nativeBundling(key, spec, key === 'analytics-sink' ? 'x64' : 'arm64'),
        },
      });
      (fn.node.defaultChild as CfnFunction).addMetadata(FUNCTION_KEY_METADATA, key);
      grantDeclared(fn, spec, targets);
      functions[key] = fn;
    }

    // Events and schedules AWS could not deliver after its retries land here, and alarm.
    const deadLetters = (id: string) =>
      new Queue(this, id, {
        retentionPeriod: Duration.days(14),
        enforceSSL: true,
        ...(dataKey
          ? { encryption: QueueEncryption.KMS, encryptionMasterKey: dataKey }
          : { encryption: QueueEncryption.SQS_MANAGED }),
      });

    const analytics = analyticsInfra(this, functions, {
      dailySchedule: String(
        this.node.tryGetContext('hotline:analyticsDaily') ?? 'cron(30 7 * * ? *)',
      ),
      monthlySchedule: String(
        this.node.tryGetContext('hotline:analyticsMonthly') ?? 'cron(0 8 1 * ? *)',
      ),
      bytesScannedLimit: Number(
        this.node.tryGetContext('hotline:analyticsBytesScannedLimit') ?? 10 * 1024 ** 3,
      ),
      deadLetters,
    });

    const lifecycle = new StateMachine(this, 'TicketLifecycle', {
      stateMachineName: lifecycleName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(
        ticketLifecycle(this, {
          nextStep: functions['next-step'],
          route: functions['route-ticket'],
          awaitUnit: functions['await-unit'],
          awaitCentre: functions['await-centre'],
          survey: functions['survey-caller'],
          chase: functions['chase-ticket'],
          close: functions['close-ticket'],
          stall: functions['stall-ticket'],
        }),
      ),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'TicketLifecycleLogs', {
          retention: RetentionDays.SIX_MONTHS,
        }),
        level: LogLevel.ERROR,
        // Execution data is ticket ids only, but keep it out of logs all the same.
        includeExecutionData: false,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Replacing a state machine terminates its running executions: its id never changes.
    (lifecycle.node.defaultChild as CfnResource).overrideLogicalId('TicketLifecycle');

    const bulletinRun = new StateMachine(this, 'BulletinRun', {
      stateMachineName: bulletinRunName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(
        bulletinWorkflow(
          this,
          {
            collect: functions['bulletin-collect'],
            draft: functions['bulletin-draft'],
            checkPrivacy: functions['bulletin-check-privacy'],
            requestApproval: functions['bulletin-request-approval'],
            publish: functions['bulletin-publish'],
            notify: functions['bulletin-notify'],
          },
          { approvalTimeout: Duration.hours(bulletin.approvalTimeoutHours) },
        ),
      ),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'BulletinRunLogs', { retention: RetentionDays.SIX_MONTHS }),
        level: LogLevel.ERROR,
        // The privacy guard's cause holds masked excerpts of case texts: keep them out of logs.
        includeExecutionData: false,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    (bulletinRun.node.defaultChild as CfnResource).overrideLogicalId('BulletinRun');
    new Schedule(this, 'BulletinSchedule', {
      description: 'Starts the bulletin of unreasonable requests (不合理诉求通报)',
      schedule: ScheduleExpression.expression(bulletin.schedule, TimeZone.ASIA_SHANGHAI),
      target: new StepFunctionsStartExecution(bulletinRun, {
        input: ScheduleTargetInput.fromObject({}),
        ...SCHEDULE_RETRIES,
        deadLetterQueue: deadLetters('BulletinScheduleDlq'),
      }),
    });

    // 智能派单: retrained weekly from the labelled history; promoted only if not worse.
    const dispatchRetrain = new StateMachine(this, 'DispatchRetrain', {
      stateMachineName: `${this.stackName}-dispatch-retrain`,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(
        dispatchRetrainWorkflow(this, {
          train: functions['dispatch-train'],
          promote: functions['dispatch-promote'],
        }),
      ),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'DispatchRetrainLogs', {
          retention: RetentionDays.SIX_MONTHS,
        }),
        level: LogLevel.ERROR,
        includeExecutionData: false,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    (dispatchRetrain.node.defaultChild as CfnResource).overrideLogicalId('DispatchRetrain');
    new Rule(this, 'DispatchRetrainSchedule', {
      description: 'Retrains the dispatch model (智能派单) every Monday 03:00 Beijing time',
      schedule: EventsSchedule.cron({ minute: '0', hour: '19', weekDay: 'SUN' }),
      targets: [
        new SfnStateMachine(dispatchRetrain, {
          input: RuleTargetInput.fromObject({}),
          ...SCHEDULE_RETRIES,
          deadLetterQueue: deadLetters('DispatchRetrainDlq'),
        }),
      ],
    });

    // The table's stream consumers, as their registry entry says: filtered, in order per shard,
    // a failing batch bisected and retried, then set aside in an SQS queue (the on-failure
    // destination records which records were given up; their images stay in the table).
    for (const [key, spec] of Object.entries(FUNCTIONS)) {
      if (!('stream' in spec)) continue;
      const deadLetters = new Queue(this, `${key}-stream-dlq`, {
        retentionPeriod: Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      functions[key as FunctionKey].addEventSource(
        new DynamoEventSource(table, {
          startingPosition: StartingPosition.TRIM_HORIZON,
          batchSize: spec.stream.batchSize,
          retryAttempts: spec.stream.retryAttempts,
          maxRecordAge: Duration.seconds(spec.stream.maxRecordAgeSeconds),
          ...('maxBatchingWindowSeconds' in spec.stream
            ? { maxBatchingWindow: Duration.seconds(spec.stream.maxBatchingWindowSeconds) }
            : {}),
          bisectBatchOnError: true,
          reportBatchItemFailures: true,
          onFailure: new SqsDlq(deadLetters),
          filters: spec.stream.filters.map((pattern) => FilterCriteria.filter({ ...pattern })),
        }),
      );
    }

    // Scheduled functions (e.g. resume-stalled), as their registry entry says.
    for (const [key, spec] of Object.entries(FUNCTIONS)) {
      if (!('schedule' in spec)) continue;
      new Schedule(this, `${key}-schedule`, {
        description: `Runs ${key} (${spec.schedule})`,
        schedule: ScheduleExpression.expression(spec.schedule),
        target: new LambdaInvoke(functions[key as FunctionKey], {
          input: ScheduleTargetInput.fromObject({}),
          // A frequent job: a run older than its interval is superseded by the next one.
          retryAttempts: 2,
          maxEventAge: Duration.minutes(5),
          deadLetterQueue: deadLetters(`${key}-schedule-dlq`),
        }),
      });
    }

    // Amazon Connect: contact flows invoke connect-flow (associate it with the instance), and
    // contact events reach connect-events through EventBridge. Both are authenticated by AWS.
    // Only the city's own Connect instance may invoke the flow function; without an instance
    // (`-c hotline:connectInstanceArn=…`) nothing outside the account can.
    const connectInstanceArn = String(this.node.tryGetContext('hotline:connectInstanceArn') ?? '');
    if (connectInstanceArn) {
      functions['connect-flow'].addPermission('ConnectInvoke', {
        principal: new ServicePrincipal('connect.amazonaws.com'),
        sourceAccount: this.account,
        sourceArn: connectInstanceArn,
      });
    }
    new Rule(this, 'ConnectContactEvents', {
      description: 'Amazon Connect contact events to the hotline',
      eventPattern: { source: ['aws.connect'], detailType: ['Amazon Connect Contact Event'] },
      targets: [
        new LambdaTarget(functions['connect-events'], {
          retryAttempts: 8,
          deadLetterQueue: deadLetters('ConnectEventsDlq'),
        }),
      ],
    });

    const authorizer = new HttpJwtAuthorizer('StaffJwt', props.jwtIssuer, {
      jwtAudience: props.jwtAudience,
    });
    const api = new HttpApi(this, 'Api', {
      description: '12345 hotline API',
      corsPreflight: { allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST], allowOrigins: [] },
    });
    // Access logs say who called which route and how it ended; never bodies or query strings.
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.SIX_MONTHS });
    (api.defaultStage?.node.defaultChild as CfnStage).accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        time: '$context.requestTime',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        sourceIp: '$context.identity.sourceIp',
        authorizerError: '$context.authorizer.error',
      }),
    };
    // Stage throttling: beyond these the API answers 429 instead of queueing into timeouts.
    const stage = api.defaultStage?.node.defaultChild as CfnStage;
    stage.defaultRouteSettings = {
      throttlingRateLimit: API_LIMITS.default.rate,
      throttlingBurstLimit: API_LIMITS.default.burst,
    };
    stage.routeSettings = Object.fromEntries(
      Object.entries(API_LIMITS.routes).map(([routeKey, limits]) => [
        routeKey,
        { throttlingRateLimit: limits?.rate, throttlingBurstLimit: limits?.burst },
      ]),
    );
    for (const route of ROUTES) {
      api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(
          `${route.function}-integration`,
          functions[route.function],
        ),
        ...(route.auth === 'staff' ? { authorizer } : {}),
      });
    }

    addAlarms(this, {
      functions,
      stateMachines: [lifecycle, bulletinRun, dispatchRetrain, analytics.run],
      api,
    });

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'LifecycleStateMachineArn', { value: lifecycle.stateMachineArn });
    new CfnOutput(this, 'BulletinBucketName', { value: bulletins.bucketName });
    new CfnOutput(this, 'BulletinStateMachineArn', { value: bulletinRun.stateMachineArn });
    new CfnOutput(this, 'DispatchModelBucketName', { value: dispatchModels.bucketName });
    new CfnOutput(this, 'DispatchRetrainStateMachineArn', {
      value: dispatchRetrain.stateMachineArn,
    });
  }
}

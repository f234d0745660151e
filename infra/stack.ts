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
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  type CfnFunction,
  type Function as LambdaFunction,
  LoggingFormat,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { INDEXES, TABLE_KEYS } from '../adapters/dynamodb/keys.ts';
import { TTL_ATTRIBUTE } from '../adapters/dynamodb/schema.ts';
import type { LifecycleConfig } from '../core/config.ts';
import { FUNCTIONS, type FunctionKey, ROUTES } from '../functions/registry.ts';
import { bulletinWorkflow } from '../workflows/bulletin.ts';
import { ticketLifecycle } from '../workflows/ticket-lifecycle.ts';
import { analyticsBundling, analyticsInfra } from './analytics.ts';

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

/** Marks each Lambda with its registry key, which the local stack uses to find the handler. */
export const FUNCTION_KEY_METADATA = 'hotline:function';

export class HotlineStack extends Stack {
  constructor(scope: Construct, id: string, props: HotlineStackProps) {
    super(scope, id, props);

    const table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // The table's stream: stream-workflow and analytics-sink consume it.
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      globalSecondaryIndexes: Object.values(INDEXES).map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partition, type: AttributeType.STRING },
        sortKey: { name: index.sort, type: AttributeType.STRING },
      })),
    });

    // Stable logical ids: renaming a construct must never replace the table.
    (table.node.defaultChild as CfnResource).overrideLogicalId('TicketTable');

    const bulletins = new Bucket(this, 'BulletinBucket', {
      encryption: BucketEncryption.S3_MANAGED,
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

    const functions = {} as Record<FunctionKey, LambdaFunction>;
    for (const [key, spec] of Object.entries(FUNCTIONS) as [
      FunctionKey,
      (typeof FUNCTIONS)[FunctionKey],
    ][]) {
      const logGroup = new LogGroup(this, `${key}-logs`, { retention: RetentionDays.SIX_MONTHS });
      const fn = new NodejsFunction(this, key, {
        entry: spec.entry,
        runtime: Runtime.NODEJS_24_X,
        // DuckDB's native module is installed on the (x86_64) build host for the sink.
        architecture: key === 'analytics-sink' ? Architecture.X86_64 : Architecture.ARM_64,
        memorySize: 512,
        timeout: Duration.seconds(20),
        loggingFormat: LoggingFormat.JSON,
        logGroup,
        environment: {
          TABLE_NAME: table.tableName,
          MAIL_FROM: props.mailFrom,
          CENTRE_MAIL: props.centreMail,
          SUPERVISOR_MAIL: props.supervisorMail,
          LIFECYCLE_CONFIG: JSON.stringify(props.lifecycleConfig),
          PUBLIC_BASE_URL: props.publicBaseUrl ?? 'https://12345.example.gov.cn',
          POWERTOOLS_SERVICE_NAME: 'hotline-12345',
          ...(props.sesConfigurationSet
            ? { SES_CONFIGURATION_SET: props.sesConfigurationSet }
            : {}),
          ...(spec.starts ? { LIFECYCLE_STATE_MACHINE_ARN: lifecycleArn } : {}),
          PHONE_TENANT: phoneTenant,
          ...('phone' in spec ? { PHONE_CONFIG_SECRET_ARN: phoneConfig.secretArn } : {}),
          ...('bulletin' in spec
            ? {
                BULLETIN_BUCKET: bulletins.bucketName,
                BULLETIN_REVIEWERS: bulletin.reviewers,
                BULLETIN_SUBSCRIBERS: bulletin.subscribers,
                BULLETIN_MAX_CASES: bulletin.maxCases,
                ...(bulletin.siteUrl ? { BULLETIN_SITE_URL: bulletin.siteUrl } : {}),
              }
            : {}),
        },
        bundling: {
          format: OutputFormat.ESM,
          target: 'node24',
          minify: true,
          sourceMap: true,
          mainFields: ['module', 'main'],
          // The runtime ships the AWS SDK v3, but pinning our own keeps local and cloud identical.
          externalModules: 'analytics' in spec ? ['@duckdb/node-api'] : [],
          ...('analytics' in spec ? analyticsBundling(key) : {}),
          banner: "import{createRequire}from'module';const require=createRequire(import.meta.url);",
        },
      });
      (fn.node.defaultChild as CfnFunction).addMetadata(FUNCTION_KEY_METADATA, key);
      table.grantReadWriteData(fn);
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: [lifecycleArn],
        }),
      );
      if (spec.starts) {
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ['states:StartExecution'], resources: [lifecycleArn] }),
        );
      }
      if ('phone' in spec) phoneConfig.grantRead(fn);
      if ('bulletin' in spec) {
        bulletins.grantPut(fn);
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
            resources: [bulletinRunArn],
          }),
        );
      }
      if (spec.mails) {
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ['ses:SendEmail'], resources: [sesIdentityArn] }),
        );
      }
      functions[key] = fn;
    }

    analyticsInfra(this, table, functions, {
      dailySchedule: String(
        this.node.tryGetContext('hotline:analyticsDaily') ?? 'cron(30 7 * * ? *)',
      ),
      monthlySchedule: String(
        this.node.tryGetContext('hotline:analyticsMonthly') ?? 'cron(0 8 1 * ? *)',
      ),
      bytesScannedLimit: Number(
        this.node.tryGetContext('hotline:analyticsBytesScannedLimit') ?? 10 * 1024 ** 3,
      ),
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
      }),
    });

    // Amazon Connect: contact flows invoke connect-flow (associate it with the instance), and
    // contact events reach connect-events through EventBridge. Both are authenticated by AWS.
    functions['connect-flow'].addPermission('ConnectInvoke', {
      principal: new ServicePrincipal('connect.amazonaws.com'),
      sourceAccount: this.account,
    });
    new Rule(this, 'ConnectContactEvents', {
      description: 'Amazon Connect contact events to the hotline',
      eventPattern: { source: ['aws.connect'], detailType: ['Amazon Connect Contact Event'] },
      targets: [new LambdaTarget(functions['connect-events'], { retryAttempts: 8 })],
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

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'LifecycleStateMachineArn', { value: lifecycle.stateMachineArn });
    new CfnOutput(this, 'BulletinBucketName', { value: bulletins.bucketName });
    new CfnOutput(this, 'BulletinStateMachineArn', { value: bulletinRun.stateMachineArn });
  }
}

import {
  Arn,
  ArnFormat,
  CfnOutput,
  type CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
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
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { INDEXES, TABLE_KEYS } from '../adapters/dynamodb/keys.ts';
import { TTL_ATTRIBUTE } from '../adapters/dynamodb/schema.ts';
import { FUNCTIONS, type FunctionKey, ROUTES } from '../functions/registry.ts';
import { ticketLifecycle } from '../workflows/ticket-lifecycle.ts';

export interface HotlineStackProps extends StackProps {
  /** The sender address (an SES-verified identity). */
  mailFrom: string;
  /** Where the hotline centre is told about decisions waiting for it (comma-separated). */
  centreMail: string;
  sesConfigurationSet?: string;
  /** The OIDC issuer and audience of the staff JWTs (e.g. the city's identity provider). */
  jwtIssuer: string;
  jwtAudience: string[];
  /** The public base URL units' reply links point at (a custom domain of the HTTP API). */
  publicBaseUrl?: string;
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
        architecture: Architecture.ARM_64,
        memorySize: 512,
        timeout: Duration.seconds(20),
        loggingFormat: LoggingFormat.JSON,
        logGroup,
        environment: {
          TABLE_NAME: table.tableName,
          MAIL_FROM: props.mailFrom,
          CENTRE_MAIL: props.centreMail,
          PUBLIC_BASE_URL: props.publicBaseUrl ?? 'https://12345.example.gov.cn',
          POWERTOOLS_SERVICE_NAME: 'hotline-12345',
          ...(props.sesConfigurationSet
            ? { SES_CONFIGURATION_SET: props.sesConfigurationSet }
            : {}),
          ...(spec.starts ? { LIFECYCLE_STATE_MACHINE_ARN: lifecycleArn } : {}),
        },
        bundling: {
          format: OutputFormat.ESM,
          target: 'node24',
          minify: true,
          sourceMap: true,
          mainFields: ['module', 'main'],
          // The runtime ships the AWS SDK v3, but pinning our own keeps local and cloud identical.
          externalModules: [],
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
      if (spec.mails) {
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ['ses:SendEmail'], resources: [sesIdentityArn] }),
        );
      }
      functions[key] = fn;
    }

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

    const authorizer = new HttpJwtAuthorizer('StaffJwt', props.jwtIssuer, {
      jwtAudience: props.jwtAudience,
    });
    const api = new HttpApi(this, 'Api', {
      description: '12345 hotline API',
      corsPreflight: { allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST], allowOrigins: [] },
    });
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
  }
}

import {
  Arn,
  ArnFormat,
  type CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  TimeZone,
} from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ANALYTICS_COLUMNS, DATASET_PREFIX, PARTITION } from '../core/analytics/schema.ts';
import type { FunctionKey } from '../functions/registry.ts';
import { analyticsWorkflow } from '../workflows/analytics.ts';
import { SCHEDULE_RETRIES } from './alarms.ts';

export const ANALYTICS_DATABASE = 'hotline_analytics';

/** Where the SQL files are in an analytics function's bundle (copied there at bundling). */
export const BUNDLED_SQL_DIR = '/var/task/sql/analytics/';

/**
 * The analytics functions' bundles carry the SQL files; the sink also carries DuckDB (its
 * Parquet writer, a native module installed for the x86_64 Lambda the sink runs on). The others
 * query Athena and never load DuckDB, so it stays out of their bundles.
 */
export function analyticsBundling(key: string) {
  return {
    ...(key === 'analytics-sink' ? { nodeModules: ['@duckdb/node-api'] } : {}),
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir: string, outputDir: string) => [
        `mkdir -p "${outputDir}/sql" && cp -r "${inputDir}/sql/analytics" "${outputDir}/sql/"`,
      ],
    },
  };
}

const GLUE_TYPES = { string: 'string', int: 'int', boolean: 'boolean' } as const;

/** Functions with heavy queries: DuckDB writing Parquet, detection over eight weeks. */
const HEAVY: FunctionKey[] = ['analytics-sink', 'analytics-detect', 'analytics-report'];

/**
 * The analytics store and its runs: the data set's bucket, the Glue table over it (partition
 * projection on `dt`, so new days need no crawler), the Athena workgroup with its result bucket
 * and bytes-scanned limit, the hashing salt, and the daily and
 * monthly schedules of the analytics workflow.
 */
export function analyticsInfra(
  scope: Construct,
  functions: Record<FunctionKey, LambdaFunction>,
  settings: {
    dailySchedule: string;
    monthlySchedule: string;
    bytesScannedLimit: number;
    /** The stack's dead-letter queues (encrypted, SSL only, alarmed on depth). */
    deadLetters: (id: string) => IQueue;
  },
) {
  const stack = Stack.of(scope);
  const bucket = new Bucket(scope, 'AnalyticsBucket', {
    encryption: BucketEncryption.S3_MANAGED,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const results = new Bucket(scope, 'AthenaResults', {
    encryption: BucketEncryption.S3_MANAGED,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    lifecycleRules: [{ expiration: Duration.days(30) }],
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const salt = new Secret(scope, 'AnalyticsSalt', {
    description: '12345 hotline: salt of the caller and ticket hashes in the analytics data set',
    generateSecretString: { passwordLength: 48, excludePunctuation: true },
  });

  const database = new CfnDatabase(scope, 'AnalyticsDatabase', {
    catalogId: stack.account,
    databaseInput: { name: ANALYTICS_DATABASE, description: '12345 hotline analytics' },
  });
  const location = `s3://${bucket.bucketName}/${DATASET_PREFIX}/`;
  const glueTable = new CfnTable(scope, 'AnalyticsTicketsTable', {
    catalogId: stack.account,
    databaseName: ANALYTICS_DATABASE,
    tableInput: {
      name: 'tickets',
      description: 'One row per ticket version; no personal data (see core/analytics/schema.ts)',
      tableType: 'EXTERNAL_TABLE',
      partitionKeys: [{ name: PARTITION, type: 'string' }],
      parameters: {
        classification: 'parquet',
        'projection.enabled': 'true',
        [`projection.${PARTITION}.type`]: 'date',
        [`projection.${PARTITION}.format`]: 'yyyy-MM-dd',
        [`projection.${PARTITION}.range`]: '2024-01-01,NOW',
        [`projection.${PARTITION}.interval`]: '1',
        [`projection.${PARTITION}.interval.unit`]: 'DAYS',
        'storage.location.template': `${location}${PARTITION}=\${${PARTITION}}/`,
      },
      storageDescriptor: {
        location,
        columns: ANALYTICS_COLUMNS.map((c) => ({
          name: c.name,
          type: GLUE_TYPES[c.type],
          comment: c.doc,
        })),
        inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
        outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
        serdeInfo: {
          serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        },
      },
    },
  });
  glueTable.addResourceDependency(database);
  const workgroup = new CfnWorkGroup(scope, 'AnalyticsWorkGroup', {
    name: `${stack.stackName}-analytics`,
    description: '12345 hotline analytics queries',
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: true,
      publishCloudWatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: settings.bytesScannedLimit,
      resultConfiguration: {
        outputLocation: `s3://${results.bucketName}/`,
        encryptionConfiguration: { encryptionOption: 'SSE_S3' },
      },
    },
  });

  const arn = (service: string, resource: string, resourceName: string) =>
    Arn.format(
      { service, resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
      stack,
    );
  const queryPolicy = [
    new PolicyStatement({
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
      resources: [arn('athena', 'workgroup', workgroup.name)],
    }),
    new PolicyStatement({
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
      resources: [
        arn('glue', 'catalog', '').replace(/\/$/, ''),
        arn('glue', 'database', ANALYTICS_DATABASE),
        arn('glue', 'table', `${ANALYTICS_DATABASE}/tickets`),
      ],
    }),
  ];
  for (const [key, fn] of Object.entries(functions) as [FunctionKey, LambdaFunction][]) {
    if (!key.startsWith('analytics-')) continue;
    fn.addEnvironment('ANALYTICS_BUCKET', bucket.bucketName);
    fn.addEnvironment('ANALYTICS_SQL_DIR', BUNDLED_SQL_DIR);
    if (key === 'analytics-sink') {
      fn.addEnvironment('ANALYTICS_SALT_SECRET_ARN', salt.secretArn);
      salt.grantRead(fn);
      bucket.grantPut(fn, `${DATASET_PREFIX}/*`);
      continue;
    }
    fn.addEnvironment('ANALYTICS_WORKGROUP', workgroup.name);
    fn.addEnvironment('ANALYTICS_DATABASE', ANALYTICS_DATABASE);
    for (const statement of queryPolicy) fn.addToRolePolicy(statement);
    bucket.grantRead(fn, `${DATASET_PREFIX}/*`);
    results.grantReadWrite(fn);
    if (key === 'analytics-report') bucket.grantPut(fn, 'reports/*');
  }
  for (const key of HEAVY) {
    const cfn = functions[key].node.defaultChild as CfnFunction;
    cfn.memorySize = 2048;
    cfn.timeout = 300;
  }

  const run = new StateMachine(scope, 'AnalyticsRun', {
    stateMachineName: `${stack.stackName}-analytics`,
    stateMachineType: StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromChainable(
      analyticsWorkflow(scope, {
        detect: functions['analytics-detect'],
        notify: functions['analytics-notify'],
        report: functions['analytics-report'],
      }),
    ),
    tracingEnabled: true,
    logs: {
      destination: new LogGroup(scope, 'AnalyticsRunLogs', { retention: RetentionDays.SIX_MONTHS }),
      level: LogLevel.ERROR,
      includeExecutionData: false,
    },
    removalPolicy: RemovalPolicy.RETAIN,
  });
  (run.node.defaultChild as CfnResource).overrideLogicalId('AnalyticsRun');
  new Schedule(scope, 'AnalyticsDaily', {
    description: 'Daily analytics: surges, clusters, repeat callers (预警)',
    schedule: ScheduleExpression.expression(settings.dailySchedule, TimeZone.ASIA_SHANGHAI),
    target: new StepFunctionsStartExecution(run, {
      input: ScheduleTargetInput.fromObject({}),
      ...SCHEDULE_RETRIES,
      deadLetterQueue: settings.deadLetters('AnalyticsDailyDlq'),
    }),
  });
  new Schedule(scope, 'AnalyticsMonthly', {
    description: 'Monthly analysis report (分析研判报告)',
    schedule: ScheduleExpression.expression(settings.monthlySchedule, TimeZone.ASIA_SHANGHAI),
    target: new StepFunctionsStartExecution(run, {
      input: ScheduleTargetInput.fromObject({ report: true }),
      ...SCHEDULE_RETRIES,
      deadLetterQueue: settings.deadLetters('AnalyticsMonthlyDlq'),
    }),
  });
  return { bucket, workgroup, run };
}

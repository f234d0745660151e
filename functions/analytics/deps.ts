import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SESClient } from '@aws-sdk/client-ses';
import { AthenaAnalytics } from '#adapters/analytics/athena';
import { S3Dataset } from '#adapters/analytics/s3-dataset';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { DynamoWarningStore } from '#adapters/dynamodb/warning-store';
import { SesMailer } from '#adapters/ses-mailer';
import type { AnalyticsQueries } from '#core/analytics/sql';
import type { Mailer } from '#core/ports';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * The salt of the caller and ticket hashes: a Secrets Manager secret in AWS
 * (ANALYTICS_SALT_SECRET_ARN), or ANALYTICS_SALT where there is no secret store. Without one the
 * function fails rather than hash with a guessable salt.
 */
export async function analyticsSalt(): Promise<string> {
  const arn = process.env.ANALYTICS_SALT_SECRET_ARN;
  const salt = arn ? await getSecret<string>(arn, { maxAge: 3600 }) : process.env.ANALYTICS_SALT;
  if (!salt || salt.length < 16) {
    throw new Error('ANALYTICS_SALT_SECRET_ARN or ANALYTICS_SALT (16+ characters) is not set');
  }
  return salt;
}

let dataset: S3Dataset | undefined;
export function analyticsDataset(): S3Dataset {
  dataset ??= new S3Dataset(new S3Client({ forcePathStyle: true }), required('ANALYTICS_BUCKET'));
  return dataset;
}

let queries: Promise<AnalyticsQueries> | undefined;

/**
 * The engine: Athena when a workgroup is configured (AWS), otherwise DuckDB over the files in
 * ANALYTICS_FILES (a glob over the local S3's folder). Both run the same SQL files. DuckDB is
 * loaded only when used, so a function that queries Athena does not carry its native module.
 */
export function analyticsQueries(): Promise<AnalyticsQueries> {
  queries ??= (async () => {
    const workgroup = process.env.ANALYTICS_WORKGROUP;
    if (workgroup) {
      return new AthenaAnalytics(new AthenaClient({}), workgroup, required('ANALYTICS_DATABASE'));
    }
    const { DuckDbAnalytics } = await import('#adapters/analytics/duckdb');
    return new DuckDbAnalytics(required('ANALYTICS_FILES'));
  })();
  return queries;
}

let warnings: DynamoWarningStore | undefined;
export function warningStore(): DynamoWarningStore {
  warnings ??= new DynamoWarningStore(documentClient, tableName());
  return warnings;
}

let mailer: Mailer | undefined;
export function analyticsMailer(): Mailer {
  mailer ??= new SesMailer(
    new SESClient({}),
    required('MAIL_FROM'),
    process.env.SES_CONFIGURATION_SET,
  );
  return mailer;
}

/** Who receives warnings and the monthly report: the supervisors. */
export function supervisors(): string[] {
  return (process.env.SUPERVISOR_MAIL ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SESClient } from '@aws-sdk/client-ses';
import { AthenaAnalytics } from '#adapters/analytics/athena';
import { S3Dataset } from '#adapters/analytics/s3-dataset';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { DynamoWarningStore } from '#adapters/dynamodb/warning-store';
import { env, perContainer, requiredEnv } from '#adapters/function-env';
import { SesMailer } from '#adapters/ses-mailer';
import type { AnalyticsQueries } from '#core/analytics/sql';
import type { Mailer } from '#core/ports';

/**
 * The salt of the caller and ticket hashes: a Secrets Manager secret in AWS
 * (ANALYTICS_SALT_SECRET_ARN), or ANALYTICS_SALT where there is no secret store. Without one the
 * function fails rather than hash with a guessable salt.
 */
export async function analyticsSalt(): Promise<string> {
  const arn = env('ANALYTICS_SALT_SECRET_ARN');
  const salt = arn ? await getSecret<string>(arn, { maxAge: 3600 }) : env('ANALYTICS_SALT');
  if (!salt || salt.length < 16) {
    throw new Error('ANALYTICS_SALT_SECRET_ARN or ANALYTICS_SALT (16+ characters) is not set');
  }
  return salt;
}

export const analyticsDataset = perContainer(
  () =>
    new S3Dataset(
      // Path-style addressing for S3-compatible local servers, which have no bucket host names.
      new S3Client({ forcePathStyle: Boolean(env('AWS_ENDPOINT_URL_S3')) }),
      requiredEnv('ANALYTICS_BUCKET'),
    ),
);

/**
 * The engine: Athena when a workgroup is configured (AWS), otherwise DuckDB over the files in
 * ANALYTICS_FILES (a glob over the local S3's folder). Both run the same SQL files. DuckDB is
 * loaded only when used, so a function that queries Athena does not carry its native module.
 */
export const analyticsQueries = perContainer(async (): Promise<AnalyticsQueries> => {
  const workgroup = env('ANALYTICS_WORKGROUP');
  if (workgroup) {
    return new AthenaAnalytics(new AthenaClient({}), workgroup, requiredEnv('ANALYTICS_DATABASE'));
  }
  const { DuckDbAnalytics } = await import('#adapters/analytics/duckdb');
  return new DuckDbAnalytics(requiredEnv('ANALYTICS_FILES'));
});

export const warningStore = perContainer(() => new DynamoWarningStore(documentClient, tableName()));

export const analyticsMailer = perContainer(
  (): Mailer =>
    new SesMailer(new SESClient({}), requiredEnv('MAIL_FROM'), env('SES_CONFIGURATION_SET')),
);

/** Who receives warnings and the monthly report: the supervisors. */
export function supervisors(): string[] {
  return (env('SUPERVISOR_MAIL') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

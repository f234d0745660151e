import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { AthenaAnalytics } from '#adapters/analytics/athena';
import { DuckDbAnalytics } from '#adapters/analytics/duckdb';
import { S3Dataset } from '#adapters/analytics/s3-dataset';
import type { AnalyticsQueries } from '#core/analytics/sql';

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

let queries: AnalyticsQueries | undefined;

/**
 * The engine: Athena when a workgroup is configured (AWS), otherwise DuckDB over the files in
 * ANALYTICS_FILES (a glob over the local S3's folder). Both run the same SQL files.
 */
export function analyticsQueries(): AnalyticsQueries {
  if (queries) return queries;
  const workgroup = process.env.ANALYTICS_WORKGROUP;
  queries = workgroup
    ? new AthenaAnalytics(new AthenaClient({}), workgroup, required('ANALYTICS_DATABASE'))
    : new DuckDbAnalytics(required('ANALYTICS_FILES'));
  return queries;
}

import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';

/** Dummy values: the local services accept any credentials (DynamoDB Local runs with -sharedDb). */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = Object.freeze({
  accessKeyId: 'local',
  secretAccessKey: 'local',
});

/** Endpoint of the DynamoDB Local started by test/global-setup.ts, answering by now. */
export function dynamoEndpoint(): string {
  return inject('dynamoEndpoint');
}

/** `{ endpoint, region, credentials }` for any SDK v3 client constructor. */
export function localClientConfig(endpoint: string = dynamoEndpoint()) {
  return { endpoint, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } };
}

/**
 * Environment for code that builds its clients from the environment (the handlers): the SDK
 * reads `AWS_ENDPOINT_URL_<SERVICE>` by itself. DynamoDB defaults to the shared test instance.
 */
export function localAwsEnv(
  endpoints: { dynamodb?: string; s3?: string; ses?: string; sfn?: string } = {},
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb ?? dynamoEndpoint(),
  };
  if (endpoints.s3) env.AWS_ENDPOINT_URL_S3 = endpoints.s3;
  if (endpoints.ses) env.AWS_ENDPOINT_URL_SES = endpoints.ses;
  if (endpoints.sfn) env.AWS_ENDPOINT_URL_SFN = endpoints.sfn;
  return env;
}

/** Test files share one database: give each table a name no other file will pick. */
export function uniqueTableName(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

async function waitForDynamo(): Promise<void> {
  const unavailable = inject('dynamoUnavailable');
  if (unavailable) throw new Error(unavailable);
  const client = new DynamoDBClient({ ...localClientConfig(), maxAttempts: 1 });
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(
            `DynamoDB Local at ${dynamoEndpoint()} did not answer; see the global setup's output. ` +
              `Last error: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      await sleep(100);
    }
  } finally {
    client.destroy();
  }
}

// Top-level await: a test file importing this module starts only once the database answers.
await waitForDynamo();

/**
 * A DynamoDB client with no network: its HTTP handler answers `{}` and counts in `sent.requests`
 * what really left the SDK (for tests of what wraps `send`).
 */
export function offlineDynamoDB() {
  const sent = { requests: 0 };
  const client = new DynamoDBClient({
    region: 'cn-north-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => {
        sent.requests++;
        return {
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([Buffer.from('{}')]),
          },
        };
      },
    } as never,
  });
  return { client, sent };
}

/** Test-only: every item of a table (a consistent Scan), to show what a request wrote. */
export async function scanTable(
  documents: DynamoDBDocumentClient,
  table: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

import type { TestProject } from 'vitest/node';
import { assertJava, type DynamoDbLocal, startDynamoDbLocal } from '#local/dynamodb';
import { DEFAULT_HOST, endpointUrl, freePort } from '#local/ports';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The one in-memory DynamoDB Local shared by every test file of this run. */
    dynamoEndpoint: string;
    /** Why DynamoDB Local cannot run here (no Java, say); tests that need it fail with this. */
    dynamoUnavailable: string | null;
  }
}

/**
 * Starts DynamoDB Local without waiting for it: the JVM boots (1–2 s) while vitest collects the
 * test files, and only files importing test/support/dynamodb.ts wait for it to answer. A machine
 * without Java still runs the unit tests; the integration files report what to install.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let starting: Promise<DynamoDbLocal | undefined> = Promise.resolve(undefined);
  let unavailable: string | null = null;
  const port = await freePort();
  try {
    await assertJava();
    starting = startDynamoDbLocal({ port }).catch((error: unknown) => {
      console.error(`[global-setup] ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
  } catch (error) {
    unavailable = error instanceof Error ? error.message : String(error);
  }
  project.provide('dynamoEndpoint', endpointUrl(DEFAULT_HOST, port));
  project.provide('dynamoUnavailable', unavailable);

  return async () => {
    await (await starting)?.close();
  };
}

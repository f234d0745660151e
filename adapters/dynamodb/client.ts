import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requiredEnv } from '../function-env.ts';

/**
 * One client per Lambda container, created at module load so warm invocations reuse its
 * connections. The endpoint comes from the environment (AWS_ENDPOINT_URL_DYNAMODB locally).
 */
export const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

export function tableName(): string {
  return requiredEnv('TABLE_NAME');
}

import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { INDEXES, projectionOf, TABLE_KEYS } from './keys.ts';

export const TTL_ATTRIBUTE = 'expiresAt';

/** The table's stream feeds the stream consumers (functions/registry.ts `stream`), as in AWS. */
export const STREAM_SPECIFICATION = {
  StreamEnabled: true,
  StreamViewType: 'NEW_AND_OLD_IMAGES',
} as const;

/** The table as the local stack and the tests create it; infra/ declares the same for AWS. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const indexes = Object.values(INDEXES);
  const attributes = [
    TABLE_KEYS.partition,
    TABLE_KEYS.sort,
    ...indexes.flatMap((i) => [i.partition, i.sort]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: STREAM_SPECIFICATION,
    AttributeDefinitions: attributes.map((AttributeName) => ({
      AttributeName,
      AttributeType: 'S',
    })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partition, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sort, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: indexes.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partition, KeyType: 'HASH' },
        { AttributeName: i.sort, KeyType: 'RANGE' },
      ],
      Projection: projectionOf(i),
    })),
  };
}

/** Creates the table unless it exists (a restarted local stack keeps its data). */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<'created' | 'exists'> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    // A table kept from before the stream existed gets it now (a local data directory).
    if (!Table?.StreamSpecification?.StreamEnabled) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          StreamSpecification: STREAM_SPECIFICATION,
        }),
      );
    }
    const input = createTableInput(tableName);
    const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of input.GlobalSecondaryIndexes ?? []) {
      if (present.has(index.IndexName)) continue;
      const keys = new Set(index.KeySchema?.map((k) => k.AttributeName));
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: input.AttributeDefinitions?.filter((a) =>
            keys.has(a.AttributeName),
          ),
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
    }
    return 'exists';
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
  return 'created';
}

import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { repairEmptyMaps } from '#local/streams';
import { localClientConfig } from './dynamodb.ts';

export const TEST_SALT = 'test-salt-not-secret';

/**
 * Every record on a table's stream so far, as the Lambda event source mapping would deliver it.
 * Until the shared stream runner drives analytics-sink, tests read DynamoDB Local's stream here.
 */
export async function readStreamEvent(
  endpoint: string,
  streamArn: string,
): Promise<DynamoDBStreamEvent> {
  const streams = new DynamoDBStreamsClient(localClientConfig(endpoint));
  const records: DynamoDBRecord[] = [];
  try {
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn }),
    );
    for (const shard of StreamDescription?.Shards ?? []) {
      let { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId as string,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      while (ShardIterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator }));
        for (const r of page.Records ?? []) {
          records.push({
            eventID: r.eventID as string,
            eventName: r.eventName as DynamoDBRecord['eventName'],
            eventSource: 'aws:dynamodb',
            eventVersion: r.eventVersion as string,
            awsRegion: r.awsRegion as string,
            eventSourceARN: streamArn,
            dynamodb: repairEmptyMaps(r.dynamodb) as DynamoDBRecord['dynamodb'],
          });
        }
        if (!page.Records?.length) break;
        ShardIterator = page.NextShardIterator;
      }
    }
  } finally {
    streams.destroy();
  }
  return { Records: records };
}

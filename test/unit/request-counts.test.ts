import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { runAsFunction } from '#adapters/function-env';
import { configureFunctions } from '#local/functions';
import {
  countRequests,
  STACK,
  stopCountingRequests,
  subtractCounts,
  summarizeCounts,
} from '#local/request-counts';
import { offlineDynamoDB } from '../support/dynamodb.ts';

/** The opt-in request count of `simulate --count-requests`, on a client whose requests fail. */
describe('counting AWS SDK requests by origin', () => {
  it('counts each request under the function that sent it, or the stack, with its failure', async () => {
    // Nothing listens on port 9: every request fails fast, and is still counted once.
    const client = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'cn-north-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const get = () =>
      client
        .send(new GetItemCommand({ TableName: 't', Key: { PK: { S: 'a' } } }))
        .catch(() => undefined);
    const counts = countRequests();
    try {
      await get();
      const first = structuredClone(counts);
      await runAsFunction({ name: 'get-ticket', env: {} }, get);
      await runAsFunction({ name: 'get-ticket', env: {} }, get);
      expect(counts.byOrigin).toEqual({
        [STACK]: { 'DynamoDB GetItem': 1 },
        'get-ticket': { 'DynamoDB GetItem': 2 },
      });
      expect(Object.values(counts.failures).reduce((s, n) => s + n, 0)).toBe(3);
      expect(subtractCounts(counts, first).byOrigin).toEqual({
        'get-ticket': { 'DynamoDB GetItem': 2 },
      });
      const summary = summarizeCounts(counts, 2, (o) => (o === STACK ? 'local' : undefined));
      expect(summary).toContain(
        'the system (what AWS would see): 1.00 per ticket (1.00 to DynamoDB)',
      );
      expect(summary).toContain('local: 0.50 per ticket');
    } finally {
      stopCountingRequests();
      client.destroy();
    }
    // Stopped: nothing more is counted.
    await get();
    expect(counts.byOrigin[STACK]).toEqual({ 'DynamoDB GetItem': 1 });
  });
  it("counts a call the function's role does not allow as sent and failed, with nothing sent", async () => {
    const { client, sent } = offlineDynamoDB();
    // A role allowing nothing: the local IAM check (local/functions.ts) refuses every call.
    configureFunctions({ environment: () => ({}), actions: () => [] });
    const counts = countRequests();
    try {
      const refused = await runAsFunction({ name: 'get-ticket', env: {} }, () =>
        client.send(new GetItemCommand({ TableName: 't', Key: { PK: { S: 'a' } } })).then(
          () => undefined,
          (error: Error) => error.name,
        ),
      );
      expect(refused).toBe('AccessDeniedException');
      expect(sent.requests).toBe(0);
      expect(counts.byOrigin).toEqual({ 'get-ticket': { 'DynamoDB GetItem': 1 } });
      expect(counts.failures).toEqual({ 'DynamoDB GetItem AccessDeniedException': 1 });
    } finally {
      stopCountingRequests();
      configureFunctions(undefined);
      client.destroy();
    }
  });
});

import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Client } from '@smithy/core/client';
import { afterEach, describe, expect, it } from 'vitest';
import { addSendHook, removeSendHook, SEND_HOOK_ORDER, type SendHook } from '#local/sdk-send';
import { offlineDynamoDB } from '../support/dynamodb.ts';

const get = new GetItemCommand({ TableName: 't', Key: { PK: { S: 'a' } } });

describe('the one replacement of the AWS SDK send (local/sdk-send.ts)', () => {
  afterEach(() => {
    for (const name of SEND_HOOK_ORDER) removeSendHook(name);
  });

  it('runs the hooks in the declared order, whatever order they were added in, and sends once', async () => {
    const { client, sent } = offlineDynamoDB();
    const seen: string[] = [];
    const hook =
      (name: string): SendHook =>
      async (call, next) => {
        seen.push(`${name} ${call.serviceId} ${call.command.constructor.name}`);
        expect(call.client).toBe(client);
        const output = await next();
        seen.push(`${name} answered`);
        return output;
      };
    for (const name of [...SEND_HOOK_ORDER].reverse()) addSendHook(name, hook(name));
    const output = await client.send(get);
    expect(output.$metadata.httpStatusCode).toBe(200);
    expect(sent.requests).toBe(1);
    expect(seen).toEqual([
      'count-requests DynamoDB GetItemCommand',
      'table-writes DynamoDB GetItemCommand',
      'iam DynamoDB GetItemCommand',
      'iam answered',
      'table-writes answered',
      'count-requests answered',
    ]);
    client.destroy();
  });

  it('stops the chain at a hook that rejects: nothing is sent and the outer hooks see the error', async () => {
    const { client, sent } = offlineDynamoDB();
    const failures: string[] = [];
    let inner = 0;
    addSendHook('count-requests', (_call, next) =>
      next().catch((error: Error) => {
        failures.push(error.name);
        throw error;
      }),
    );
    addSendHook('table-writes', () => {
      const refused = new Error('refused');
      refused.name = 'AccessDeniedException';
      return Promise.reject(refused);
    });
    addSendHook('iam', (_call, next) => {
      inner++;
      return next();
    });
    await expect(client.send(new PutItemCommand({ TableName: 't', Item: {} }))).rejects.toThrow(
      'refused',
    );
    expect(failures).toEqual(['AccessDeniedException']);
    expect(inner).toBe(0);
    expect(sent.requests).toBe(0);
    client.destroy();
  });

  it('replaces send once: adding a hook again replaces it, never wraps twice', async () => {
    const { client, sent } = offlineDynamoDB();
    let runs = 0;
    const counting: SendHook = (_call, next) => {
      runs++;
      return next();
    };
    addSendHook('table-writes', counting);
    const patched = Client.prototype.send;
    addSendHook('table-writes', counting);
    addSendHook('count-requests', (_call, next) => next());
    expect(Client.prototype.send).toBe(patched);
    await client.send(get);
    expect(runs).toBe(1);
    expect(sent.requests).toBe(1);
    // Removed: send calls straight through.
    removeSendHook('table-writes');
    await client.send(get);
    expect(runs).toBe(1);
    expect(sent.requests).toBe(2);
    client.destroy();
  });
});

import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { env } from '#adapters/function-env';
import { ticketDeps } from '#functions/lib/deps';
import { actionsOf, asFunction, configureFunctions, invokeFunction } from '#local/functions';
import { localAwsEnv, localClientConfig, uniqueTableName } from '../support/dynamodb.ts';

const table = uniqueTableName('runtime');
const documents = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig()));

beforeAll(async () => {
  await documents.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }],
    }),
  );
  // The shared clients read the endpoints and credentials; functions see only their own rest.
  Object.assign(process.env, localAwsEnv());
  process.env.PHONE_CONFIG_SECRET_ARN = 'arn:aws:secretsmanager:local:0:secret:process-wide';
  configureFunctions({
    environment: (key) => ({
      TABLE_NAME: table,
      MAIL_FROM: 'no-reply@example.gov.cn',
      PUBLIC_BASE_URL: `https://${key}.example.gov.cn`,
      ...(key === 'decide' ? { PHONE_CONFIG_SECRET_ARN: 'arn:decide-only' } : {}),
    }),
    actions: (key) =>
      key === 'get-ticket' ? ['dynamodb:GetItem', 'dynamodb:Query'] : ['dynamodb:*'],
  });
});

afterAll(() => {
  configureFunctions(undefined);
  delete process.env.PHONE_CONFIG_SECRET_ARN;
});

describe('the local function runtime', () => {
  it('gives each function only its own environment, never the process environment', () => {
    expect(asFunction('get-ticket', () => env('PHONE_CONFIG_SECRET_ARN'))).toBeUndefined();
    expect(asFunction('decide', () => env('PHONE_CONFIG_SECRET_ARN'))).toBe('arn:decide-only');
    expect(env('PHONE_CONFIG_SECRET_ARN')).toContain('process-wide');
  });

  it('builds module-level clients and configuration once per function, from its environment', () => {
    const a = asFunction('get-ticket', () => ticketDeps());
    const b = asFunction('decide', () => ticketDeps());
    expect(a).not.toBe(b);
    expect(asFunction('get-ticket', () => ticketDeps())).toBe(a);
    expect(a.ticketUrl('x')).toBe('https://get-ticket.example.gov.cn/tickets/x');
    expect(b.ticketUrl('x')).toBe('https://decide.example.gov.cn/tickets/x');
  });

  it('refuses an SDK call the function’s policy does not allow, as AWS does', async () => {
    const { documentClient } = await import('#adapters/dynamodb/client');
    const put = new PutCommand({ TableName: table, Item: { PK: 'a' } });
    await expect(asFunction('get-ticket', () => documentClient.send(put))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('dynamodb:PutItem'),
    });
    // Outside any function (the local stack's own code) nothing is checked.
    await documents.send(put);
    const got = await asFunction('get-ticket', () =>
      documentClient.send(new GetCommand({ TableName: table, Key: { PK: 'a' } })),
    );
    expect(got.Item).toEqual({ PK: 'a' });
    // A call the policy allows is sent: the item is in the table.
    await asFunction('decide', () =>
      documentClient.send(new PutCommand({ TableName: table, Item: { PK: 'b', by: 'decide' } })),
    );
    const written = await documents.send(new GetCommand({ TableName: table, Key: { PK: 'b' } }));
    expect(written.Item).toEqual({ PK: 'b', by: 'decide' });
  });

  it('names the IAM actions of SDK calls, transactions item by item', () => {
    expect(actionsOf('DynamoDB', new PutCommand({ TableName: 't', Item: {} }))).toEqual([
      'dynamodb:PutItem',
    ]);
    class TransactWriteCommand {
      input = { TransactItems: [{ Put: {} }, { ConditionCheck: {} }, { Put: {} }] };
    }
    expect(actionsOf('DynamoDB', new TransactWriteCommand())).toEqual([
      'dynamodb:PutItem',
      'dynamodb:ConditionCheckItem',
    ]);
    class SendTaskSuccessCommand {}
    expect(actionsOf('SFN', new SendTaskSuccessCommand())).toEqual(['states:SendTaskSuccess']);
    class GetSecretValueCommand {}
    expect(actionsOf('Secrets Manager', new GetSecretValueCommand())).toEqual([
      'secretsmanager:GetSecretValue',
    ]);
  });

  it('logs each invocation with its own function name, even while another runs', async () => {
    const lines: Record<string, unknown>[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      vi.spyOn(stream, 'write').mockImplementation((chunk, ...rest) => {
        if (!String(chunk).startsWith('{')) return write(chunk, ...(rest as []));
        lines.push(JSON.parse(String(chunk)));
        return true;
      });
    }
    const get = { requestContext: {}, pathParameters: { id: '20261130-000001' } };
    const reply = { pathParameters: { replyId: 'x'.repeat(32) }, body: '{"action":"sign"}' };
    // Loaded first (Lambda's init), so the two invocations below overlap.
    await invokeFunction('link-action', reply);
    await invokeFunction('get-ticket', get);
    lines.length = 0;
    try {
      // link-action waits on DynamoDB; meanwhile get-ticket is invoked, refused (no credential)
      // and logs. With one logger per process, link-action's line then carried get-ticket's name.
      await Promise.all([invokeFunction('link-action', reply), invokeFunction('get-ticket', get)]);
    } finally {
      vi.restoreAllMocks();
    }
    const names = lines.map((l) => [l.message, l.function_name]);
    expect(names).toEqual(
      expect.arrayContaining([
        ['request refused', 'get-ticket'],
        [expect.stringMatching(/^request /), 'link-action'],
      ]),
    );
    expect(names.filter(([, name]) => name !== 'get-ticket' && name !== 'link-action')).toEqual([]);
  });
});

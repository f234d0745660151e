import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  GetSendQuotaCommand,
  ListIdentitiesCommand,
  SESClient,
  SendEmailCommand,
  SendRawEmailCommand,
} from '@aws-sdk/client-ses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '#local/dynamodb';
import { PortInUseError, PrerequisiteError } from '#local/errors';
import { assertPortFree, freePort } from '#local/ports';
import { startLocalS3 } from '#local/s3';
import { type LocalSes, type StoredMail, startLocalSes } from '#local/ses';
import {
  dynamoEndpoint,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  localClientConfig,
  uniqueTableName,
} from '../support/dynamodb.ts';

const scratch: string[] = [];
async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hotline-test-'));
  scratch.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function createKeyTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

describe('DynamoDB Local', () => {
  it('serves the shared test instance through the injected endpoint', async () => {
    const client = new DynamoDBClient(localClientConfig());
    const table = uniqueTableName('local-services');
    await createKeyTable(client, table);
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: 'ticket#1' }, title: { S: '路灯不亮' } },
      }),
    );
    // -sharedDb: other credentials and another region see the same table. (DynamoDB Local
    // refuses access key ids with anything but letters and digits.)
    const other = new DynamoDBClient({
      endpoint: dynamoEndpoint(),
      region: 'cn-north-1',
      credentials: { accessKeyId: 'someoneElse', secretAccessKey: 'x' },
    });
    const got = await other.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'ticket#1' } } }),
    );
    expect(got.Item?.title?.S).toBe('路灯不亮');
    client.destroy();
    other.destroy();
  });

  it('keeps data in dataDir across a restart on the same port', async () => {
    const dataDir = join(await scratchDir(), 'db');
    const first = await startDynamoDbLocal({ dataDir });
    const port = first.port;
    try {
      const client = new DynamoDBClient(localClientConfig(first.endpoint));
      await createKeyTable(client, 'persisted');
      await client.send(
        new PutItemCommand({ TableName: 'persisted', Item: { pk: { S: 'k' }, v: { N: '42' } } }),
      );
      client.destroy();
    } finally {
      await first.close();
    }
    // close() resolves only once Java has exited, so the port is free again.
    const second = await startDynamoDbLocal({ dataDir, port });
    try {
      const client = new DynamoDBClient(localClientConfig(second.endpoint));
      const got = await client.send(
        new GetItemCommand({ TableName: 'persisted', Key: { pk: { S: 'k' } } }),
      );
      expect(got.Item?.v?.N).toBe('42');
      client.destroy();
    } finally {
      await second.close();
    }
  });

  it('says what to install when there is no Java', async () => {
    const missing = join(await scratchDir(), 'no-such-java');
    const error = await startDynamoDbLocal({ javaCommand: missing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrerequisiteError);
    expect((error as Error).message).toContain('apt-get install -y openjdk-17-jre-headless');
    expect((error as Error).message).toContain(missing);
  });

  it('rejects a Java older than 17', async () => {
    const fakeJava = join(await scratchDir(), 'java');
    await writeFile(fakeJava, '#!/bin/sh\necho \'openjdk version "11.0.21" 2023-10-17\' >&2\n');
    await chmod(fakeJava, 0o755);
    await expect(startDynamoDbLocal({ javaCommand: fakeJava })).rejects.toThrow(
      /needs Java 17 or newer, but .* is Java 11/,
    );
  });

  it('shows what Java printed when it dies during start-up', async () => {
    await expect(startDynamoDbLocal({ jvmArgs: ['-XX:+NoSuchOption'] })).rejects.toThrow(
      /DynamoDB Local exited with code 1 before answering requests\.\nIts output ended with:\n[\s\S]*NoSuchOption/,
    );
  });

  it('names the service and the port when the port is taken', async () => {
    const { server, port } = await occupyPort();
    try {
      const error = await startDynamoDbLocal({ port, portFlag: '--dynamodb-port' }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as Error).message).toBe(
        `port ${port} for DynamoDB Local is already in use; pass --dynamodb-port <port> to use another port, or stop the other process`,
      );
    } finally {
      server.close();
    }
  });
});

describe('ports', () => {
  it('reports a free port as free and a taken one as taken', async () => {
    const free = await freePort();
    await expect(assertPortFree(free, 'the gateway')).resolves.toBeUndefined();
    const { server, port } = await occupyPort();
    try {
      await expect(assertPortFree(port, 'the gateway')).rejects.toThrow(
        `port ${port} for the gateway is already in use; choose another port or stop the other process`,
      );
    } finally {
      server.close();
    }
  });
});

describe('local S3', () => {
  let s3: Awaited<ReturnType<typeof startLocalS3>>;
  let client: S3Client;
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['bulletins'] });
    client = new S3Client({ ...localClientConfig(s3.endpoint), forcePathStyle: true });
  });
  afterAll(async () => {
    client.destroy();
    await s3.close();
  });

  it('puts, gets and lists objects with the real SDK', async () => {
    await client.send(
      new PutObjectCommand({
        Bucket: 'bulletins',
        Key: '2026/11/通报.html',
        Body: '<h1>不合理诉求通报</h1>',
        ContentType: 'text/html; charset=utf-8',
      }),
    );
    // A stream body goes out aws-chunked with a trailing checksum.
    await client.send(
      new PutObjectCommand({
        Bucket: 'bulletins',
        Key: '2026/11/data.csv',
        Body: Readable.from([Buffer.from('a,b\n'), Buffer.from('1,2\n')]),
        ContentLength: 8,
      }),
    );
    const html = await client.send(
      new GetObjectCommand({ Bucket: 'bulletins', Key: '2026/11/通报.html' }),
    );
    expect(html.ContentType).toBe('text/html; charset=utf-8');
    expect(await html.Body?.transformToString()).toBe('<h1>不合理诉求通报</h1>');
    const csv = await client.send(
      new GetObjectCommand({ Bucket: 'bulletins', Key: '2026/11/data.csv' }),
    );
    expect(await csv.Body?.transformToString()).toBe('a,b\n1,2\n');
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: 'bulletins', Prefix: '2026/11/' }),
    );
    expect(listed.Contents?.map((object) => object.Key).sort()).toEqual([
      '2026/11/data.csv',
      '2026/11/通报.html',
    ]);
  });

  it('keeps a given directory and removes a temporary one', async () => {
    const directory = join(await scratchDir(), 's3');
    const kept = await startLocalS3({ directory, buckets: ['b'] });
    const keptClient = new S3Client({ ...localClientConfig(kept.endpoint), forcePathStyle: true });
    await keptClient.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'v' }));
    keptClient.destroy();
    await kept.close();
    const again = await startLocalS3({ directory, buckets: ['b'] });
    const againClient = new S3Client({
      ...localClientConfig(again.endpoint),
      forcePathStyle: true,
    });
    const got = await againClient.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('v');
    againClient.destroy();
    await again.close();

    const temporary = await startLocalS3();
    await temporary.close();
    await expect(readFile(join(temporary.directory, 'x'))).rejects.toThrow(/ENOENT/);
  });

  it('fails clearly when its port is taken', async () => {
    await expect(startLocalS3({ port: s3.port })).rejects.toThrow(
      `port ${s3.port} for the local S3 server is already in use`,
    );
  });
});

describe('local SES', () => {
  let dataFile: string;
  let ses: LocalSes;
  let client: SESClient;
  beforeAll(async () => {
    dataFile = join(await scratchDir(), 'outbox', 'mail.jsonl');
    ses = await startLocalSes({ dataFile });
    client = new SESClient(localClientConfig(ses.endpoint));
  });
  afterAll(async () => {
    client.destroy();
    await ses.close();
  });

  const subject = '工单 <script>alert("x")</script> & 回复';

  it('keeps SendEmail and shows it in messages(), JSON and the outbox page', async () => {
    await ses.clear();
    const sent = await client.send(
      new SendEmailCommand({
        Source: '12345热线 <noreply@hotline.example.cn>',
        Destination: {
          ToAddresses: ['unit@district.example.cn'],
          CcAddresses: ['lead@district.example.cn'],
          BccAddresses: ['audit@hotline.example.cn'],
        },
        ReplyToAddresses: ['reply@hotline.example.cn'],
        Message: {
          Subject: { Data: subject, Charset: 'UTF-8' },
          Body: {
            Text: { Data: '请处理：https://hotline.example.cn/r/abc' },
            Html: { Data: '<p>请处理 <a href="https://hotline.example.cn/r/abc">回复</a></p>' },
          },
        },
        Tags: [{ Name: 'kind', Value: 'assignment' }],
        ConfigurationSetName: 'local',
      }),
    );
    expect(sent.MessageId).toMatch(/-000000$/);

    const [mail] = ses.messages();
    expect(mail).toMatchObject({
      id: sent.MessageId,
      action: 'SendEmail',
      from: '12345热线 <noreply@hotline.example.cn>',
      to: ['unit@district.example.cn'],
      cc: ['lead@district.example.cn'],
      bcc: ['audit@hotline.example.cn'],
      replyTo: ['reply@hotline.example.cn'],
      subject,
      text: '请处理：https://hotline.example.cn/r/abc',
      tags: [{ name: 'kind', value: 'assignment' }],
      configurationSet: 'local',
    } satisfies Partial<StoredMail>);
    expect(Date.parse(mail?.time ?? '')).not.toBeNaN();

    const forUnit = await fetchJson(`${ses.outboxUrl}/messages.json?to=UNIT@district.example.cn`);
    expect(forUnit.map((m) => m.id)).toEqual([sent.MessageId]);
    const forBcc = await fetchJson(`${ses.outboxUrl}/messages.json?to=audit@hotline.example.cn`);
    expect(forBcc).toHaveLength(1);
    expect(await fetchJson(`${ses.outboxUrl}/messages.json?to=nobody@example.cn`)).toEqual([]);

    const page = await fetch(ses.outboxUrl);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('发件箱 Outbox');
    expect(html).toContain('工单 &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 回复');
    expect(html).not.toContain('<script>');
    // The mail body sits escaped inside a sandboxed srcdoc, its link still a link there.
    expect(html).toContain('sandbox="allow-popups allow-popups-to-escape-sandbox"');
    expect(html).toContain('&lt;a href=&quot;https://hotline.example.cn/r/abc&quot;&gt;');
    expect(html).toContain('&lt;base target=&quot;_blank&quot;&gt;');
  });

  it('copies the mails from an index on, for a reader that follows the outbox', async () => {
    await ses.clear();
    const send = (subjectLine: string) =>
      client.send(
        new SendEmailCommand({
          Source: 'noreply@hotline.example.cn',
          Destination: { ToAddresses: ['unit@district.example.cn'] },
          Message: { Subject: { Data: subjectLine }, Body: { Text: { Data: '请处理' } } },
        }),
      );
    await send('第一封');
    await send('第二封');
    expect(ses.messages(1).map((m) => m.subject)).toEqual(['第二封']);
    expect(ses.messages(2)).toEqual([]);
    await send('第三封');
    expect(ses.messages(2).map((m) => m.subject)).toEqual(['第三封']);
    expect(ses.messages().map((m) => m.subject)).toEqual(['第一封', '第二封', '第三封']);
    // A copy: what the reader does to it does not reach the outbox.
    ses.messages(0)[0]!.subject = '改过';
    expect(ses.messages()[0]?.subject).toBe('第一封');
  });

  it('stores SendRawEmail with its MIME decoded', async () => {
    await ses.clear();
    const raw = [
      'From: =?UTF-8?B?5biC5rCR54Ot57q/?= <noreply@hotline.example.cn>',
      'To: unit@district.example.cn',
      'Subject: =?UTF-8?B?5YWs5ZGK?= =?UTF-8?Q?_=E9=80=9A=E6=8A=A5?=',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '=E4=BD=A0=E5=A5=BD, soft=',
      'break',
      '--inner',
      'Content-Type: text/html; charset=gbk',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from([0x3c, 0x62, 0x3e, 0xc4, 0xe3, 0xba, 0xc3, 0x3c, 0x2f, 0x62, 0x3e]).toString(
        'base64',
      ),
      '--inner--',
      '--outer',
      'Content-Type: application/pdf',
      'Content-Disposition: attachment; filename="report.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4').toString('base64'),
      '--outer--',
      '',
    ].join('\r\n');
    const sent = await client.send(
      new SendRawEmailCommand({
        RawMessage: { Data: Buffer.from(raw) },
        Destinations: ['unit@district.example.cn', 'hidden@hotline.example.cn'],
      }),
    );
    const [mail] = ses.messages();
    expect(mail).toMatchObject({
      id: sent.MessageId,
      action: 'SendRawEmail',
      from: '市民热线 <noreply@hotline.example.cn>',
      to: ['unit@district.example.cn'],
      bcc: ['hidden@hotline.example.cn'],
      subject: '公告 通报',
      text: '你好, softbreak',
      html: '<b>你好</b>',
      attachments: [{ filename: 'report.pdf', contentType: 'application/pdf', size: 8 }],
      raw,
    });
    const rawPage = await fetch(`${ses.outboxUrl}/messages/${mail?.id}/raw`);
    expect(await rawPage.text()).toBe(raw);
  });

  it('answers GetSendQuota and reports unsupported actions as SES errors', async () => {
    const quota = await client.send(new GetSendQuotaCommand({}));
    expect(quota.Max24HourSend).toBeGreaterThan(0);
    expect(quota.SentLast24Hours).toBeGreaterThanOrEqual(1);

    const error = await client.send(new ListIdentitiesCommand({})).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidAction', $fault: 'client' });
    expect((error as Error).message).toContain('ListIdentities');

    const rejected = await client
      .send(
        new SendEmailCommand({
          Source: 'a@example.cn',
          Destination: { ToAddresses: [] },
          Message: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } },
        }),
      )
      .catch((e: unknown) => e);
    expect(rejected).toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('reloads mails from dataFile after a restart and clears them on DELETE', async () => {
    await ses.clear();
    await client.send(
      new SendEmailCommand({
        Source: 'a@example.cn',
        Destination: { ToAddresses: ['b@example.cn'] },
        Message: { Subject: { Data: '重启以后' }, Body: { Text: { Data: '还在' } } },
      }),
    );
    await ses.close();
    const lines = (await readFile(dataFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);

    ses = await startLocalSes({ dataFile });
    client.destroy();
    client = new SESClient({
      endpoint: ses.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    expect(ses.messages().map((m) => m.subject)).toEqual(['重启以后']);

    const cleared = await fetch(`${ses.outboxUrl}/messages`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect(ses.messages()).toEqual([]);
    expect(await readFile(dataFile, 'utf8')).toBe('');
    expect(await (await fetch(ses.outboxUrl)).text()).toContain('发件箱为空');
  });
});

async function fetchJson(url: string): Promise<StoredMail[]> {
  const response = await fetch(url);
  expect(response.headers.get('content-type')).toContain('application/json');
  return (await response.json()) as StoredMail[];
}

async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return { server, port: address.port };
}

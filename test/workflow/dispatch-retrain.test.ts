import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '#adapters/dynamodb/keys';
import { S3DispatchModelStore } from '#adapters/s3-dispatch-models';
import { readSeedModel } from '#adapters/seed-dispatch-model';
import { shanghaiDate } from '#core/calendar';
import { StoredModelClassifier } from '#core/dispatch-model/classifier';
import { classify, type DispatchModel, MODEL_FORMAT } from '#core/dispatch-model/model';
import { LOCAL_DISPATCH_MODEL_BUCKET, type LocalStack } from '#local/stack';
import { startTestStack } from '../support/local-stack.ts';

/**
 * The retraining run as synthesized from the CDK app, on the local Step Functions endpoint with
 * the real handlers, the labelled history in DynamoDB Local and the model bucket in local S3.
 * The runs build on each other, in order.
 */
const SEED_MODEL = await readSeedModel();
let stack: LocalStack;
let sfn: SFNClient;
let s3: S3Client;
let documents: DynamoDBDocumentClient;
let arn: string;

beforeAll(async () => {
  stack = await startTestStack();
  const local = {
    region: 'cn-north-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  sfn = new SFNClient({ endpoint: stack.urls.sfn, ...local });
  s3 = new S3Client({ endpoint: stack.urls.s3, forcePathStyle: true, ...local });
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.urls.dynamodb, ...local }),
  );
  const machines = await sfn.send(new ListStateMachinesCommand({}));
  arn = machines.stateMachines!.find((m) => m.name?.endsWith('dispatch-retrain'))!.stateMachineArn!;
}, 120_000);
afterAll(async () => stack?.close());

/** A wording the seed never used, for a topic: the labelled history teaches it. */
const NEW_WORDING = [
  '共享充电宝押金退不了',
  '共享充电宝归还了还在扣费',
  '租的充电宝还了押金一直不退',
  '充电宝押金九十九元申请退款没到账',
  '扫码借充电宝被多扣了钱',
  '充电宝柜机吞了充电宝还扣钱',
  '充电宝平台客服联系不上押金不退',
  '还了充电宝订单一直显示未归还',
];

async function label(texts: string[], topic: string): Promise<void> {
  const at = stack.clock.now();
  const month = shanghaiDate(at).slice(0, 7);
  const items = texts.flatMap((text, i) =>
    [0, 1, 2, 3, 4].map((v) => ({
      ...keys.dispatchLabel(
        month,
        at.toISOString(),
        `20260101-${String(i * 10 + v).padStart(6, '0')}`,
      ),
      text: `${text}${'，请处理'.repeat(v)}`,
      topic,
      by: 'person',
    })),
  );
  for (let i = 0; i < items.length; i += 25) {
    await documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [process.env.TABLE_NAME!]: items
            .slice(i, i + 25)
            .map((Item) => ({ PutRequest: { Item } })),
        },
      }),
    );
  }
}

async function run(input: Record<string, unknown>) {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify(input) }),
  );
  await stack.sfn.waitForIdle();
  const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
  const states = (history.events ?? [])
    .filter((e) => e.type?.endsWith('StateEntered'))
    .map((e) => e.stateEnteredEventDetails?.name);
  return {
    status: execution.status,
    output: JSON.parse(execution.output ?? '{}'),
    states,
    cause: execution.cause,
    error: execution.error,
  };
}

async function object<T>(key: string): Promise<T | undefined> {
  try {
    const o = await s3.send(
      new GetObjectCommand({ Bucket: LOCAL_DISPATCH_MODEL_BUCKET, Key: key }),
    );
    return JSON.parse(await o.Body!.transformToString()) as T;
  } catch {
    return undefined;
  }
}
const pointer = () =>
  object<{ version: string; previous?: string }>('dispatch-models/current.json');

describe('the dispatch retraining workflow', () => {
  it('refuses to promote a candidate that scores worse than the current model', async () => {
    // One pass over the data leaves the candidate far behind the seed model.
    const refused = await run({ epochs: 1 });
    expect(refused.status).toBe('SUCCEEDED');
    expect(refused.states).toContain('PromotionRefused');
    expect(refused.states).not.toContain('PromoteCandidate');
    const { trained } = refused.output;
    expect(trained.notWorse).toBe(false);
    expect(trained.current.version).toBe(SEED_MODEL.version);
    expect(trained.candidate.evaluation.top1).toBeLessThan(trained.current.evaluation.top1);
    // Stored for inspection, never loaded by the functions: the candidate scored, in the format
    // the classifiers read, under its own version.
    const stored = await object<DispatchModel>(
      `dispatch-models/versions/${trained.candidate.version}.json`,
    );
    expect(stored).toMatchObject({
      format: MODEL_FORMAT,
      version: trained.candidate.version,
      evaluation: trained.candidate.evaluation,
      data: { labelled: trained.candidate.labelled },
    });
    expect(stored!.version).not.toBe(SEED_MODEL.version);
    expect(await pointer()).toBeUndefined();
  });

  it('learns a new wording from the labelled history and promotes the better candidate', async () => {
    expect(classify(SEED_MODEL, '共享充电宝押金退不了', 1)[0]!.topic).not.toBe('market');
    await label(NEW_WORDING, 'market');
    const promoted = await run({});
    expect(promoted.status).toBe('SUCCEEDED');
    expect(promoted.states).toContain('PromoteCandidate');
    const { trained } = promoted.output;
    expect(trained.candidate.labelled).toBe(NEW_WORDING.length * 5);
    expect(trained.notWorse).toBe(true);
    expect(await pointer()).toMatchObject({ version: trained.candidate.version });
    expect(await pointer()).not.toHaveProperty('previous');
    const model = await object<DispatchModel>(
      `dispatch-models/versions/${trained.candidate.version}.json`,
    );
    expect(model!.data.labelled).toBe(NEW_WORDING.length * 5);
    expect(classify(model!, '借的充电宝押金退不回来', 1)[0]!.topic).toBe('market');
  });

  it('rolls back to a stored version on request, keeping the one it replaces', async () => {
    const before = (await pointer())!;
    const older = (await run({ epochs: 1 })).output.trained.candidate.version as string;
    const rollback = await run({ promote: older });
    expect(rollback.states).toContain('PromoteRequested');
    expect(await pointer()).toMatchObject({ version: older, previous: before.version });
    const missing = await run({ promote: '20990101-deadbeef' });
    expect(missing.status).toBe('FAILED');
    expect((await pointer())!.version).toBe(older);
  });

  it('a classifier refuses a promoted model in a format it does not know and keeps the seed', async () => {
    const version = '20991231-f0f0f0f0';
    const newer = { ...SEED_MODEL, version, format: 'hotline-dispatch-model/2' };
    await s3.send(
      new PutObjectCommand({
        Bucket: LOCAL_DISPATCH_MODEL_BUCKET,
        Key: `dispatch-models/versions/${version}.json`,
        Body: JSON.stringify(newer),
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: LOCAL_DISPATCH_MODEL_BUCKET,
        Key: 'dispatch-models/current.json',
        Body: JSON.stringify({ version, promotedAt: stack.clock.now().toISOString() }),
      }),
    );
    const errors: string[] = [];
    const classifier = new StoredModelClassifier(
      new S3DispatchModelStore(s3, LOCAL_DISPATCH_MODEL_BUCKET),
      readSeedModel,
      { onError: (error) => errors.push((error as Error).message) },
    );
    const answer = await classifier.suggest('燃气灶打不着火，闻到煤气味');
    expect(answer.modelVersion).toBe(SEED_MODEL.version);
    expect(errors).toEqual([expect.stringContaining('hotline-dispatch-model/2')]);
  });
});

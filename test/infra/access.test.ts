import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, type FunctionKey } from '#functions/registry';
import { buildApp } from '../../infra/app.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever the synthesized template holds
type Json = Record<string, any>;

function synth(context: Record<string, unknown> = {}): Json {
  const { app, stack } = buildApp({ bundle: false, context });
  return app.synth().getStackByName(stack.stackName).template as Json;
}

/**
 * What each function may do, written out by hand (issue #11.7): `write` functions change the
 * table, `read` ones never; `wakes` sends task success or failure to that workflow; `starts`
 * starts lifecycle executions; `secret` reads the phone configuration; `publishes` writes the
 * bulletin site; `mails` sends mail. A function not listed here fails the test: add its row.
 */
interface Expected {
  table: 'read' | 'write';
  wakes?: 'lifecycle' | 'bulletin';
  starts?: true;
  secret?: true;
  publishes?: true;
  mails?: true;
  /** The dispatch model bucket: `read` to use the promoted model, `write` to train and promote. */
  models?: 'read' | 'write';
  /** Reads the analytics salt secret (only the sink, which hashes callers). */
  salt?: true;
}
const EXPECTED: Record<string, Expected> = {
  // Stores the ticket only: stream-workflow starts its lifecycle (issue #11.2).
  'create-ticket': { table: 'write', models: 'read' },
  'classify-ticket': { table: 'read', models: 'read' },
  'get-ticket': { table: 'read' },
  'unit-action': { table: 'write', wakes: 'lifecycle' },
  // Approving an extension tells the caller through the phone system (issue #10.11).
  decide: { table: 'write', wakes: 'lifecycle', secret: true },
  'work-queue': { table: 'read' },
  flags: { table: 'read' },
  'dead-letters': { table: 'read' },
  metrics: { table: 'read' },
  'link-page': { table: 'read' },
  'link-action': { table: 'write', wakes: 'lifecycle' },
  'next-step': { table: 'write' },
  'route-ticket': { table: 'write' },
  'await-unit': { table: 'write', wakes: 'lifecycle', mails: true },
  'await-centre': { table: 'write', wakes: 'lifecycle', mails: true },
  'survey-caller': { table: 'write', wakes: 'lifecycle', secret: true },
  'chase-ticket': { table: 'write' },
  'close-ticket': { table: 'write' },
  'stall-ticket': { table: 'write' },
  'resume-stalled': { table: 'write', starts: true },
  stalled: { table: 'read' },
  'stream-workflow': { table: 'write', starts: true },
  'phone-webhook': {
    table: 'write',
    starts: true,
    wakes: 'lifecycle',
    secret: true,
    models: 'read',
  },
  callbacks: { table: 'read' },
  'callback-done': { table: 'write' },
  'connect-flow': {
    table: 'write',
    starts: true,
    wakes: 'lifecycle',
    secret: true,
    models: 'read',
  },
  'connect-events': {
    table: 'write',
    starts: true,
    wakes: 'lifecycle',
    secret: true,
    models: 'read',
  },
  'bulletin-collect': { table: 'read' },
  'bulletin-draft': { table: 'write', mails: true },
  'bulletin-check-privacy': { table: 'read' },
  'bulletin-request-approval': { table: 'write', mails: true },
  'bulletin-publish': { table: 'write', publishes: true },
  'bulletin-notify': { table: 'write', mails: true },
  'bulletin-draft-page': { table: 'read' },
  'bulletin-decide': { table: 'write', wakes: 'bulletin' },
  'bulletin-held-case-page': { table: 'read' },
  'bulletin-correct-case': { table: 'write' },
  'dispatch-train': { table: 'read', models: 'write' },
  'dispatch-promote': { table: 'read', models: 'write' },
  'analytics-sink': { table: 'read', salt: true },
  'analytics-detect': { table: 'write' },
  'analytics-notify': { table: 'write', mails: true },
  'analytics-report': { table: 'write', mails: true },
  'analytics-warnings': { table: 'read' },
  'analytics-hotspots': { table: 'read' },
  'analytics-clusters': { table: 'read' },
  'analytics-compare': { table: 'read' },
};

const WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
const STREAM = [
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:DescribeStream',
  'dynamodb:ListStreams',
];

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

function functionsOf(template: Json): Map<FunctionKey, { props: Json; statements: Statement[] }> {
  const resources = template.Resources as Record<string, Json>;
  const byRole = new Map<string, Statement[]>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const role of r.Properties.Roles as { Ref: string }[]) {
      byRole.set(role.Ref, [
        ...(byRole.get(role.Ref) ?? []),
        ...r.Properties.PolicyDocument.Statement,
      ]);
    }
  }
  const result = new Map<FunctionKey, { props: Json; statements: Statement[] }>();
  for (const r of Object.values(resources)) {
    const key = r.Metadata?.['hotline:function'] as FunctionKey | undefined;
    if (r.Type !== 'AWS::Lambda::Function' || !key) continue;
    const role = r.Properties.Role['Fn::GetAtt'][0] as string;
    result.set(key, { props: r.Properties, statements: byRole.get(role) ?? [] });
  }
  return result;
}

const actionsIn = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
const resourceText = (statements: Statement[], action: string) =>
  JSON.stringify(statements.filter((s) => actionsIn([s]).includes(action)).map((s) => s.Resource));

let template: Json;
let functions: ReturnType<typeof functionsOf>;

beforeAll(() => {
  template = synth();
  functions = functionsOf(template);
});

describe('least privilege per function (issue #11.7)', () => {
  it('has a row in the expected table for every function', () => {
    expect(Object.keys(FUNCTIONS).filter((k) => !(k in EXPECTED))).toEqual([]);
  });

  it('grants each function exactly the table, workflow, secret, bucket and mail access in the table', () => {
    for (const [key, { statements }] of functions) {
      const expected = EXPECTED[key]!;
      const actions = actionsIn(statements);
      const has = (action: string) => actions.includes(action);
      const why = `${key}`;
      expect(has('dynamodb:GetItem'), why).toBe(true);
      for (const write of WRITES)
        expect(has(write), `${why} ${write}`).toBe(expected.table === 'write');
      expect(has('dynamodb:Scan'), `${why} scans`).toBe(false);
      if (!('stream' in FUNCTIONS[key])) {
        for (const action of STREAM) expect(has(action), `${why} ${action}`).toBe(false);
      }
      expect(has('states:StartExecution'), `${why} starts`).toBe(Boolean(expected.starts));
      expect(has('states:SendTaskSuccess'), `${why} wakes`).toBe(Boolean(expected.wakes));
      expect(has('states:SendTaskFailure'), `${why} wakes`).toBe(Boolean(expected.wakes));
      if (expected.wakes) {
        const machine = expected.wakes === 'lifecycle' ? 'ticket-lifecycle' : 'bulletin';
        expect(resourceText(statements, 'states:SendTaskSuccess'), why).toContain(`-${machine}`);
      }
      expect(has('secretsmanager:GetSecretValue'), `${why} secret`).toBe(
        Boolean(expected.secret || expected.salt),
      );
      const puts = resourceText(statements, 's3:PutObject');
      expect(puts.includes('BulletinBucket'), `${why} writes the bulletin site`).toBe(
        Boolean(expected.publishes),
      );
      expect(puts.includes('DispatchModelBucket'), `${why} writes dispatch models`).toBe(
        expected.models === 'write',
      );
      expect(
        resourceText(statements, 's3:GetObject*').includes('DispatchModelBucket') ||
          resourceText(statements, 's3:GetObject').includes('DispatchModelBucket'),
        `${why} reads dispatch models`,
      ).toBe(Boolean(expected.models));
      expect(has('ses:SendEmail'), `${why} mails`).toBe(Boolean(expected.mails));
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    }
  });
});

/** Which variable each reachable port needs, next to the grant that makes it usable. */
const PORTS: {
  port: string;
  variable: string;
  action: string;
  needed: (e: Expected) => boolean;
}[] = [
  { port: 'table', variable: 'TABLE_NAME', action: 'dynamodb:GetItem', needed: () => true },
  { port: 'mail', variable: 'MAIL_FROM', action: 'ses:SendEmail', needed: (e) => Boolean(e.mails) },
  {
    port: 'workflow (start)',
    variable: 'LIFECYCLE_STATE_MACHINE_ARN',
    action: 'states:StartExecution',
    needed: (e) => Boolean(e.starts),
  },
  {
    port: 'phone secret',
    variable: 'PHONE_CONFIG_SECRET_ARN',
    action: 'secretsmanager:GetSecretValue',
    needed: (e) => Boolean(e.secret),
  },
  {
    port: 'dispatch model bucket',
    variable: 'DISPATCH_MODEL_BUCKET',
    action: 's3:GetObject*',
    needed: (e) => Boolean(e.models),
  },
  {
    port: 'bucket',
    variable: 'BULLETIN_BUCKET',
    action: 's3:PutObject',
    needed: (e) => Boolean(e.publishes),
  },
];

describe('every port a function reaches has its variable and its grant (issue #10.11)', () => {
  it('sets the variable wherever the grant is needed, and grants wherever the variable points at a secret', () => {
    for (const [key, { props, statements }] of functions) {
      const variables = (props.Environment?.Variables ?? {}) as Record<string, unknown>;
      const actions = actionsIn(statements);
      for (const port of PORTS) {
        if (!port.needed(EXPECTED[key]!)) continue;
        expect(
          variables[port.variable],
          `${key} reaches the ${port.port}: ${port.variable}`,
        ).toBeDefined();
        expect(actions, `${key} reaches the ${port.port}`).toContain(port.action);
      }
      // A secret's ARN without the right to read it is the decide bug: never again.
      if (variables.PHONE_CONFIG_SECRET_ARN)
        expect(actions, key).toContain('secretsmanager:GetSecretValue');
      if (variables.LIFECYCLE_STATE_MACHINE_ARN)
        expect(actions, key).toContain('states:StartExecution');
    }
  });
});

describe('operations (issue #11.6, #11.8)', () => {
  it('traces every function and every state machine with X-Ray', () => {
    for (const [key, { props }] of functions)
      expect(props.TracingConfig, key).toEqual({ Mode: 'Active' });
    const machines = Object.values(template.Resources as Record<string, Json>).filter(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    expect(machines.length).toBeGreaterThanOrEqual(2);
    for (const m of machines) expect(m.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('alarms on failed, timed-out and aborted executions of every state machine', () => {
    const t = Template.fromJSON(template);
    const machines = Object.keys(t.findResources('AWS::StepFunctions::StateMachine'));
    for (const id of machines) {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
        t.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: metric,
          Namespace: 'AWS/States',
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: id } }],
          AlarmActions: Match.anyValue(),
        });
      }
    }
  });

  it('alarms on errors and throttles of every function', () => {
    const alarms = Object.values(template.Resources as Record<string, Json>).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/Lambda',
    );
    const resources = template.Resources as Record<string, Json>;
    for (const key of functions.keys()) {
      const logicalId = Object.keys(resources).find(
        (id) => resources[id]!.Metadata?.['hotline:function'] === key,
      );
      for (const metric of ['Errors', 'Throttles']) {
        expect(
          alarms.some(
            (a) =>
              a.Properties.MetricName === metric &&
              JSON.stringify(a.Properties.Dimensions).includes(`"${logicalId}"`),
          ),
          `${key} ${metric}`,
        ).toBe(true);
      }
    }
  });

  it('gives the Connect rule and the bulletin schedule dead-letter queues, and alarms on every one', () => {
    const t = Template.fromJSON(template);
    const queues = Object.keys(t.findResources('AWS::SQS::Queue')).filter((id) =>
      /dlq|deadletter/i.test(id),
    );
    expect(queues.length).toBeGreaterThanOrEqual(2);
    t.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } }),
    });
    for (const id of queues) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }],
      });
    }
  });

  it('alarms on the API 5xx rate and on stalled tickets, to a topic of its own by default', () => {
    const t = Template.fromJSON(template);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('errors') }),
      ]),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TicketsStalled',
      Namespace: 'Hotline12345',
      Dimensions: [{ Name: 'service', Value: 'hotline-12345' }],
    });
  });

  it('sends alarms to the topic given by context instead', () => {
    const arn = 'arn:aws:sns:cn-north-1:111122223333:city-oncall';
    const t = Template.fromJSON(synth({ 'hotline:alarmTopicArn': arn }));
    t.resourceCountIs('AWS::SNS::Topic', 0);
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([arn]);
  });

  it('encrypts table, bucket and secret with one customer-managed key when hotline:kms=true', () => {
    const plain = Template.fromJSON(template);
    plain.resourceCountIs('AWS::KMS::Key', 0);
    const t = Template.fromJSON(synth({ 'hotline:kms': 'true', 'hotline:region': 'cn-north-1' }));
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const key = Object.keys(t.findResources('AWS::KMS::Key'))[0]!;
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    });
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] },
            },
          }),
        ],
      },
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
    });
  });

  it('lets only the configured Connect instance invoke the contact-flow function', () => {
    const open = Template.fromJSON(template);
    expect(
      Object.values(open.findResources('AWS::Lambda::Permission')).filter(
        (p) => p.Properties.Principal === 'connect.amazonaws.com',
      ),
    ).toEqual([]);
    const instance = 'arn:aws-cn:connect:cn-north-1:111122223333:instance/abcd-1234';
    const t = Template.fromJSON(synth({ 'hotline:connectInstanceArn': instance }));
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'connect.amazonaws.com',
      SourceArn: instance,
    });
  });
});

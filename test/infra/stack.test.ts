import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, ROUTES } from '#functions/registry';
import { buildApp } from '../../infra/app.ts';
import { REVIEWED_NAG_RULES } from '../../infra/nag.ts';
import { type LocalAssembly, synthesizeLocal } from '../../local/synth.ts';

let template: Template;
let assembly: LocalAssembly;

beforeAll(() => {
  const { app, stack } = buildApp({ bundle: false });
  template = Template.fromJSON(app.synth().getStackByName(stack.stackName).template);
  assembly = synthesizeLocal();
});

describe('the CDK app', () => {
  it('keeps tickets in one encrypted, recoverable, retained table with sparse indexes', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        SSESpecification: { SSEEnabled: true },
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
        GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: 'GSI1' })]),
      }),
    });
  });

  it('deploys one Node 24 function per registry entry, arm64 but for the sink (DuckDB x86_64)', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs24.x' },
    });
    const keys = Object.values(functions).map((f) => f.Metadata?.['hotline:function']);
    expect(keys.sort()).toEqual(Object.keys(FUNCTIONS).sort());
    const x86 = Object.values(functions).filter((f) => f.Properties.Architectures?.[0] !== 'arm64');
    expect(x86.map((f) => f.Metadata?.['hotline:function'])).toEqual(['analytics-sink']);
  });

  it('synthesizes the analytics store: Glue table with partition projection, Athena limit, stream', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'tickets',
        PartitionKeys: [{ Name: 'dt', Type: 'string' }],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
        }),
      }),
    });
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
      }),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 60,
      FilterCriteria: {
        Filters: [
          {
            Pattern:
              '{"dynamodb":{"Keys":{"PK":{"S":[{"prefix":"TICKET#"}]},"SK":{"S":["META"]}}}}',
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('routes every API path to its function, staff routes behind the JWT authorizer', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'JWT' });
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const byKey = new Map(Object.values(routes).map((r) => [r.Properties.RouteKey, r.Properties]));
    for (const route of ROUTES) {
      const deployed = byKey.get(`${route.method} ${route.path}`);
      expect(deployed, `${route.method} ${route.path}`).toBeDefined();
      expect(deployed.AuthorizationType).toBe(route.auth === 'staff' ? 'JWT' : 'NONE');
    }
  });

  it('sends every scheduled start it cannot deliver to an encrypted, SSL-only, alarmed DLQ', () => {
    const schedules = Object.entries(template.findResources('AWS::Scheduler::Schedule')).map(
      ([id, r]) => ({ id, target: r.Properties.Target }),
    );
    const rules = Object.entries(template.findResources('AWS::Events::Rule'))
      .filter(([, r]) => r.Properties.ScheduleExpression)
      .flatMap(([id, r]) => r.Properties.Targets.map((target: unknown) => ({ id, target })));
    const targets = [...schedules, ...rules] as {
      id: string;
      target: {
        DeadLetterConfig?: { Arn: { 'Fn::GetAtt': [string, string] } };
        RetryPolicy?: Record<string, number>;
      };
    }[];
    expect(targets.map((t) => t.id)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AnalyticsDaily/),
        expect.stringMatching(/^AnalyticsMonthly/),
      ]),
    );
    const queues = template.findResources('AWS::SQS::Queue');
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const withoutDlq = targets.filter(({ target }) => !target.DeadLetterConfig).map((t) => t.id);
    expect(withoutDlq).toEqual([]);
    for (const { id, target } of targets) {
      // Bounded retries: not AWS's default of 185 attempts over 24 hours.
      expect(target.RetryPolicy?.MaximumRetryAttempts, id).toBeLessThanOrEqual(3);
      expect(target.RetryPolicy?.MaximumEventAgeInSeconds, id).toBeLessThanOrEqual(3600);
      const queueId = target.DeadLetterConfig?.Arn['Fn::GetAtt'][0] ?? '';
      const queue = queues[queueId]?.Properties ?? {};
      expect(queue.SqsManagedSseEnabled === true || queue.KmsMasterKeyId !== undefined, id).toBe(
        true,
      );
      const sslOnly = policies.some(
        (p) =>
          JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: queueId }]) &&
          p.Properties.PolicyDocument.Statement.some(
            (st: { Effect: string; Condition?: { Bool?: Record<string, string> } }) =>
              st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false',
          ),
      );
      expect(sslOnly, id).toBe(true);
      const alarmed = alarms.some(
        (a) =>
          a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Properties.Dimensions).includes(`"${queueId}"`),
      );
      expect(alarmed, id).toBe(true);
    }
  });

  it('runs the ticket lifecycle as a retained Standard state machine with a stable id', () => {
    template.hasResource('AWS::StepFunctions::StateMachine', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ StateMachineType: 'STANDARD' }),
    });
    expect(assembly.stateMachines.map((m) => m.logicalId)).toContain('TicketLifecycle');
  });

  it('keeps bulletins in an encrypted, private, retained bucket', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: Match.objectLike({
          BlockPublicAcls: true,
          RestrictPublicBuckets: true,
        }),
      }),
    });
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('finds nothing but the reviewed rules, and no unauthenticated staff route', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'nag-'));
    const { app } = buildApp({ bundle: false, nag: true, outdir });
    expect(() => app.synth()).toThrow(/AwsSolutions/);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
      }[];
    };
    const violations = report.pluginReports.flatMap((p) => p.violations);
    const unreviewed = violations
      .map((v) => v.ruleName.split('[')[0]!)
      .filter((rule) => !(rule in REVIEWED_NAG_RULES));
    expect(unreviewed).toEqual([]);
    const openRoutes = violations
      .filter((v) => v.ruleName === 'AwsSolutions-APIG4')
      .flatMap((v) => v.violatingConstructs.map((c) => c.constructPath.split('/')[2]));
    const linkRoutes = ROUTES.filter((r) => r.auth !== 'staff').map(
      (r) => `${r.method}${r.path.replaceAll('/', '--')}`,
    );
    expect(openRoutes.sort()).toEqual(linkRoutes.sort());
    rmSync(outdir, { recursive: true, force: true });
  });
});

describe('the synthesized state machines', () => {
  it('are valid Amazon States Language', () => {
    expect(assembly.stateMachines.length).toBeGreaterThan(0);
    for (const machine of assembly.stateMachines) {
      const { isValid, errorsText } = aslValidator(machine.definition);
      expect(isValid, `${machine.name}: ${errorsText('\n')}`).toBe(true);
    }
  });

  it('wait for units with a callback task whose timeout comes from the ticket, never a Wait loop', () => {
    const lifecycle = assembly.stateMachines.find((m) => m.logicalId === 'TicketLifecycle')!;
    const states = lifecycle.definition.States as Record<string, Record<string, unknown>>;
    expect(Object.values(states).some((s) => s.Type === 'Wait')).toBe(false);
    expect(states.AwaitUnit).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSecondsPath: '$.step.timeoutSeconds',
      Catch: [
        expect.objectContaining({ ErrorEquals: ['States.Timeout'], Next: 'Chase' }),
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'AwaitUnitFailed' }),
      ],
    });
  });

  it('retry every lifecycle task with back-off, then catch into the stalled marker (#11.1)', () => {
    const lifecycle = assembly.stateMachines.find((m) => m.logicalId === 'TicketLifecycle')!;
    const states = lifecycle.definition.States as Record<string, Record<string, unknown>>;
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(
      [
        'AwaitCentre',
        'AwaitUnit',
        'Chase',
        'Close',
        'MarkStalled',
        'NextStep',
        'Route',
        'Survey',
      ].sort(),
    );
    for (const [name, state] of tasks) {
      const retriers = state.Retry as Array<{ ErrorEquals: string[]; BackoffRate?: number }>;
      const retried = retriers.flatMap((r) => r.ErrorEquals);
      expect(retried, name).toEqual(
        expect.arrayContaining([
          'Lambda.ServiceException',
          'Lambda.TooManyRequestsException',
          'States.TaskFailed',
        ]),
      );
      for (const retrier of retriers) expect(retrier.BackoffRate, name).toBeGreaterThan(1);
      if (name === 'MarkStalled') continue;
      const callback = String(state.Resource).endsWith('.waitForTaskToken');
      // A step's own timeout is retried; a callback's timeout is its deadline, caught instead.
      expect(retried.includes('States.Timeout'), name).toBe(!callback);
      const last = (state.Catch as Array<{ ErrorEquals: string[]; Next: string }>).at(-1);
      expect(last, name).toMatchObject({ ErrorEquals: ['States.ALL'], Next: `${name}Failed` });
      expect(states[`${name}Failed`]).toMatchObject({ Type: 'Pass', Next: 'MarkStalled' });
    }
    expect(states.MarkStalled?.Next).toBe('Stalled');
    expect(states.Stalled?.Type).toBe('Fail');
  });

  it('point every Lambda reference at a registered local function', () => {
    const json = JSON.stringify(assembly.stateMachines.map((m) => m.definition));
    const arns = json.match(/arn:aws:lambda:[^"]+/g) ?? [];
    expect(arns.length).toBeGreaterThan(0);
    for (const arn of arns) expect(assembly.functionsByArn.has(arn), arn).toBe(true);
  });
});

import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  IntegrationPattern,
  JsonPath,
  Succeed,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

export interface BulletinFunctions {
  collect: IFunction;
  draft: IFunction;
  checkPrivacy: IFunction;
  requestApproval: IFunction;
  publish: IFunction;
  notify: IFunction;
}

export interface BulletinWorkflowOptions {
  /** How long the reviewers have; afterwards the run ends and the cases wait for the next one. */
  approvalTimeout: Duration;
}

/**
 * One bulletin run (不合理诉求通报), started by the schedule. The state carries ids only: the
 * draft lives in DynamoDB, so a retried step reads the record. Every way of not publishing
 * (nothing to publish, personal data found, rejected, no decision in time) leaves the cases in
 * the unpublished index and claims no issue number, so the next run picks them up.
 */
export function bulletinWorkflow(
  scope: Construct,
  fns: BulletinFunctions,
  options: BulletinWorkflowOptions,
): IChainable {
  const invoke = (
    id: string,
    fn: IFunction,
    payload: Record<string, unknown>,
    resultPath: string,
    comment: string,
  ) =>
    new LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payload: TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      resultPath,
      comment,
      retryOnServiceExceptions: true,
    });
  const draftId = JsonPath.stringAt('$.draft.draftId');

  const collect = invoke(
    'Collect',
    fns.collect,
    {},
    '$.collected',
    'Approved unreasonable cases not yet published',
  );
  const draft = invoke(
    'Draft',
    fns.draft,
    { ticketIds: JsonPath.listAt('$.collected.ticketIds') },
    '$.draft',
    'Hold cases with personal data (reviewers mailed); draft the next issue from the rest (number claimed only when published)',
  );
  const checkPrivacy = invoke(
    'CheckPrivacy',
    fns.checkPrivacy,
    { draftId },
    JsonPath.DISCARD,
    'Privacy guard over the whole draft',
  );
  const personalData = new Fail(scope, 'PersonalDataFound', {
    error: 'PersonalDataFound',
    causePath: '$.error.Cause',
    comment: 'A person must rewrite the cases named in the cause; nothing is fixed silently',
  });
  checkPrivacy.addCatch(personalData, { errors: ['PersonalDataFound'], resultPath: '$.error' });

  const requestApproval = new LambdaInvoke(scope, 'AwaitApproval', {
    lambdaFunction: fns.requestApproval,
    integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: TaskInput.fromObject({ draftId, taskToken: JsonPath.taskToken }),
    taskTimeout: Timeout.duration(options.approvalTimeout),
    resultPath: '$.decision',
    comment: 'Mail the reviewers the draft link and wait for their decision',
  });
  const timedOut = new Fail(scope, 'ApprovalTimedOut', {
    error: 'ApprovalTimedOut',
    cause: 'No reviewer decided in time; the cases stay unpublished for the next run',
  });
  requestApproval.addCatch(timedOut, { errors: ['States.Timeout'], resultPath: JsonPath.DISCARD });

  const publish = invoke(
    'Publish',
    fns.publish,
    { draftId },
    '$.published',
    'Claim the issue number, mark the cases published, write the site',
  );
  // Losing the number to another run is final; anything else (S3, throttling) is worth retrying
  // because the step is idempotent.
  publish.addRetry({ errors: ['IssueNumberTakenError', 'ConflictError'], maxAttempts: 0 });
  publish.addRetry({
    errors: ['States.TaskFailed'],
    interval: Duration.seconds(30),
    maxAttempts: 4,
    backoffRate: 2,
  });
  const notify = invoke(
    'Notify',
    fns.notify,
    { issueNumber: JsonPath.numberAt('$.published.issueNumber') },
    '$.notified',
    'Mail the subscribers',
  );
  notify.addRetry({
    errors: ['States.TaskFailed'],
    interval: Duration.seconds(30),
    maxAttempts: 3,
    backoffRate: 2,
  });

  const decided = new Choice(scope, 'Approved?')
    .when(
      Condition.stringEquals('$.decision.decision', 'approve'),
      publish.next(notify).next(new Succeed(scope, 'Published')),
    )
    .otherwise(new Succeed(scope, 'Rejected', { comment: 'The cases stay unpublished' }));

  // Cases with personal data are held by the Draft step (reviewers mailed); the rest go on.
  const anythingLeft = new Choice(scope, 'AnythingLeft?')
    .when(
      Condition.numberGreaterThan('$.draft.totalCases', 0),
      checkPrivacy.next(requestApproval).next(decided),
    )
    .otherwise(
      new Succeed(scope, 'AllHeld', {
        comment: 'Every collected case was held for the reviewers to correct',
      }),
    );

  const anything = new Choice(scope, 'AnythingToPublish?')
    .when(Condition.numberGreaterThan('$.collected.count', 0), draft.next(anythingLeft))
    .otherwise(new Succeed(scope, 'NothingToPublish'));

  return collect.next(anything);
}

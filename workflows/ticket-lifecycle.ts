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

export interface LifecycleFunctions {
  nextStep: IFunction;
  route: IFunction;
  awaitUnit: IFunction;
  awaitCentre: IFunction;
  survey: IFunction;
  chase: IFunction;
  close: IFunction;
}

const ticketOnly = TaskInput.fromObject({ ticketId: JsonPath.stringAt('$.ticketId') });

/**
 * The life of one ticket. The ticket record in DynamoDB is the source of truth: `NextStep` reads it
 * and every branch returns to it, so an execution started afresh for an open ticket (after a
 * restart or a deploy) resumes at the ticket's stage. Waiting for a unit is a callback task whose
 * timeout is the next deadline event, so a ticket costs the same number of transitions whether
 * its deadline is an hour or fifteen working days away: waiting is free, nothing polls.
 */
export function ticketLifecycle(scope: Construct, fns: LifecycleFunctions): IChainable {
  const step = (id: string, fn: IFunction, comment: string) =>
    new LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payload: ticketOnly,
      payloadResponseOnly: true,
      resultPath: JsonPath.DISCARD,
      comment,
      retryOnServiceExceptions: true,
    });

  const nextStep = new LambdaInvoke(scope, 'NextStep', {
    lambdaFunction: fns.nextStep,
    payload: ticketOnly,
    payloadResponseOnly: true,
    comment: 'Read the ticket and decide the next step',
  });
  nextStep.addRetry({
    errors: ['States.TaskFailed'],
    interval: Duration.seconds(2),
    maxAttempts: 3,
    backoffRate: 2,
  });

  const route = step('Route', fns.route, '派单: choose the lead unit from the dispatch catalogue');
  const chase = step(
    'Chase',
    fns.chase,
    '催办 / 督办 / 通报: record the deadline event that is due',
  );
  const close = step('Close', fns.close, '办结: close a ticket whose caller wants no callback');
  /** A human (or the phone system) answers by waking this task; its timeout is the next deadline. */
  const waitFor = (id: string, fn: IFunction, comment: string) => {
    const task = new LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({
        ticketId: JsonPath.stringAt('$.ticketId'),
        taskToken: JsonPath.taskToken,
      }),
      taskTimeout: Timeout.at('$.step.timeoutSeconds'),
      resultPath: JsonPath.DISCARD,
      comment,
    });
    task.addCatch(nextStep, { errors: ['States.Timeout'], resultPath: JsonPath.DISCARD });
    return task;
  };
  const awaitUnit = waitFor(
    'AwaitUnit',
    fns.awaitUnit,
    '签收 / 办理: wait for the lead unit until it acts or the next deadline event is due',
  );
  const awaitCentre = waitFor(
    'AwaitCentre',
    fns.awaitCentre,
    '审核: wait for the hotline centre (manual dispatch, return, extension, unreasonable, reply review)',
  );
  const survey = waitFor(
    'Survey',
    fns.survey,
    '回访: survey the caller; an attempt that times out counts as unanswered',
  );

  const closed = new Succeed(scope, 'Closed');
  const unknown = new Fail(scope, 'UnknownStep', {
    error: 'UnknownStep',
    cause: 'NextStep returned an unknown step',
  });

  const whichStep = new Choice(scope, 'WhichStep')
    .when(Condition.stringEquals('$.step.kind', 'route'), route.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'chase'), chase.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'await_unit'), awaitUnit.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'await_centre'), awaitCentre.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'survey'), survey.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'close'), close.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'done'), closed)
    .otherwise(unknown);

  return nextStep.next(whichStep);
}

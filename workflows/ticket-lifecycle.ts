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
  const close = step('Close', fns.close, '办结: close the replied ticket');
  const awaitUnit = new LambdaInvoke(scope, 'AwaitUnit', {
    lambdaFunction: fns.awaitUnit,
    integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: TaskInput.fromObject({
      ticketId: JsonPath.stringAt('$.ticketId'),
      taskToken: JsonPath.taskToken,
    }),
    taskTimeout: Timeout.at('$.step.timeoutSeconds'),
    resultPath: JsonPath.DISCARD,
    comment: 'Wait for the lead unit until it replies or the next deadline event is due',
  });
  awaitUnit.addCatch(nextStep, { errors: ['States.Timeout'], resultPath: JsonPath.DISCARD });

  const needsDispatcher = new Fail(scope, 'NeedsManualDispatch', {
    error: 'ManualDispatchNeeded',
    cause: 'No dispatch rule fits this ticket; a dispatcher must route it',
  });
  route.addCatch(needsDispatcher, { errors: ['ManualDispatchNeeded'] });

  const closed = new Succeed(scope, 'Closed');
  const unknown = new Fail(scope, 'UnknownStep', {
    error: 'UnknownStep',
    cause: 'NextStep returned an unknown step',
  });

  const whichStep = new Choice(scope, 'WhichStep')
    .when(Condition.stringEquals('$.step.kind', 'route'), route.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'chase'), chase.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'await_unit'), awaitUnit.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'close'), close.next(nextStep))
    .when(Condition.stringEquals('$.step.kind', 'done'), closed)
    .otherwise(unknown);

  return nextStep.next(whichStep);
}

import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  IntegrationPattern,
  JitterType,
  JsonPath,
  Pass,
  Result,
  Succeed,
  TaskInput,
  type TaskStateBase,
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
  stall: IFunction;
}

/**
 * Retries of every task, after the Lambda service retrier that `retryOnServiceExceptions` adds
 * (ClientExecutionTimeout, ServiceException, AWSLambdaException, SdkClientException: 2 s × 2, six
 * times). Throttling gets its own jittered retrier so that a burst spreads out instead of
 * retrying in lockstep; any other failure of a step (a handler error, States.TaskFailed, or a
 * step timing out, States.Timeout, which TaskFailed does not match) is retried a few times with
 * a longer back-off. Retriers are tried in order and each counts its own attempts.
 */
const THROTTLED = {
  errors: ['Lambda.TooManyRequestsException'],
  interval: Duration.seconds(1),
  maxAttempts: 8,
  backoffRate: 2,
  maxDelay: Duration.seconds(60),
  jitterStrategy: JitterType.FULL,
};
const STEP_FAILED = {
  errors: ['States.TaskFailed', 'States.Timeout'],
  interval: Duration.seconds(5),
  maxAttempts: 4,
  backoffRate: 3,
  maxDelay: Duration.seconds(300),
  jitterStrategy: JitterType.FULL,
};
/** A step that does not answer in this time is retried (the functions' own limit is 20 s). */
const STEP_TIMEOUT = Duration.seconds(60);

const ticketOnly = TaskInput.fromObject({ ticketId: JsonPath.stringAt('$.ticketId') });

/**
 * The life of one ticket. The ticket record in DynamoDB is the source of truth: every task reads
 * it, writes its change on a version condition, and returns the next step decided on the ticket
 * it just wrote (`nextStep` in core/lifecycle.ts); whoever wakes a waiting task hands it the step
 * decided on the ticket it just saved. `WhichStep` branches on `$.step`; an execution started
 * without one (afresh for an open ticket, after a stall or a restart) goes to `NextStep`, which
 * reads the ticket, so it resumes at the ticket's stage. Waiting for a unit is a callback task
 * whose timeout is the next deadline event, and a timeout goes straight to `Chase`, so a ticket
 * costs the same number of transitions whether its deadline is an hour or fifteen working days
 * away: waiting is free, nothing polls.
 */
export function ticketLifecycle(scope: Construct, fns: LifecycleFunctions): IChainable {
  const step = (id: string, fn: IFunction, comment: string) =>
    new LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payload: ticketOnly,
      payloadResponseOnly: true,
      resultPath: '$.step',
      comment,
      retryOnServiceExceptions: true,
      taskTimeout: Timeout.duration(STEP_TIMEOUT),
    })
      .addRetry(THROTTLED)
      .addRetry(STEP_FAILED);

  /*
   * After the retries: record the failure on the ticket and end. The ticket record is untouched,
   * so the fresh execution that resumes it (functions/workflow/resume-stalled.ts) starts at its
   * stage. A Pass per failing state names it, since Step Functions does not.
   */
  const markStalled = new LambdaInvoke(scope, 'MarkStalled', {
    lambdaFunction: fns.stall,
    payload: TaskInput.fromObject({
      ticketId: JsonPath.stringAt('$.ticketId'),
      failedState: JsonPath.stringAt('$.failedState'),
      failure: JsonPath.objectAt('$.failure'),
    }),
    payloadResponseOnly: true,
    resultPath: JsonPath.DISCARD,
    comment: '停滞: record the failure on the ticket, list it and schedule its resumption',
    retryOnServiceExceptions: true,
    taskTimeout: Timeout.duration(STEP_TIMEOUT),
  })
    .addRetry(THROTTLED)
    .addRetry({ ...STEP_FAILED, maxAttempts: 6 });
  markStalled.next(
    new Fail(scope, 'Stalled', {
      error: 'TicketStalled',
      cause: 'A step failed after its retries; the ticket is listed and will be resumed',
    }),
  );
  const stalls = (failed: TaskStateBase) => {
    const name = failed.node.id;
    failed.addCatch(
      new Pass(scope, `${name}Failed`, {
        result: Result.fromString(name),
        resultPath: '$.failedState',
      }).next(markStalled),
      { errors: ['States.ALL'], resultPath: '$.failure' },
    );
  };

  const nextStep = new LambdaInvoke(scope, 'NextStep', {
    lambdaFunction: fns.nextStep,
    payload: ticketOnly,
    payloadResponseOnly: true,
    resultPath: '$.step',
    comment: 'Read the ticket and decide the next step',
    retryOnServiceExceptions: true,
    taskTimeout: Timeout.duration(STEP_TIMEOUT),
  })
    .addRetry(THROTTLED)
    .addRetry({
      errors: ['States.TaskFailed'],
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
    })
    .addRetry(STEP_FAILED);
  stalls(nextStep);

  const route = step('Route', fns.route, '派单: choose the lead unit from the dispatch catalogue');
  const chase = step(
    'Chase',
    fns.chase,
    '催办 / 督办 / 通报: record the deadline event that is due',
  );
  const close = step('Close', fns.close, '办结: close a ticket whose caller wants no callback');
  for (const task of [route, chase, close]) stalls(task);
  /**
   * A human (or the phone system) answers by waking this task with the next step; its timeout is
   * the next deadline event, which `Chase` records (or, if the ticket changed meanwhile and
   * nothing is due, leaves alone) before saying what is next.
   */
  const waitFor = (id: string, fn: IFunction, comment: string) => {
    const task = new LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({
        ticketId: JsonPath.stringAt('$.ticketId'),
        taskToken: JsonPath.taskToken,
        step: JsonPath.objectAt('$.step'),
      }),
      taskTimeout: Timeout.at('$.step.timeoutSeconds'),
      resultPath: '$.step',
      comment,
    });
    // Not States.Timeout: that is the deadline, caught below. A failure to store the token or to
    // send the mail is retried with a fresh token each time.
    task
      .addRetry(THROTTLED)
      .addRetry({ ...STEP_FAILED, errors: ['States.TaskFailed'] })
      .addCatch(chase, { errors: ['States.Timeout'], resultPath: JsonPath.DISCARD });
    stalls(task);
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
  // A step no branch knows is a defect of this version: stall the ticket (listed, resumed later
  // by a fresh execution, which reads the ticket) rather than strand it.
  const unknown = new Pass(scope, 'UnknownStep', {
    parameters: {
      ticketId: JsonPath.stringAt('$.ticketId'),
      failedState: 'WhichStep',
      failure: { Error: 'UnknownStep' },
    },
  }).next(markStalled);

  const whichStep = new Choice(scope, 'WhichStep', {
    comment: 'The step a task or its waker returned; none (a fresh execution): read the ticket',
  });
  whichStep
    // Not(IsPresent) rather than IsPresent false, which aws-local-stepfunctions never matches.
    .when(Condition.not(Condition.isPresent('$.step.kind')), nextStep.next(whichStep))
    .when(Condition.stringEquals('$.step.kind', 'route'), route.next(whichStep))
    .when(Condition.stringEquals('$.step.kind', 'chase'), chase.next(whichStep))
    .when(Condition.stringEquals('$.step.kind', 'await_unit'), awaitUnit.next(whichStep))
    .when(Condition.stringEquals('$.step.kind', 'await_centre'), awaitCentre.next(whichStep))
    .when(Condition.stringEquals('$.step.kind', 'survey'), survey.next(whichStep))
    .when(Condition.stringEquals('$.step.kind', 'close'), close.next(whichStep))
    .when(Condition.stringEquals('$.step.kind', 'done'), closed)
    .otherwise(unknown);

  return whichStep;
}

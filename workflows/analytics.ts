import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  type IChainable,
  JsonPath,
  Pass,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

export interface AnalyticsFunctions {
  detect: IFunction;
  notify: IFunction;
  report: IFunction;
}

/**
 * One analytics run, started by the schedules (Asia/Shanghai): every morning it detects the
 * previous day's surges, clusters and repeat callers and mails the new ones; started with
 * `{"report": true}` (the monthly schedule) it also writes and mails the previous month's
 * report. Every step is idempotent (warnings are recorded once, the report has a fixed key), so
 * a retried step or a re-run changes nothing it has already done.
 */
export function analyticsWorkflow(scope: Construct, fns: AnalyticsFunctions): IChainable {
  const invoke = (
    id: string,
    fn: IFunction,
    payload: TaskInput,
    resultPath: string,
    comment: string,
  ) => {
    const task = new LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payload,
      payloadResponseOnly: true,
      resultPath,
      comment,
      retryOnServiceExceptions: true,
    });
    task.addRetry({
      errors: ['States.TaskFailed'],
      interval: Duration.seconds(60),
      maxAttempts: 3,
      backoffRate: 2,
    });
    return task;
  };
  const detect = invoke(
    'Detect',
    fns.detect,
    TaskInput.fromObject({}),
    '$.detected',
    "Yesterday's surges, clusters and repeat callers, each recorded once",
  );
  const notify = invoke(
    'NotifyWarnings',
    fns.notify,
    TaskInput.fromObject({ day: JsonPath.stringAt('$.detected.day') }),
    '$.notified',
    'Mail the supervisors the warnings not yet mailed',
  );
  const report = invoke(
    'MonthlyReport',
    fns.report,
    TaskInput.fromObject({}),
    '$.report',
    "The previous month's 分析研判报告: stored and mailed",
  );
  const done = new Succeed(scope, 'AnalyticsDone');
  const reportDay = new Choice(scope, 'ReportDay?')
    .when(Condition.booleanEquals('$.report', true), report.next(done))
    .otherwise(done);
  const normalised = new Choice(scope, 'ReportRequested?')
    .when(Condition.isPresent('$.report'), detect)
    .otherwise(
      new Pass(scope, 'NoReport', { result: { value: false }, resultPath: '$.report' }).next(
        detect,
      ),
    );
  detect.next(
    new Choice(scope, 'NewWarnings?')
      .when(Condition.numberGreaterThan('$.detected.new', 0), notify.next(reportDay))
      .otherwise(reportDay),
  );
  return normalised;
}

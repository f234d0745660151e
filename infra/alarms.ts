import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../functions/lib/metrics.ts';

/** A queue whose construct id says it holds what could not be delivered. */
export const isDeadLetterQueue = (id: string) => /dlq|dead-?letter/i.test(id);

/**
 * How long a scheduled start of a daily, weekly or monthly run is retried before it lands in its
 * dead-letter queue (and alarms): a few attempts within the hour, not the 185 over 24 hours AWS
 * defaults to, which would start a day's run the next day without anyone hearing of it.
 */
export const SCHEDULE_RETRIES = { retryAttempts: 3, maxEventAge: Duration.hours(1) } as const;

/** The API's 5xx share (percent over five minutes) at which someone is woken. */
const API_5XX_PERCENT = 5;

/**
 * Everything an operator must hear about, to one SNS topic: the one named by
 * `-c hotline:alarmTopicArn=…`, or a topic of the stack's own to subscribe to. Call it last in
 * the stack: it alarms on every dead-letter queue the stack has by then.
 */
export function addAlarms(
  scope: Construct,
  parts: {
    functions: Record<string, LambdaFunction>;
    stateMachines: StateMachine[];
    api: HttpApi;
  },
): ITopic {
  const given = String(scope.node.tryGetContext('hotline:alarmTopicArn') ?? '');
  const topic = given
    ? Topic.fromTopicArn(scope, 'AlarmTopic', given)
    : new Topic(scope, 'AlarmTopic', {
        displayName: '12345 hotline alarms',
        enforceSSL: true,
      });
  const action = new SnsAction(topic);
  const alarm = (id: string, metric: IMetric, description: string, threshold = 1) =>
    new Alarm(scope, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    }).addAlarmAction(action);
  const fiveMinutes = { period: Duration.minutes(5), statistic: 'Sum' };

  for (const machine of parts.stateMachines) {
    const id = machine.node.id;
    alarm(`${id}Failed`, machine.metricFailed(fiveMinutes), `${id}: executions failed`);
    alarm(`${id}TimedOut`, machine.metricTimedOut(fiveMinutes), `${id}: executions timed out`);
    alarm(`${id}Aborted`, machine.metricAborted(fiveMinutes), `${id}: executions aborted`);
  }
  for (const [key, fn] of Object.entries(parts.functions)) {
    alarm(`${key}-errors`, fn.metricErrors(fiveMinutes), `${key}: invocations failed`);
    alarm(`${key}-throttles`, fn.metricThrottles(fiveMinutes), `${key}: invocations throttled`);
  }
  for (const queue of Stack.of(scope)
    .node.findAll()
    .filter((c): c is Queue => c instanceof Queue && isDeadLetterQueue(c.node.id))) {
    alarm(
      `${queue.node.id}Depth`,
      queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      `${queue.node.id}: messages that could not be delivered`,
    );
  }
  alarm(
    'Api5xxRate',
    new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: parts.api.metricServerError(fiveMinutes),
        requests: parts.api.metricCount(fiveMinutes),
      },
      period: Duration.minutes(5),
      label: 'API 5xx (%)',
    }),
    `the API answered 5xx to ${API_5XX_PERCENT}% or more of requests`,
    API_5XX_PERCENT,
  );
  alarm(
    'TicketsStalled',
    new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'TicketsStalled',
      dimensionsMap: { service: METRICS_SERVICE },
      ...fiveMinutes,
    }),
    'a ticket stalled after its step retries: see the stalled list',
  );
  return topic;
}

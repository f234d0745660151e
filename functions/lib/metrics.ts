import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Transition } from '#core/lifecycle';
import type { RejectionCode } from '#core/phone/http';

/**
 * Business metrics as CloudWatch embedded metric format lines (Powertools Metrics): CloudWatch
 * turns the function's log lines into metrics, with no API call on the request path. Counts only,
 * with no dimension but the service and, for refusals, a fixed reason code: never a ticket id,
 * unit, caller or phone number.
 */
export const METRICS_NAMESPACE = 'Hotline12345';
export const METRICS_SERVICE = 'hotline-12345';

export const BUSINESS_METRICS = [
  /** A ticket was stored at intake (by an operator or the phone system; merged ones too). */
  'TicketsFiled',
  /** A ticket was sent to a lead unit (派单), by the catalogue or by a dispatcher. */
  'TicketsDispatched',
  /** A unit missed its sign-for or reply deadline (督办). */
  'TicketsOverdue',
  /** A workflow step failed after its retries and the ticket was marked stalled. */
  'TicketsStalled',
  /** A ticket closed because its caller could not be reached for the callback survey. */
  'SurveysUnreached',
  /** A phone-system webhook delivery was refused; dimension `reason`. */
  'WebhookDeliveriesRefused',
] as const;
export type BusinessMetric = (typeof BUSINESS_METRICS)[number];

/** Why a webhook delivery was refused: a closed set of codes, so no sender value is a dimension. */
export type RefusalReason = RejectionCode | 'not_configured';

const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

/** Emits one count at once (one EMF line): a function may stop before a later flush. */
export function countMetric(name: BusinessMetric, dimensions: { reason?: RefusalReason } = {}) {
  const single = metrics.singleMetric();
  if (dimensions.reason) single.addDimension('reason', dimensions.reason);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** For helper code at the stall point (workflow failure handling). */
export const countStalled = () => countMetric('TicketsStalled');

export function countWebhookRefused(reason: RefusalReason): void {
  countMetric('WebhookDeliveriesRefused', { reason });
}

/** Which business event, if any, a stored transition is. */
export function metricOfTransition(transition: Transition): BusinessMetric | undefined {
  const { event } = transition.history;
  if (transition.before === null) return 'TicketsFiled';
  if (event === 'dispatched' || event === 'redispatched') return 'TicketsDispatched';
  if (event === 'overdue' || event === 'sign_overdue') return 'TicketsOverdue';
  if (transition.ticket.closure === 'unreached' && transition.before.status !== 'closed') {
    return 'SurveysUnreached';
  }
  return undefined;
}

/** Counts what a transition means, after it is stored. */
export function countTransition(transition: Transition): void {
  const metric = metricOfTransition(transition);
  if (metric) countMetric(metric);
}

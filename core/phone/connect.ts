/**
 * Amazon Connect. Nothing here checks a signature: both inputs reach us through AWS (a contact
 * flow invoking our Lambda, an EventBridge rule targeting it), so IAM has authenticated them.
 * They are still validated, since a misconfigured rule or flow can deliver anything, and an
 * optional instance ARN keeps one tenant's instance from feeding another tenant's hotline.
 *
 * Contact flows: the flow calls the Lambda with parameter `hotlineEvent`:
 *   - `call.received`     from the inbound flow, before queueing; the only place Connect hands
 *                         us the caller's number, so missed-call call-backs join on the call id.
 *   - `survey.completed`  from the survey flow, with parameters `resolvedKey` and
 *                         `satisfactionKey` (the stored customer input) and, when the call was
 *                         placed for a survey, contact attribute `surveyId`.
 * Anything else is accepted and ignored.
 *
 * EventBridge contact events (`detail-type: "Amazon Connect Contact Event"`): only DISCONNECTED
 * voice contacts produce events. Inbound: answered by an agent -> call.completed; queued but never
 * answered -> call.missed; ended in the IVR -> nothing. Initiation method API (survey calls
 * placed with StartOutboundVoiceContact; agent-dialled calls are OUTBOUND and ignored) that never
 * connected -> survey.unreachable. All other event types, including future ones, are ignored.
 */
import type {
  ConnectContactFlowEvent,
  ConnectContactFlowResult,
  EventBridgeEvent,
} from 'aws-lambda';
import * as z from 'zod';
import {
  type Accepted,
  mapSurveyKeys,
  normalisePhoneNumber,
  type PhoneEvent,
  type Received,
  type UnreachableReason,
} from './events.ts';
import { checkEventTimes, describeIssues, reject, type TimeWindow } from './http.ts';

export const CONNECT_FLOW_EVENT_PARAMETER = 'hotlineEvent';
export const CONNECT_SURVEY_ID_ATTRIBUTE = 'surveyId';

export interface ConnectOptions {
  /** The tenant's Connect instance; events from any other instance are refused with 403. */
  instanceArn?: string;
  /** How far from `now` a contact event's times may be (DEFAULT_TIME_WINDOW when omitted). */
  timeWindow?: TimeWindow;
}

const IdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/);
const EndpointSchema = z.object({ Address: z.string().max(64), Type: z.string() }).nullish();

const ContactFlowEventSchema = z.object({
  Name: z.literal('ContactFlowEvent'),
  Details: z.object({
    ContactData: z.object({
      Attributes: z.record(z.string(), z.string()).nullish(),
      Channel: z.string(),
      ContactId: IdSchema,
      CustomerEndpoint: EndpointSchema,
      SystemEndpoint: EndpointSchema,
      InstanceARN: z.string(),
    }),
    Parameters: z.record(z.string(), z.string()).nullish(),
  }),
});

function ownValue(record: Record<string, string> | null | undefined, key: string) {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Normalises one contact-flow Lambda invocation. Connect invocations carry no timestamp, so
 * `now` is the event time. Typed as `unknown` input because that is what a Lambda really gets;
 * a `ConnectContactFlowEvent` is of course accepted.
 */
export function normaliseConnectContactFlowEvent(
  event: ConnectContactFlowEvent | unknown,
  options: ConnectOptions & { now: Date },
): Received {
  const parsed = ContactFlowEventSchema.safeParse(event);
  if (!parsed.success) return reject(400, 'body_invalid', describeIssues(parsed.error.issues));
  const { ContactData: contact, Parameters: parameters } = parsed.data.Details;
  if (options.instanceArn !== undefined && contact.InstanceARN !== options.instanceArn) {
    return reject(403, 'tenant_mismatch', 'contact belongs to another Connect instance');
  }
  const hotlineEvent = ownValue(parameters, CONNECT_FLOW_EVENT_PARAMETER);
  const callId = contact.ContactId;
  const accepted = (events: PhoneEvent[], ignored?: string): Accepted => ({
    ok: true,
    provider: 'connect',
    deliveryId: `connect:${callId}:${hotlineEvent ?? 'unspecified'}`,
    events,
    ...(ignored !== undefined && { ignored }),
  });
  if (contact.Channel !== 'VOICE') return accepted([], `channel ${contact.Channel}`);
  const occurredAt = options.now.toISOString();

  switch (hotlineEvent) {
    case 'call.received':
      return accepted([
        {
          type: 'call.received',
          provider: 'connect',
          occurredAt,
          callId,
          callerNumber: normalisePhoneNumber(contact.CustomerEndpoint?.Address),
          calledNumber: normalisePhoneNumber(contact.SystemEndpoint?.Address),
        },
      ]);
    case 'survey.completed': {
      const answers = mapSurveyKeys({
        resolvedKey: ownValue(parameters, 'resolvedKey') ?? '',
        satisfactionKey: ownValue(parameters, 'satisfactionKey') ?? '',
      });
      if (!answers.ok) return answers;
      const surveyId = ownValue(contact.Attributes, CONNECT_SURVEY_ID_ATTRIBUTE);
      if (surveyId !== undefined && !IdSchema.safeParse(surveyId).success) {
        return reject(400, 'body_invalid', 'surveyId attribute is malformed');
      }
      return accepted([
        {
          type: 'survey.completed',
          provider: 'connect',
          occurredAt,
          callId,
          ...(surveyId !== undefined && { surveyId }),
          resolved: answers.resolved,
          satisfaction: answers.satisfaction,
        },
      ]);
    }
    default:
      return accepted([], 'flow event not used');
  }
}

/**
 * What the Lambda hands back to the flow: Connect wants a flat string map, and the flow can branch
 * on `$.External.ok` (for instance to ask again after `keypress_not_on_menu`).
 */
export function connectFlowResponse(result: Received): ConnectContactFlowResult {
  return result.ok ? { ok: 'true' } : { ok: 'false', code: result.code };
}

// ---------------------------------------------------------------------------------------------
// EventBridge contact events

export const CONNECT_CONTACT_EVENT = 'Amazon Connect Contact Event';

const TimestampSchema = z.iso.datetime({ offset: true });

/** The subset of the contact event model used here; AWS adds fields and types over time. */
export interface ConnectContactEventDetail {
  eventType: string;
  contactId: string;
  channel: string;
  instanceArn: string;
  initiationMethod?: string;
  initiationTimestamp?: string;
  connectedToSystemTimestamp?: string;
  disconnectTimestamp?: string;
  disconnectReason?: string;
  queueInfo?: { queueArn?: string; enqueueTimestamp?: string };
  agentInfo?: { agentArn?: string; connectedToAgentTimestamp?: string };
  customerEndpoint?: { address?: string; type?: string };
  systemEndpoint?: { address?: string; type?: string };
}

export type ConnectContactEvent = EventBridgeEvent<
  typeof CONNECT_CONTACT_EVENT,
  ConnectContactEventDetail
>;

const AgentInfoSchema = z
  .object({ connectedToAgentTimestamp: TimestampSchema.nullish() })
  .nullish();

const ContactEventSchema = z.object({
  id: IdSchema,
  'detail-type': z.string(),
  source: z.string(),
  time: TimestampSchema,
  detail: z.record(z.string(), z.unknown()),
});

const DetailSchema = z.object({
  eventType: z.string().min(1).max(64),
  contactId: IdSchema,
  channel: z.string(),
  instanceArn: z.string(),
  initiationMethod: z.string().nullish(),
  initiationTimestamp: TimestampSchema.nullish(),
  connectedToSystemTimestamp: TimestampSchema.nullish(),
  disconnectTimestamp: TimestampSchema.nullish(),
  disconnectReason: z.string().max(128).nullish(),
  queueInfo: z.object({ enqueueTimestamp: TimestampSchema.nullish() }).nullish(),
  // AWS's own samples spell it both ways.
  agentInfo: AgentInfoSchema,
  AgentInfo: AgentInfoSchema,
  customerEndpoint: z.object({ address: z.string().max(64).nullish() }).nullish(),
  systemEndpoint: z.object({ address: z.string().max(64).nullish() }).nullish(),
});

/**
 * Outbound disconnect reasons are loosely documented; match on the words that matter. No reason
 * at all is by far most often nobody picking up.
 */
function unreachableReason(disconnectReason: string | null | undefined): UnreachableReason {
  const reason = (disconnectReason ?? '').toUpperCase();
  if (reason === '') return 'no_answer';
  if (reason.includes('BUSY')) return 'busy';
  if (/NO_?ANSWER|NOT_ANSWERED|UNANSWERED|NEVER_ARRIVED|EXPIRED/.test(reason)) return 'no_answer';
  return 'failed';
}

const seconds = (fromIso: string, toIso: string): number =>
  Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));

export function normaliseConnectContactEvent(
  event: ConnectContactEvent | unknown,
  options: ConnectOptions & { now: Date },
): Received {
  const envelope = ContactEventSchema.safeParse(event);
  if (!envelope.success) return reject(400, 'body_invalid', describeIssues(envelope.error.issues));
  if (
    envelope.data['detail-type'] !== CONNECT_CONTACT_EVENT ||
    envelope.data.source !== 'aws.connect'
  ) {
    return {
      ok: true,
      provider: 'connect',
      deliveryId: `connect:event:${envelope.data.id}`,
      events: [],
      ignored: 'not an Amazon Connect contact event',
    };
  }
  const parsed = DetailSchema.safeParse(envelope.data.detail);
  if (!parsed.success) {
    return reject(
      400,
      'body_invalid',
      describeIssues(parsed.error.issues.map((i) => ({ ...i, path: ['detail', ...i.path] }))),
    );
  }
  const detail = parsed.data;
  if (options.instanceArn !== undefined && detail.instanceArn !== options.instanceArn) {
    return reject(403, 'tenant_mismatch', 'contact belongs to another Connect instance');
  }
  const callId = detail.contactId;
  const accepted = (events: PhoneEvent[], ignored?: string): Accepted => ({
    ok: true,
    provider: 'connect',
    deliveryId: `connect:${callId}:${detail.eventType}`,
    events,
    ...(ignored !== undefined && { ignored }),
  });
  if (detail.eventType !== 'DISCONNECTED') return accepted([], `event type ${detail.eventType}`);
  if (detail.channel.toUpperCase() !== 'VOICE') return accepted([], `channel ${detail.channel}`);

  const at = (iso: string | null | undefined) => (iso ? Date.parse(iso) : undefined);
  const outOfRange = checkEventTimes(
    {
      time: at(envelope.data.time),
      'detail.initiationTimestamp': at(detail.initiationTimestamp),
      'detail.connectedToSystemTimestamp': at(detail.connectedToSystemTimestamp),
      'detail.disconnectTimestamp': at(detail.disconnectTimestamp),
      'detail.queueInfo.enqueueTimestamp': at(detail.queueInfo?.enqueueTimestamp),
      'detail.agentInfo.connectedToAgentTimestamp': at(
        (detail.agentInfo ?? detail.AgentInfo)?.connectedToAgentTimestamp,
      ),
    },
    options.now,
    options.timeWindow,
  );
  if (outOfRange) return outOfRange;

  const disconnectedAt = detail.disconnectTimestamp ?? envelope.data.time;
  const occurredAt = new Date(disconnectedAt).toISOString();
  const base = {
    provider: 'connect',
    occurredAt,
    callId,
    callerNumber: normalisePhoneNumber(detail.customerEndpoint?.address),
    calledNumber: normalisePhoneNumber(detail.systemEndpoint?.address),
  } as const;

  switch (detail.initiationMethod) {
    case 'INBOUND': {
      const agentAt = (detail.agentInfo ?? detail.AgentInfo)?.connectedToAgentTimestamp;
      const queuedAt = detail.queueInfo?.enqueueTimestamp;
      if (agentAt) {
        return accepted([
          {
            type: 'call.completed',
            ...base,
            durationSeconds: seconds(agentAt, disconnectedAt),
            ...(detail.initiationTimestamp && {
              startedAt: new Date(detail.initiationTimestamp).toISOString(),
            }),
          },
        ]);
      }
      if (queuedAt) {
        return accepted([
          {
            type: 'call.missed',
            ...base,
            reason: 'abandoned',
            waitSeconds: seconds(queuedAt, disconnectedAt),
          },
        ]);
      }
      return accepted([], 'inbound call ended before reaching the queue');
    }
    case 'API': {
      if (detail.connectedToSystemTimestamp) {
        return accepted([], 'survey call connected; answers come from the survey flow');
      }
      return accepted([
        {
          type: 'survey.unreachable',
          provider: 'connect',
          occurredAt,
          callId,
          reason: unreachableReason(detail.disconnectReason),
        },
      ]);
    }
    default:
      return accepted([], `initiation method ${detail.initiationMethod ?? 'unknown'}`);
  }
}

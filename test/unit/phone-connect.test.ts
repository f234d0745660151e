import type { ConnectContactFlowEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  type ConnectContactEvent,
  connectFlowResponse,
  normaliseConnectContactEvent,
  normaliseConnectContactFlowEvent,
} from '../../core/phone/connect.ts';
import { PhoneEventSchema } from '../../core/phone/events.ts';

const NOW = new Date('2026-03-05T06:20:00Z');
const instanceArn =
  'arn:aws-cn:connect:cn-north-1:111122223333:instance/11111111-2222-3333-4444-555555555555';
const contactId = '7d3a2c1e-0b9f-4e8d-a6c5-1f2e3d4c5b6a';

function flowEvent(
  parameters: Record<string, string>,
  overrides: Partial<ConnectContactFlowEvent['Details']['ContactData']> = {},
): ConnectContactFlowEvent {
  return {
    Name: 'ContactFlowEvent',
    Details: {
      ContactData: {
        Attributes: {},
        Channel: 'VOICE',
        ContactId: contactId,
        CustomerEndpoint: { Address: '+8613800000000', Type: 'TELEPHONE_NUMBER' },
        InitialContactId: contactId,
        InitiationMethod: 'INBOUND',
        InstanceARN: instanceArn,
        PreviousContactId: contactId,
        Queue: null,
        SystemEndpoint: { Address: '+8657112345', Type: 'TELEPHONE_NUMBER' },
        MediaStreams: { Customer: { Audio: null } },
        ...overrides,
      },
      Parameters: parameters,
    },
  };
}

function contactEvent(detail: Partial<ConnectContactEvent['detail']>): ConnectContactEvent {
  return {
    version: '0',
    id: 'a1b2c3d4-0000-1111-2222-333344445555',
    'detail-type': 'Amazon Connect Contact Event',
    source: 'aws.connect',
    account: '111122223333',
    time: '2026-03-05T06:19:58Z',
    region: 'cn-north-1',
    resources: [instanceArn],
    detail: {
      eventType: 'DISCONNECTED',
      contactId,
      channel: 'VOICE',
      instanceArn,
      initiationMethod: 'INBOUND',
      initiationTimestamp: '2026-03-05T06:10:00.000Z',
      connectedToSystemTimestamp: '2026-03-05T06:10:01.000Z',
      disconnectTimestamp: '2026-03-05T06:19:57.000Z',
      ...detail,
    },
  };
}

describe('normaliseConnectContactFlowEvent', () => {
  const normalise = (event: unknown) =>
    normaliseConnectContactFlowEvent(event, { now: NOW, instanceArn });

  it('turns the inbound flow invocation into call.received', () => {
    const result = normalise(flowEvent({ hotlineEvent: 'call.received' }));
    expect(result).toEqual({
      ok: true,
      provider: 'connect',
      deliveryId: `connect:${contactId}:call.received`,
      events: [
        {
          type: 'call.received',
          provider: 'connect',
          occurredAt: NOW.toISOString(),
          callId: contactId,
          callerNumber: '+8613800000000',
          calledNumber: '+8657112345',
        },
      ],
    });
    if (result.ok) expect(PhoneEventSchema.parse(result.events[0])).toEqual(result.events[0]);
  });

  it('accepts a withheld caller', () => {
    const result = normalise(
      flowEvent({ hotlineEvent: 'call.received' }, { CustomerEndpoint: null }),
    );
    expect(result).toMatchObject({ events: [{ callerNumber: null }] });
  });

  it('turns the survey flow invocation into survey.completed', () => {
    const result = normalise(
      flowEvent(
        { hotlineEvent: 'survey.completed', resolvedKey: '2', satisfactionKey: '1' },
        { InitiationMethod: 'API', Attributes: { surveyId: 'srv_5521' } },
      ),
    );
    expect(result).toMatchObject({
      ok: true,
      deliveryId: `connect:${contactId}:survey.completed`,
      events: [
        {
          type: 'survey.completed',
          surveyId: 'srv_5521',
          callId: contactId,
          resolved: false,
          satisfaction: 'satisfied',
        },
      ],
    });
  });

  it('refuses survey keys that are not on the menu, and tells the flow', () => {
    for (const [resolvedKey, satisfactionKey] of [
      ['3', '1'],
      ['1', '4'],
      ['', '1'],
      ['1', 'Timeout'],
    ]) {
      const result = normalise(
        flowEvent({
          hotlineEvent: 'survey.completed',
          resolvedKey: resolvedKey!,
          satisfactionKey: satisfactionKey!,
        }),
      );
      expect(result).toMatchObject({ ok: false, status: 400, code: 'keypress_not_on_menu' });
      expect(connectFlowResponse(result)).toEqual({ ok: 'false', code: 'keypress_not_on_menu' });
    }
    expect(
      normalise(flowEvent({ hotlineEvent: 'survey.completed', satisfactionKey: '1' })),
    ).toMatchObject({
      code: 'keypress_not_on_menu',
    });
  });

  it('accepts and ignores unknown flow events and non-voice contacts', () => {
    for (const event of [
      flowEvent({ hotlineEvent: 'call.transferred' }),
      flowEvent({}),
      flowEvent({ hotlineEvent: 'constructor' }),
      flowEvent({ hotlineEvent: 'call.received' }, { Channel: 'CHAT' }),
    ]) {
      const result = normalise(event);
      expect(result).toMatchObject({ ok: true, events: [], ignored: expect.any(String) });
      expect(connectFlowResponse(result)).toEqual({ ok: 'true' });
    }
  });

  it('describes invalid invocations without echoing sender-chosen keys', () => {
    const event = flowEvent({ hotlineEvent: 'call.received' }) as unknown as {
      Details: { ContactData: { Attributes: Record<string, unknown> } };
    };
    event.Details.ContactData.Attributes['+8613800000000'] = 5;
    const result = normalise(event);
    expect(result).toMatchObject({ status: 400, code: 'body_invalid' });
    if (!result.ok) {
      expect(result.message).toContain('Details.ContactData.Attributes.*');
      expect(result.message).not.toContain('13800000000');
    }
  });

  it('refuses contacts from another Connect instance', () => {
    const other = flowEvent(
      { hotlineEvent: 'call.received' },
      { InstanceARN: instanceArn.replace('5555', '6666') },
    );
    expect(normalise(other)).toMatchObject({ status: 403, code: 'tenant_mismatch' });
  });

  it('refuses malformed invocations without throwing', () => {
    const broken = flowEvent({ hotlineEvent: 'call.received' }) as unknown as {
      Details: { ContactData: Record<string, unknown> };
    };
    delete broken.Details.ContactData.ContactId;
    for (const event of [broken, null, 'x', {}, { Name: 'ContactFlowEvent' }]) {
      expect(normalise(event)).toMatchObject({ ok: false, status: 400, code: 'body_invalid' });
    }
  });
});

describe('normaliseConnectContactEvent', () => {
  const normalise = (event: unknown) =>
    normaliseConnectContactEvent(event, { instanceArn, now: new Date('2026-03-05T06:20:00Z') });

  it('turns a disconnected call answered by an agent into call.completed', () => {
    const result = normalise(
      contactEvent({
        queueInfo: { enqueueTimestamp: '2026-03-05T06:10:30.000Z' },
        agentInfo: { connectedToAgentTimestamp: '2026-03-05T06:11:00.000Z' },
      }),
    );
    expect(result).toEqual({
      ok: true,
      provider: 'connect',
      deliveryId: `connect:${contactId}:DISCONNECTED`,
      events: [
        {
          type: 'call.completed',
          provider: 'connect',
          occurredAt: '2026-03-05T06:19:57.000Z',
          callId: contactId,
          callerNumber: null,
          calledNumber: null,
          startedAt: '2026-03-05T06:10:00.000Z',
          durationSeconds: 537,
        },
      ],
    });
    if (result.ok) expect(PhoneEventSchema.parse(result.events[0])).toEqual(result.events[0]);
  });

  it('reads AgentInfo in either spelling AWS uses, and endpoints when present', () => {
    const event = contactEvent({
      customerEndpoint: { address: '+8613800000000', type: 'TELEPHONE_NUMBER' },
    });
    (event.detail as unknown as Record<string, unknown>).AgentInfo = {
      AgentArn: 'arn',
      connectedToAgentTimestamp: '2026-03-05T06:19:00.000Z',
    };
    expect(normalise(event)).toMatchObject({
      events: [{ type: 'call.completed', durationSeconds: 57, callerNumber: '+8613800000000' }],
    });
  });

  it('turns a queued call nobody answered into call.missed', () => {
    const result = normalise(
      contactEvent({
        queueInfo: { queueArn: 'arn:q', enqueueTimestamp: '2026-03-05T06:18:22.000Z' },
      }),
    );
    expect(result).toMatchObject({
      events: [{ type: 'call.missed', reason: 'abandoned', waitSeconds: 95 }],
    });
  });

  it('ignores calls that ended in the IVR', () => {
    expect(normalise(contactEvent({}))).toMatchObject({
      ok: true,
      events: [],
      ignored: expect.any(String),
    });
  });

  it('reports survey calls that never connected as survey.unreachable', () => {
    for (const [disconnectReason, reason] of [
      [undefined, 'no_answer'],
      ['CUSTOMER_NEVER_ARRIVED', 'no_answer'],
      ['TELECOM_BUSY', 'busy'],
      ['OUTBOUND_DESTINATION_ENDPOINT_ERROR', 'failed'],
      ['TELECOM_PROBLEM', 'failed'],
    ] as const) {
      const result = normalise(
        contactEvent({
          initiationMethod: 'API',
          connectedToSystemTimestamp: undefined,
          ...(disconnectReason && { disconnectReason }),
        }),
      );
      expect(result).toMatchObject({
        events: [{ type: 'survey.unreachable', callId: contactId, reason }],
      });
    }
    expect(normalise(contactEvent({ initiationMethod: 'API' }))).toMatchObject({ events: [] });
  });

  it('ignores agent-dialled outbound calls, other channels and other event types', () => {
    for (const detail of [
      { initiationMethod: 'OUTBOUND' },
      { initiationMethod: 'TRANSFER' },
      { channel: 'CHAT' },
      { eventType: 'INITIATED' },
      { eventType: 'QUEUED' },
      { eventType: 'CONNECTED_TO_AGENT' },
      { eventType: 'CONTACT_DATA_UPDATED' },
      { eventType: 'SOME_EVENT_AWS_ADDS_NEXT_YEAR' },
    ]) {
      const result = normalise(contactEvent(detail));
      expect(result).toMatchObject({ ok: true, events: [], ignored: expect.any(String) });
    }
    expect(normalise(contactEvent({ eventType: 'QUEUED' }))).toMatchObject({
      deliveryId: `connect:${contactId}:QUEUED`,
    });
  });

  it('accepts and ignores other EventBridge events routed here', () => {
    const event = {
      ...contactEvent({}),
      'detail-type': 'Amazon Connect Agent Event',
      detail: { anything: 1 },
    };
    expect(normalise(event)).toMatchObject({
      ok: true,
      events: [],
      deliveryId: `connect:event:${event.id}`,
    });
  });

  it('refuses events from another instance and malformed events', () => {
    expect(normalise(contactEvent({ instanceArn: `${instanceArn}x` }))).toMatchObject({
      status: 403,
      code: 'tenant_mismatch',
    });
    const noContact = contactEvent({});
    delete (noContact.detail as Partial<ConnectContactEvent['detail']>).contactId;
    for (const event of [
      noContact,
      contactEvent({ disconnectTimestamp: 'yesterday' }),
      { ...contactEvent({}), detail: 'x' },
      { ...contactEvent({}), id: undefined },
      null,
    ]) {
      expect(normalise(event)).toMatchObject({ ok: false, status: 400, code: 'body_invalid' });
    }
  });
});

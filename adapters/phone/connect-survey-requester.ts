import { type ConnectClient, StartOutboundVoiceContactCommand } from '@aws-sdk/client-connect';
import { CONNECT_SURVEY_ID_ATTRIBUTE } from '#core/phone/connect';
import type { SurveyRequest, SurveyRequester, SurveyRequestResult } from '#core/ports';

export interface ConnectSurveyRequesterOptions {
  instanceId: string;
  /** The survey contact flow: asks the two questions and invokes connect-flow with the keys. */
  contactFlowId: string;
  sourcePhoneNumber?: string;
  queueId?: string;
  /** Where the contact id of a placed call is kept, so that a survey.unreachable finds its survey. */
  rememberCall?: (callId: string, surveyId: string) => Promise<void>;
}

/**
 * Places a survey call with Amazon Connect StartOutboundVoiceContact. The survey id is the client
 * token (a retried request does not dial twice) and a contact attribute, which the survey flow
 * hands back with the answers.
 */
export class ConnectSurveyRequester implements SurveyRequester {
  constructor(
    private readonly client: ConnectClient,
    private readonly options: ConnectSurveyRequesterOptions,
  ) {}

  async requestSurvey(request: SurveyRequest): Promise<SurveyRequestResult> {
    try {
      const result = await this.client.send(
        new StartOutboundVoiceContactCommand({
          InstanceId: this.options.instanceId,
          ContactFlowId: this.options.contactFlowId,
          DestinationPhoneNumber: request.callee,
          ClientToken: request.surveyId,
          Attributes: {
            [CONNECT_SURVEY_ID_ATTRIBUTE]: request.surveyId,
            ticketId: request.ticketId,
          },
          ...(this.options.sourcePhoneNumber
            ? { SourcePhoneNumber: this.options.sourcePhoneNumber }
            : {}),
          ...(this.options.queueId ? { QueueId: this.options.queueId } : {}),
        }),
      );
      const callId = result.ContactId;
      if (callId && this.options.rememberCall) {
        await this.options.rememberCall(callId, request.surveyId);
      }
      return { accepted: true, via: 'amazon-connect', attempts: 1, ...(callId ? { callId } : {}) };
    } catch (error) {
      // The SDK has retried throttling and 5xx already; the error name says why, never the number.
      return {
        accepted: false,
        via: 'amazon-connect',
        attempts: 1,
        reason: (error as Error)?.name ?? 'error',
      };
    }
  }
}

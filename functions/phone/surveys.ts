import { ConnectClient } from '@aws-sdk/client-connect';
import { ConnectSurveyRequester } from '#adapters/phone/connect-survey-requester';
import { StandardSurveyRequester } from '#adapters/phone/standard-survey-requester';
import { now } from '#core/clock';
import type { SurveyRequester } from '#core/ports';
import { phoneConfig } from './config.ts';
import { deliveryStore } from './delivery-store.ts';

/**
 * The SurveyRequester the phone configuration names (`surveys.kind`), or undefined when none is
 * configured. For the lifecycle's survey step (functions/lib/deps.ts) to use.
 */
export async function configuredSurveyRequester(): Promise<SurveyRequester | undefined> {
  const surveys = (await phoneConfig()).surveys;
  if (!surveys) return undefined;
  if (surveys.kind === 'standard') {
    return new StandardSurveyRequester({
      url: surveys.url,
      secrets: surveys.secrets,
      now,
      ...(surveys.attempts ? { attempts: surveys.attempts } : {}),
    });
  }
  return new ConnectSurveyRequester(new ConnectClient({}), {
    instanceId: surveys.instanceId,
    contactFlowId: surveys.contactFlowId,
    ...(surveys.sourcePhoneNumber ? { sourcePhoneNumber: surveys.sourcePhoneNumber } : {}),
    ...(surveys.queueId ? { queueId: surveys.queueId } : {}),
    rememberCall: (callId, surveyId) =>
      deliveryStore().rememberSurveyCall('connect', callId, surveyId),
  });
}

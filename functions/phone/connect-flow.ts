import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ConnectContactFlowEvent, ConnectContactFlowResult } from 'aws-lambda';
import { now } from '#core/clock';
import { connectFlowResponse, normaliseConnectContactFlowEvent } from '#core/phone/connect';
import { receivePhoneDelivery } from '#core/phone-intake';
import { logger } from '../lib/logger.ts';
import { traced } from '../lib/tracer.ts';
import { phoneConfig } from './config.ts';
import { phoneIntakeDeps } from './deps.ts';

/**
 * Invoked by an Amazon Connect contact flow (IAM-authenticated). The flow branches on `ok`; a
 * failure to store is thrown, which the flow sees as an error branch.
 */
export const handler = middy<ConnectContactFlowEvent, ConnectContactFlowResult>()
  .use(traced())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const config = await phoneConfig();
    const received = normaliseConnectContactFlowEvent(event, {
      now: now(),
      ...(config.connect?.instanceArn ? { instanceArn: config.connect.instanceArn } : {}),
    });
    if (!received.ok) {
      logger.info('connect flow event refused', { code: received.code });
      return connectFlowResponse(received);
    }
    const result = await receivePhoneDelivery(phoneIntakeDeps(), received);
    logger.info('connect flow event', {
      deliveryId: received.deliveryId,
      outcome: result.outcome,
      events: received.events.map((e) => e.type),
    });
    return connectFlowResponse(received);
  });

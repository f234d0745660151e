import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { now } from '#core/clock';
import { type ConnectContactEvent, normaliseConnectContactEvent } from '#core/phone/connect';
import { receivePhoneDelivery } from '#core/phone-intake';
import { logger } from '../lib/logger.ts';
import { traced } from '../lib/tracer.ts';
import { phoneConfig } from './config.ts';
import { phoneIntakeDeps } from './deps.ts';

/**
 * Target of the EventBridge rule on `aws.connect` / `Amazon Connect Contact Event`. Unknown event
 * types are accepted and ignored. An event that cannot be valid is logged and dropped (retrying it
 * cannot help); a failure to store is thrown so that EventBridge retries the delivery.
 */
export const handler = middy<ConnectContactEvent, { outcome: string }>()
  .use(traced())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const config = await phoneConfig();
    const received = normaliseConnectContactEvent(event, {
      now: now(),
      ...(config.connect?.instanceArn ? { instanceArn: config.connect.instanceArn } : {}),
      ...(config.eventTimeWindow ? { timeWindow: config.eventTimeWindow } : {}),
    });
    if (!received.ok) {
      logger.warn('connect contact event dropped', {
        code: received.code,
        status: received.status,
      });
      return { outcome: 'refused' };
    }
    const result = await receivePhoneDelivery(phoneIntakeDeps(), received);
    logger.info('connect contact event', {
      deliveryId: received.deliveryId,
      outcome: result.outcome,
      events: received.events.map((e) => e.type),
      ...(received.ignored ? { ignored: received.ignored } : {}),
    });
    return { outcome: result.outcome };
  });

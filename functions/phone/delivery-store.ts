import { documentClient, tableName } from '#adapters/dynamodb/client';
import { DynamoPhoneDeliveryStore } from '#adapters/dynamodb/delivery-store';
import { perContainer } from '#adapters/function-env';
import { now } from '#core/clock';
import { phoneTenant } from './config.ts';

/** The phone deliveries of this tenant: its own module, so reading them bundles no intake. */
export const deliveryStore = perContainer(
  () => new DynamoPhoneDeliveryStore(documentClient, tableName(), phoneTenant(), now),
);

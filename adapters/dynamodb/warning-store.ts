import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AnalyticsWarning } from '#core/analytics/warnings';
import { keys } from './keys.ts';
import { queryAll } from './query.ts';

export type StoredWarning = AnalyticsWarning & { mailedAt?: string };

/** Analytics warnings: recorded once per finding id (a conditional put), read by month. */
export class DynamoWarningStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** True when this finding is new; false when it was already recorded (any earlier day). */
  async record(warning: AnalyticsWarning): Promise<boolean> {
    const month = warning.day.slice(0, 7);
    try {
      // The finding's own item guards "once": a re-run or a later day finds it there.
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.analyticsFinding(warning.id), day: warning.day },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...keys.analyticsWarning(month, warning.day, warning.id), ...warning },
      }),
    );
    return true;
  }

  async list(month: string): Promise<StoredWarning[]> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.analyticsWarning(month).PK },
    });
    return items.map(({ PK: _pk, SK: _sk, ...w }) => w as unknown as StoredWarning);
  }

  async markMailed(warning: AnalyticsWarning, at: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.analyticsWarning(warning.day.slice(0, 7), warning.day, warning.id),
        UpdateExpression: 'SET mailedAt = :at',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }
}

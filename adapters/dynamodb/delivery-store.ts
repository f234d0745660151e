import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '#core/errors';
import { type CallStatus, PHONE_PROVIDERS, type PhoneProvider } from '#core/phone/events';
import type {
  CallbackDone,
  CallbackEntry,
  CallbackRef,
  DeliveryRecord,
  PhoneDeliveryStore,
  PhoneEffect,
  RecordOfDelivery,
  StatusChange,
} from '#core/phone-intake';
import type { WriteAlongside } from '#core/ports';
import { keys } from './keys.ts';
import { queryAll } from './query.ts';
import { TTL_ATTRIBUTE } from './schema.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Senders retry for a few days at most (Standard Webhooks/Svix about 5); keep ids a while longer. */
const DELIVERY_RETENTION_SECONDS = 35 * 24 * 3600;
/** Call records, call-backs, survey results and dead letters: a bit more than a year. */
const RECORD_RETENTION_SECONDS = 400 * 24 * 3600;
/** Tries of a delivery's transaction when concurrent copies of it conflict. */
const TRANSACTION_ATTEMPTS = 4;

function callChanged(): ConflictError {
  return new ConflictError('the call changed meanwhile', [
    { field: 'callId', problem: 'another delivery for this call was recorded meanwhile' },
  ]);
}

/**
 * The phone side of the single table (ACCESS-PATTERNS.md, phone webhooks): every operation is a
 * GetItem, a Query on one partition or a small transaction. No Scan.
 */
export class DynamoPhoneDeliveryStore implements PhoneDeliveryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly tenant: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private expiry(seconds: number): number {
    return Math.floor(this.now().getTime() / 1000) + seconds;
  }

  private async getItem(key: Record<string, string>) {
    const result = await this.client.send(
      new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
    );
    return result.Item;
  }

  private call(provider: string, callId: string, part: string) {
    return keys.phoneCall(this.tenant, provider, callId, part);
  }

  async hasDelivery(deliveryId: string): Promise<boolean> {
    return Boolean(await this.getItem(keys.phoneDelivery(this.tenant, deliveryId)));
  }

  /** The delivery record (first) and the call's new status: the items a duplicate is told by. */
  private deliveryItems(delivery: DeliveryRecord, status?: StatusChange): TransactItem[] {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.table,
          Item: {
            ...keys.phoneDelivery(this.tenant, delivery.deliveryId),
            ...delivery,
            [TTL_ATTRIBUTE]: this.expiry(DELIVERY_RETENTION_SECONDS),
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
    ];
    if (status) {
      items.push({
        Put: {
          TableName: this.table,
          Item: {
            ...this.call(status.provider, status.callId, 'STATUS'),
            status: status.next,
            [TTL_ATTRIBUTE]: this.expiry(RECORD_RETENTION_SECONDS),
          },
          ConditionExpression:
            status.previous === undefined ? 'attribute_not_exists(PK)' : '#status = :previous',
          ...(status.previous === undefined
            ? {}
            : {
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':previous': status.previous },
              }),
        },
      });
    }
    return items;
  }

  withTicket(
    call: { provider: PhoneProvider; callId: string; ticketId: string },
    record?: RecordOfDelivery,
  ): { write: WriteAlongside; refusal: (index: number) => 'duplicate' | 'call-has-ticket' } {
    const ttl = this.expiry(RECORD_RETENTION_SECONDS);
    const items = record ? this.deliveryItems(record.delivery, record.status) : [];
    const callAt = items.length;
    items.push({
      Put: {
        TableName: this.table,
        Item: {
          ...this.call(call.provider, call.callId, 'TICKET'),
          ticketId: call.ticketId,
          [TTL_ATTRIBUTE]: ttl,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    });
    for (const effect of record?.effects ?? []) {
      items.push(...this.effectItems(record!.delivery, effect, ttl));
    }
    return {
      write: { items },
      refusal: (index) => {
        if (record && index === 0) return 'duplicate';
        if (index === callAt) return 'call-has-ticket';
        if (record?.status && index === 1) throw callChanged();
        throw new Error(`item ${index} written with the call's ticket was refused`);
      },
    };
  }

  async record(
    delivery: DeliveryRecord,
    effects: PhoneEffect[],
    status?: StatusChange,
  ): Promise<'recorded' | 'duplicate'> {
    const items = this.deliveryItems(delivery, status);
    const ttl = this.expiry(RECORD_RETENTION_SECONDS);
    const fixed = items.length;
    for (const effect of effects) items.push(...this.effectItems(delivery, effect, ttl));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
        return 'recorded';
      } catch (error) {
        const reasons =
          error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        const calledBack = reasons.findIndex(
          (r, i) => i >= fixed && r.Code === 'ConditionalCheckFailed',
        );
        if (calledBack >= 0 && reasons[0]?.Code !== 'ConditionalCheckFailed') {
          // The call is on a call-back list already (an earlier delivery of the same missed
          // call): record this delivery without a second entry.
          items.splice(fixed, items.length - fixed);
          const rest = effects.filter((e) => e.kind !== 'callback');
          for (const effect of rest) items.push(...this.effectItems(delivery, effect, ttl));
          continue;
        }
        const conflict = reasons.some((r) => r.Code === 'TransactionConflict');
        if (!conflict || attempt >= TRANSACTION_ATTEMPTS) return this.refusal(error, status);
        // Concurrent copies of one delivery collide in DynamoDB before either condition is
        // evaluated; the one that went first decides whether this copy is a duplicate.
        if (await this.hasDelivery(delivery.deliveryId)) return 'duplicate';
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 30));
      }
    }
  }

  /** Why the delivery's transaction was cancelled: a duplicate, a conflict, or an error. */
  private refusal(error: unknown, status: StatusChange | undefined): 'duplicate' {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'duplicate';
    if (status && reasons[1]?.Code === 'ConditionalCheckFailed') throw callChanged();
    throw error;
  }

  /** Every effect is one item, but a call-back, which also claims the call's CALLBACK marker. */
  private effectItems(delivery: DeliveryRecord, effect: PhoneEffect, ttl: number): TransactItem[] {
    if (effect.kind !== 'callback') return [this.effectItem(delivery, effect, ttl)];
    const { entry } = effect;
    const marker: TransactItem = {
      Put: {
        TableName: this.table,
        Item: {
          ...this.call(entry.provider, entry.callId, 'CALLBACK'),
          provider: entry.provider,
          callId: entry.callId,
          day: effect.day,
          occurredAt: entry.occurredAt,
          [TTL_ATTRIBUTE]: ttl,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    };
    return [marker, this.effectItem(delivery, effect, ttl)];
  }

  private callbackKey(ref: Pick<CallbackRef, 'provider' | 'callId' | 'day' | 'occurredAt'>) {
    return keys.callback(this.tenant, ref.day, ref.occurredAt, `${ref.provider}#${ref.callId}`);
  }

  async findCallbacks(callId: string, provider?: PhoneProvider): Promise<CallbackRef[]> {
    const providers = provider ? [provider] : PHONE_PROVIDERS;
    const markers = await Promise.all(
      providers.map((p) => this.getItem(this.call(p, callId, 'CALLBACK'))),
    );
    return markers.flatMap((item) =>
      item
        ? [
            {
              provider: item.provider as PhoneProvider,
              callId: String(item.callId),
              day: String(item.day),
              occurredAt: String(item.occurredAt),
              ...(item.done ? { done: item.done as CallbackDone } : {}),
            },
          ]
        : [],
    );
  }

  async markCallbackDone(ref: CallbackRef, done: CallbackDone): Promise<boolean> {
    const set = (key: Record<string, string>, condition: string): TransactItem => ({
      Update: {
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET #done = :done',
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#done': 'done' },
        ExpressionAttributeValues: { ':done': done },
      },
    });
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            set(
              this.call(ref.provider, ref.callId, 'CALLBACK'),
              'attribute_exists(PK) AND attribute_not_exists(#done)',
            ),
            set(this.callbackKey(ref), 'attribute_exists(PK)'),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      if (error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  private effectItem(delivery: DeliveryRecord, effect: PhoneEffect, ttl: number): TransactItem {
    const put = (key: Record<string, string>, attributes: Record<string, unknown>) => ({
      Put: {
        TableName: this.table,
        Item: { ...key, ...attributes, deliveryId: delivery.deliveryId, [TTL_ATTRIBUTE]: ttl },
      },
    });
    switch (effect.kind) {
      case 'call': {
        const { kind: _kind, part, ...call } = effect;
        return put(this.call(effect.provider, effect.callId, part), call);
      }
      case 'callback': {
        const { entry } = effect;
        const key = this.callbackKey({ ...entry, day: effect.day });
        return put(key, { ...entry });
      }
      case 'survey': {
        const { kind: _kind, ...result } = effect;
        return put(keys.surveyResult(this.tenant, effect.ref, delivery.deliveryId), result);
      }
      case 'deadLetter': {
        const { kind: _kind, day: _day, ...letter } = effect;
        const key = keys.phoneDeadLetter(
          this.tenant,
          effect.day,
          delivery.receivedAt,
          delivery.deliveryId,
        );
        return put(key, {
          ...letter,
          provider: delivery.provider,
          receivedAt: delivery.receivedAt,
          deadLetter: true,
        });
      }
    }
  }

  async callStatus(provider: PhoneProvider, callId: string): Promise<CallStatus | undefined> {
    const item = await this.getItem(this.call(provider, callId, 'STATUS'));
    return item?.status as CallStatus | undefined;
  }

  async receivedCall(provider: PhoneProvider, callId: string) {
    const item = await this.getItem(this.call(provider, callId, 'RECEIVED'));
    return item ? { callerNumber: (item.callerNumber as string | null) ?? null } : undefined;
  }

  async callTicket(provider: PhoneProvider, callId: string): Promise<string | undefined> {
    const item = await this.getItem(this.call(provider, callId, 'TICKET'));
    return item?.ticketId as string | undefined;
  }

  async surveyOfCall(provider: PhoneProvider, callId: string): Promise<string | undefined> {
    const item = await this.getItem(this.call(provider, callId, 'SURVEY'));
    return item?.surveyId as string | undefined;
  }

  async rememberSurveyCall(provider: PhoneProvider, callId: string, surveyId: string) {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...this.call(provider, callId, 'SURVEY'),
          surveyId,
          [TTL_ATTRIBUTE]: this.expiry(RECORD_RETENTION_SECONDS),
        },
      }),
    );
  }

  async callbacks(day: string): Promise<CallbackEntry[]> {
    return this.queryDay(keys.callback(this.tenant, day).PK, (item) => ({
      callId: String(item.callId),
      provider: item.provider as PhoneProvider,
      occurredAt: String(item.occurredAt),
      callerNumber: (item.callerNumber as string | null) ?? null,
      calledNumber: (item.calledNumber as string | null) ?? null,
      reason: item.reason as CallbackEntry['reason'],
      ...(typeof item.waitSeconds === 'number' ? { waitSeconds: item.waitSeconds } : {}),
      ...(item.done ? { done: item.done as CallbackDone } : {}),
    }));
  }

  /** Dead letters of a day (Asia/Shanghai), oldest first, for a human to look at. */
  async deadLetters(day: string): Promise<Record<string, unknown>[]> {
    return this.queryDay(keys.phoneDeadLetter(this.tenant, day).PK, (item) => {
      const { PK: _pk, SK: _sk, [TTL_ATTRIBUTE]: _ttl, ...rest } = item;
      return rest;
    });
  }

  private async queryDay<T>(pk: string, map: (item: Record<string, unknown>) => T): Promise<T[]> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    });
    return items.map(map);
  }
}

import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { MetricDelta, Transition } from '#core/lifecycle';
import { metricPeriods } from '#core/metrics';
import { keys } from './keys.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * What a ticket change moves in the unit counters, carried on the ticket item (`lastMetrics`) for
 * the table's stream: the version that moved them and each delta with the day it counts in.
 */
export interface StoredMetrics {
  version: number;
  deltas: (Omit<MetricDelta, 'day'> & { day: string })[];
}

export const METRICS_ATTRIBUTE = 'lastMetrics';

/** DynamoDB's limit on the items of one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;

/**
 * The cancellation reasons that refuse a batch rather than fail it: a version counted before (a
 * marker's condition) and contention with another transaction; `None` marks the items that were
 * fine.
 */
const REFUSALS = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);

/**
 * Whether `countAll` counted a batch, and if not why: DynamoDB's cancellation reason codes (never
 * an item: the ticket data stays out of logs).
 */
export type BatchCount =
  | { counted: true }
  | { counted: false; why: 'too many items'; items: number }
  | { counted: false; why: 'cancelled'; reasons: string[] };

/** The metrics a transition moves, ready to ride on the ticket item; undefined if none. */
export function storedMetrics(transition: Transition): StoredMetrics | undefined {
  // A delta counts on the transition's own day unless it is a correction, which carries the day
  // it takes back.
  const today = metricPeriods(new Date(transition.history.at))[0];
  const deltas = transition.metrics
    .map(({ unitId, counters, day = today }) => ({
      unitId,
      day,
      counters: Object.fromEntries(Object.entries(counters).filter(([, n]) => n)),
    }))
    .filter((d) => Object.keys(d.counters).length > 0);
  return deltas.length > 0 ? { version: transition.ticket.version, deltas } : undefined;
}

/**
 * Adds the counters a ticket change carries to its units' day and month items, exactly once per
 * change, off the ticket's own write (the stream-workflow consumer calls it for every stored
 * ticket version with metrics).
 *
 * Why exactly once: the counters change in one transaction with the ticket's `COUNTED` marker,
 * which holds the highest version counted and accepts only a higher one. The stream delivers the
 * versions of one ticket in order, and a failed record is retried (before anything after it), so
 * every version is offered until counted; a redelivered one finds the marker at or past it and
 * changes nothing.
 */
export class DynamoMetricCounter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** True if counted now, false if this version (or a later one) was counted before. */
  async count(ticketId: string, metrics: StoredMetrics): Promise<boolean> {
    const items = [
      this.marker(ticketId, metrics.version, metrics.version),
      ...this.counterUpdates(metrics.deltas),
    ];
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        return false;
      }
      throw error;
    }
  }

  /**
   * Counts a stream batch's ticket versions, in order, in one transaction when it can: each
   * ticket's marker moves from below its first version in the batch to its last, and the deltas
   * are summed per unit and period, so a busy batch costs a marker per ticket and one update per
   * counter item instead of a transaction per version. Refused (nothing counted; `count` then
   * takes the versions one by one) when the batch cannot be counted whole: it needs more than a
   * transaction holds, or DynamoDB cancelled it because one of its versions was counted before
   * (a marker's condition) or another transaction held one of its items. Any other failure
   * (throttling, the network, a malformed update) is thrown: counting one by one would only
   * repeat it, or hide a bug.
   */
  async countAll(versions: { ticketId: string; metrics: StoredMetrics }[]): Promise<BatchCount> {
    const range = new Map<string, { first: number; last: number }>();
    for (const { ticketId, metrics } of versions) {
      const seen = range.get(ticketId);
      range.set(ticketId, {
        first: Math.min(seen?.first ?? metrics.version, metrics.version),
        last: Math.max(seen?.last ?? metrics.version, metrics.version),
      });
    }
    const items = [
      ...[...range].map(([ticketId, { first, last }]) => this.marker(ticketId, first, last)),
      ...this.counterUpdates(versions.flatMap((v) => v.metrics.deltas)),
    ];
    if (items.length > MAX_TRANSACTION_ITEMS) {
      return { counted: false, why: 'too many items', items: items.length };
    }
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return { counted: true };
    } catch (error) {
      const reasons =
        error instanceof TransactionCanceledException
          ? (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None')
          : [];
      if (reasons.some((code) => code !== 'None') && reasons.every((c) => REFUSALS.has(c))) {
        const codes = [...new Set(reasons.filter((code) => code !== 'None'))];
        return { counted: false, why: 'cancelled', reasons: codes };
      }
      throw error;
    }
  }

  /** Versions first…last of a ticket are counted, if none of them was before. */
  private marker(ticketId: string, first: number, last: number): TransactItem {
    return {
      Update: {
        TableName: this.table,
        Key: keys.metricsCounted(ticketId),
        UpdateExpression: 'SET #version = :last',
        ConditionExpression: 'attribute_not_exists(#version) OR #version < :first',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':first': first, ':last': last },
      },
    };
  }

  /** One ADD per unit and period: a transaction may touch each item once. */
  private counterUpdates(deltas: StoredMetrics['deltas']): TransactItem[] {
    const perPeriod = new Map<
      string,
      { unitId: string; period: string; counters: Map<string, number> }
    >();
    for (const { unitId, counters, day } of deltas) {
      for (const period of [day, day.slice(0, 7)]) {
        const key = `${period}#${unitId}`;
        const entry = perPeriod.get(key) ?? { unitId, period, counters: new Map() };
        for (const [k, n] of Object.entries(counters))
          entry.counters.set(k, (entry.counters.get(k) ?? 0) + (n ?? 0));
        perPeriod.set(key, entry);
      }
    }
    const items: TransactItem[] = [];
    for (const { unitId, period, counters } of perPeriod.values()) {
      const entries = [...counters].filter(([, n]) => n !== 0);
      if (entries.length === 0) continue;
      const names = Object.fromEntries(entries.map(([k], i) => [`#c${i}`, k]));
      const values = Object.fromEntries(entries.map(([, n], i) => [`:c${i}`, n]));
      const update = `ADD ${entries.map((_, i) => `#c${i} :c${i}`).join(', ')}`;
      items.push({
        Update: {
          TableName: this.table,
          Key: { PK: `METRICS#${period}`, SK: `UNIT#${unitId}` },
          UpdateExpression: `${update} SET unitId = :unit, period = :period`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':unit': unitId, ':period': period },
        },
      });
    }
    return items;
  }
}

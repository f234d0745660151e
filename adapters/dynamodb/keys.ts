/**
 * Every key of the single table, in one place. The access patterns they serve are listed in
 * ACCESS-PATTERNS.md beside this file; none of them needs a Scan.
 */
export const TABLE_KEYS = { partition: 'PK', sort: 'SK' } as const;

/**
 * Sparse global secondary indexes: an item is in an index only while it carries the keys. The
 * ticket indexes hold only what their queries read, so a ticket change that leaves those alone
 * writes no index entry (with ALL, every change rewrote the whole ticket in both indexes).
 */
export const INDEXES = {
  /**
   * Open tickets of a unit, by reply deadline: the unit's work queue and the overdue list; and,
   * under CENTRE_QUEUE, the tickets waiting for the centre, by the centre's own time limit.
   */
  unitQueue: {
    name: 'GSI1',
    partition: 'GSI1PK',
    sort: 'GSI1SK',
    /** What a queue shows (review-queues.ts): never the caller. */
    projection: ['id', 'status', 'topic', 'category', 'urgency', 'leadUnit', 'deadlines'],
  },
  /**
   * Open tickets in a few shards: lets the stack resume every open ticket after a restart. Its
   * fields never change, so a ticket change never rewrites its entry.
   */
  openTickets: {
    name: 'GSI2',
    partition: 'GSI2PK',
    sort: 'GSI2SK',
    projection: ['id', 'callId'],
  },
  /** Approved unreasonable tickets not yet published in a bulletin. */
  bulletinQueue: { name: 'GSI3', partition: 'GSI3PK', sort: 'GSI3SK', projection: 'ALL' },
  /** Stalled tickets (a workflow step failed after its retries), by when they are due to resume. */
  stalled: { name: 'GSI4', partition: 'GSI4PK', sort: 'GSI4SK', projection: 'ALL' },
} as const;

/** An index's projection as DynamoDB's API spells it. */
export function projectionOf(index: (typeof INDEXES)[keyof typeof INDEXES]): {
  ProjectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  NonKeyAttributes?: string[];
} {
  return typeof index.projection === 'string'
    ? { ProjectionType: index.projection }
    : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection] };
}

export const STALLED = 'STALLED';

export const OPEN_SHARDS = 8;

/** GSI1's partition of the tickets the centre must decide on (manual dispatch and reviews). */
export const CENTRE_QUEUE = 'CENTRE';

export const UNPUBLISHED_UNREASONABLE = 'UNREASONABLE#UNPUBLISHED';

export const keys = {
  ticket: (id: string) => ({ PK: `TICKET#${id}`, SK: 'META' }),
  history: (id: string, version: number) => ({
    PK: `TICKET#${id}`,
    SK: `HIST#${String(version).padStart(6, '0')}`,
  }),
  wait: (id: string) => ({ PK: `TICKET#${id}`, SK: 'WAIT' }),
  /** The highest ticket version whose metrics are counted (metric-counter.ts). */
  metricsCounted: (id: string) => ({ PK: `TICKET#${id}`, SK: 'COUNTED' }),
  /**
   * The stalled marker of a ticket, apart from META so that no ticket write can drop it. While
   * stalled it carries GSI4PK = STALLED and GSI4SK = `<resumeAt>#<id>`.
   */
  stall: (id: string) => ({ PK: `TICKET#${id}`, SK: 'STALL' }),
  /** A stall's history line, sorted right after the ticket version it stalled at. */
  stallHistory: (id: string, version: number, n: number) => ({
    PK: `TICKET#${id}`,
    SK: `HIST#${String(version).padStart(6, '0')}#STALL#${String(n).padStart(3, '0')}`,
  }),
  /** An `Idempotency-Key` of a creating POST: the first response, replayed to a retry (TTL). */
  idempotency: (scope: string, key: string) => ({ PK: `IDEMPOTENCY#${scope}#${key}`, SK: 'KEY' }),
  replyLink: (replyId: string) => ({ PK: `REPLY#${replyId}`, SK: 'REPLY' }),
  /**
   * An approved unreasonable ticket's public record (an ApprovedUnreasonableCase). While it is not
   * yet published it carries GSI3PK = UNPUBLISHED_UNREASONABLE and GSI3SK = `<approvedAt>#<id>`.
   */
  unreasonableCase: (id: string) => ({ PK: `TICKET#${id}`, SK: 'UNREASONABLE' }),
  /** A repeat caller without substantive content, flagged for a human (never blocked), by month. */
  repeatCallerFlag: (month: string, createdAt: string, ticketId: string) => ({
    PK: `FLAGS#${month}`,
    SK: `${createdAt}#${ticketId}`,
  }),
  /**
   * 智能派单's labelled history: a closed ticket's request text and final topic, one partition per
   * month of closing (Asia/Shanghai), read by the retraining workflow with a Query per month.
   */
  dispatchLabel: (month: string, closedAt = '', ticketId = '') => ({
    PK: `DISPATCH_LABELS#${month}`,
    SK: closedAt ? `${closedAt}#${ticketId}` : '',
  }),
  /** One published bulletin issue (its bulletin, summary and tickets); issues sort by number. */
  bulletinIssue: (n: number) => ({ PK: 'BULLETIN', SK: `ISSUE#${String(n).padStart(7, '0')}` }),
  /** One bulletin run's draft, its state and the approval token (never sent to the reviewer). */
  bulletinDraft: (draftId: string) => ({ PK: `BULLETIN_DRAFT#${draftId}`, SK: 'DRAFT' }),
  ticketCounter: (day: string) => ({ PK: 'COUNTER', SK: `TICKET#${day}` }),
  /** A phone-system delivery, recorded once per delivery id (TTL): the de-duplication record. */
  phoneDelivery: (tenant: string, deliveryId: string) => ({
    PK: `DELIVERY#${tenant}#${deliveryId}`,
    SK: 'DELIVERY',
  }),
  /** What is known about one call: RECEIVED, COMPLETED, MISSED, STATUS, TICKET (reserved number), SURVEY. */
  phoneCall: (tenant: string, provider: string, callId: string, part: string) => ({
    PK: `CALL#${tenant}#${provider}#${callId}`,
    SK: part,
  }),
  /** 漏接回拨: missed calls to call back, one partition per day (Asia/Shanghai). */
  callback: (tenant: string, day: string, occurredAt?: string, callKey?: string) => ({
    PK: `CALLBACKS#${tenant}#${day}`,
    SK: occurredAt === undefined ? '' : `${occurredAt}#${callKey}`,
  }),
  /** Results reported for a survey (or for a call, when the provider only knows the call). */
  surveyResult: (tenant: string, ref: string, deliveryId: string) => ({
    PK: `SURVEY#${tenant}#${ref}`,
    SK: `RESULT#${deliveryId}`,
  }),
  /** Accepted deliveries nothing could be done with, for a human: one partition per day. */
  phoneDeadLetter: (tenant: string, day: string, receivedAt?: string, deliveryId?: string) => ({
    PK: `DEADLETTER#${tenant}#${day}`,
    SK: receivedAt === undefined ? '' : `${receivedAt}#${deliveryId}`,
  }),
  /** An analytics warning (预警), one partition per month, found once per finding id. */
  analyticsWarning: (month: string, day?: string, id?: string) => ({
    PK: `WARNINGS#${month}`,
    SK: day === undefined ? '' : `${day}#${id}`,
  }),
  /** That a finding was recorded: makes "once per finding" one conditional put. */
  analyticsFinding: (id: string) => ({ PK: `WARNING#${id}`, SK: 'WARNING' }),
  catalogue: (kind: 'AREA' | 'UNIT' | 'TOPIC', id: string) => ({
    PK: 'CATALOGUE',
    SK: `${kind}#${id}`,
  }),
} as const;

export function openShard(ticketId: string): string {
  let hash = 0;
  for (const ch of ticketId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `OPEN#${hash % OPEN_SHARDS}`;
}

/**
 * The item of an approved unreasonable case, queued for the bulletin (sparse GSI3) until a
 * published issue takes it out. Written by the lifecycle's approval, in the same transaction.
 */
export function approvedCaseItem(approved: { ticketId: string; approvedAt: string }) {
  return {
    ...keys.unreasonableCase(approved.ticketId),
    ...approved,
    [INDEXES.bulletinQueue.partition]: UNPUBLISHED_UNREASONABLE,
    [INDEXES.bulletinQueue.sort]: `${approved.approvedAt}#${approved.ticketId}`,
  };
}

import { createHmac } from 'node:crypto';
import { shanghaiDate } from '../calendar.ts';
import type { Ticket } from '../ticket.ts';
import { contentTokens } from './tokens.ts';

/**
 * The analytics data set: one row per stored version of a ticket (append-only), partitioned by
 * `dt`, the Asia/Shanghai day of the change. It holds no personal data: no names, numbers,
 * addresses or ticket numbers; the ticket and the caller appear only as salted hashes (the salt
 * is a secret of the deployment, so a known number cannot be hashed and looked up), the place
 * only down to the township, the content only as tokens with personal data masked out first.
 *
 * The column list is the one source for the Parquet files, the Glue table and the README.
 */
export const ANALYTICS_COLUMNS = [
  { name: 'ticket_key', type: 'string', doc: 'salted hash of the ticket id' },
  { name: 'version', type: 'int', doc: "the ticket's version; the highest is its latest state" },
  { name: 'changed_at', type: 'string', doc: 'ISO instant of this version' },
  { name: 'created_at', type: 'string', doc: 'ISO instant the ticket was received' },
  { name: 'created_day', type: 'string', doc: 'Asia/Shanghai day it was received, YYYY-MM-DD' },
  { name: 'channel', type: 'string', doc: 'phone, web, app, wechat, sms, email' },
  { name: 'category', type: 'string', doc: '诉求类别 id' },
  { name: 'topic', type: 'string', doc: 'catalogue topic id (null while a dispatcher chooses it)' },
  { name: 'urgency', type: 'string', doc: 'normal or urgent' },
  { name: 'district', type: 'string', doc: 'catalogue area id of the district' },
  { name: 'township', type: 'string', doc: '街道/乡镇 id, or null' },
  { name: 'status', type: 'string', doc: 'ticket status after this change' },
  { name: 'lead_unit', type: 'string', doc: 'unit id holding the ticket, or null' },
  { name: 'closure', type: 'string', doc: 'how it closed, or null' },
  { name: 'caller_key', type: 'string', doc: 'salted hash of the caller number, or null' },
  {
    name: 'signed_on_time',
    type: 'boolean',
    doc: '签收 before the sign deadline, null if not yet',
  },
  { name: 'replied_on_time', type: 'boolean', doc: 'replied before the reply deadline, or null' },
  { name: 'reached', type: 'boolean', doc: 'caller reached on the callback, or null' },
  { name: 'resolved', type: 'boolean', doc: 'caller says resolved (unit says, before the survey)' },
  { name: 'satisfied', type: 'boolean', doc: 'satisfied or basically satisfied, or null' },
  { name: 'tokens', type: 'string', doc: 'content words (jieba), space-separated, masked' },
] as const;

export type AnalyticsColumn = (typeof ANALYTICS_COLUMNS)[number]['name'];

export interface AnalyticsRow {
  ticket_key: string;
  version: number;
  changed_at: string;
  created_at: string;
  created_day: string;
  channel: string;
  category: string;
  topic: string | null;
  urgency: string;
  district: string;
  township: string | null;
  status: string;
  lead_unit: string | null;
  closure: string | null;
  caller_key: string | null;
  signed_on_time: boolean | null;
  replied_on_time: boolean | null;
  reached: boolean | null;
  resolved: boolean | null;
  satisfied: boolean | null;
  tokens: string;
}

/** The partition column; in the path (`dt=2026-11-30/`), not in the file. */
export const PARTITION = 'dt';

/** Where the files of the data set live in the bucket. */
export const DATASET_PREFIX = 'tickets';

/** A salted hash, short and URL-safe. The salt keeps a known id or number from being looked up. */
export function saltedKey(salt: string, value: string): string {
  return createHmac('sha256', salt).update(value).digest('base64url').slice(0, 22);
}

/** A caller number as the same person dials it: digits only, without the country code. */
export function callerAnalyticsKey(salt: string, phone: string): string {
  return saltedKey(salt, phone.replace(/\D/g, '').replace(/^(86|0086)/, ''));
}

const before = (at: string | undefined, due: string | undefined) =>
  at === undefined || due === undefined ? null : Date.parse(at) <= Date.parse(due);

/** A ticket version as the analytics data set keeps it. */
export function analyticsRow(ticket: Ticket, salt: string): AnalyticsRow {
  const survey = ticket.survey;
  const resolved = survey?.reached ? (survey.resolved ?? null) : (ticket.reply?.resolved ?? null);
  return {
    ticket_key: saltedKey(salt, ticket.id),
    version: ticket.version,
    changed_at: ticket.updatedAt,
    created_at: ticket.createdAt,
    created_day: shanghaiDate(ticket.createdAt),
    channel: ticket.channel,
    category: ticket.category,
    topic: ticket.topic ?? null,
    urgency: ticket.urgency,
    district: ticket.place.district,
    township: ticket.place.township ?? null,
    status: ticket.status,
    lead_unit: ticket.leadUnit ?? null,
    closure: ticket.closure ?? null,
    caller_key: ticket.caller?.phone ? callerAnalyticsKey(salt, ticket.caller.phone) : null,
    signed_on_time: before(ticket.signedAt, ticket.deadlines.signBy),
    replied_on_time: before(ticket.reply?.repliedAt, ticket.deadlines.replyBy),
    reached: survey ? survey.reached : null,
    resolved,
    satisfied:
      survey?.reached && survey.satisfaction
        ? survey.satisfaction === 'satisfied' || survey.satisfaction === 'basically_satisfied'
        : null,
    tokens: contentTokens(ticket.content, {
      names: ticket.caller?.name ? [ticket.caller.name] : [],
      phones: ticket.caller?.phone ? [ticket.caller.phone] : [],
      addresses: ticket.place.address ? [ticket.place.address] : [],
    }).join(' '),
  };
}

/** The partition a row belongs to: the Asia/Shanghai day of its change. */
export function partitionOf(row: AnalyticsRow): string {
  return shanghaiDate(row.changed_at);
}

/** Rows grouped by partition, each group in the order given. */
export function byPartition(rows: readonly AnalyticsRow[]): Map<string, AnalyticsRow[]> {
  const groups = new Map<string, AnalyticsRow[]>();
  for (const row of rows) {
    const dt = partitionOf(row);
    const group = groups.get(dt) ?? [];
    group.push(row);
    groups.set(dt, group);
  }
  return groups;
}

/** The object key of a batch's file in one partition: a retried batch writes the same key. */
export function batchKey(dt: string, firstSequence: string, lastSequence: string): string {
  return `${DATASET_PREFIX}/${PARTITION}=${dt}/${firstSequence}-${lastSequence}.parquet`;
}

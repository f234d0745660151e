import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { shanghaiDate } from '#core/calendar';
import type { Example, LabelProvenance } from '#core/dispatch-model/model';
import type { Ticket } from '#core/ticket';
import { keys } from './keys.ts';
import { queryAll } from './query.ts';

/** Long digit runs (phone, ID and account numbers) say nothing about a topic: masked. */
function maskDigits(text: string): string {
  return text.replace(/\d{6,}/g, '#');
}

/** Who stands behind the final topic (see LabelProvenance): the retraining weighs labels by it. */
export function labelProvenance(ticket: Ticket): LabelProvenance {
  const choice = ticket.topicChoice;
  if (choice?.by === 'model') return 'unreviewed';
  return choice?.replaced ? 'corrected' : 'confirmed';
}

const PROVENANCES = new Set<string>(['confirmed', 'corrected', 'unreviewed']);

/** A label written before provenance was recorded: a model's choice is unreviewed, any other confirmed. */
function provenanceOf(item: Record<string, unknown>): LabelProvenance {
  if (PROVENANCES.has(String(item.provenance))) return item.provenance as LabelProvenance;
  return item.by === 'model' ? 'unreviewed' : 'confirmed';
}

/**
 * The label a ticket leaves when it closes, in the same write: its final topic (after returns and
 * re-dispatches, as the centre last confirmed it) and its request text. Only tickets that went to
 * a unit count: a merged ticket or one closed at intake was never dispatched on its topic.
 */
export function labelItems(before: Ticket | null, ticket: Ticket): Record<string, unknown>[] {
  if (!before || before.status === 'closed' || ticket.status !== 'closed') return [];
  if (!ticket.topic || !ticket.dispatchedAt || !ticket.content) return [];
  const closedAt = ticket.closedAt ?? ticket.updatedAt;
  return [
    {
      ...keys.dispatchLabel(shanghaiDate(new Date(closedAt)).slice(0, 7), closedAt, ticket.id),
      text: maskDigits(ticket.content),
      topic: ticket.topic,
      by: ticket.topicChoice?.by ?? 'person',
      provenance: labelProvenance(ticket),
    },
  ];
}

/** The labelled tickets closed in the given months (yyyy-mm): one Query per month, no Scan. */
export async function labelledTickets(
  client: DynamoDBDocumentClient,
  table: string,
  months: string[],
): Promise<Example[]> {
  const pages = await Promise.all(
    months.map((month) =>
      queryAll(client, {
        TableName: table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.dispatchLabel(month).PK },
        ProjectionExpression: '#text, topic, #by, provenance',
        ExpressionAttributeNames: { '#text': 'text', '#by': 'by' },
      }),
    ),
  );
  return pages.flat().map((i) => ({
    text: String(i.text),
    topic: String(i.topic),
    provenance: provenanceOf(i),
  }));
}

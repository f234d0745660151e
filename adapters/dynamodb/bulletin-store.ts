import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { CaseCorrection, PrivacyHold, StoredCase } from '#core/bulletin/holds';
import type { BulletinSummary } from '#core/bulletin/model';
import {
  type BulletinDraftRecord,
  type BulletinStore,
  IssueNumberTakenError,
  type PublishedIssue,
} from '#core/bulletin/publishing';
import { NotFoundError } from '#core/errors';
import type { HistoryEntry, Ticket } from '#core/ticket';
import { type ApprovedUnreasonableCase, approvedUnreasonableCaseSchema } from '#core/unreasonable';
import { approvedCaseItem, INDEXES, keys, UNPUBLISHED_UNREASONABLE } from './keys.ts';

const CASE_FIELDS = Object.keys(approvedUnreasonableCaseSchema.shape);

function caseOf(item: Record<string, unknown>): ApprovedUnreasonableCase {
  return approvedUnreasonableCaseSchema.parse(
    Object.fromEntries(CASE_FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]])),
  );
}

/**
 * What the centre's review step stores when it approves a ticket as unreasonable: the public
 * record of the case, queued in the sparse index until a bulletin publishes it. Written once: a
 * repeated call (a retried review step) changes nothing, and a published case is never requeued.
 */
export async function recordApprovedCase(
  client: DynamoDBDocumentClient,
  table: string,
  approved: ApprovedUnreasonableCase,
): Promise<boolean> {
  const c = approvedUnreasonableCaseSchema.parse(approved);
  try {
    await client.send(
      new PutCommand({
        TableName: table,
        Item: approvedCaseItem(c),
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

export class DynamoBulletinStore implements BulletinStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async listUnpublished(limit: number): Promise<ApprovedUnreasonableCase[]> {
    const out: ApprovedUnreasonableCase[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEXES.bulletinQueue.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': INDEXES.bulletinQueue.partition },
          ExpressionAttributeValues: { ':pk': UNPUBLISHED_UNREASONABLE },
          Limit: limit - out.length,
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...(page.Items ?? []).map(caseOf));
      startKey = page.LastEvaluatedKey;
    } while (startKey && out.length < limit);
    return out;
  }

  async getUnpublished(ticketIds: readonly string[]): Promise<ApprovedUnreasonableCase[]> {
    const out: ApprovedUnreasonableCase[] = [];
    // BatchGet takes 100 keys; a bulletin holds fewer (the transaction limit), but be safe.
    for (let i = 0; i < ticketIds.length; i += 100) {
      let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = {
        [this.table]: { Keys: ticketIds.slice(i, i + 100).map((id) => keys.unreasonableCase(id)) },
      };
      while (request && Object.keys(request).length > 0) {
        const page = await this.client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of page.Responses?.[this.table] ?? []) {
          if (item[INDEXES.bulletinQueue.partition] === UNPUBLISHED_UNREASONABLE) {
            out.push(caseOf(item));
          }
        }
        request = page.UnprocessedKeys as typeof request;
      }
    }
    return out;
  }

  private async latestIssues(limit: number | undefined, summaryOnly: boolean) {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :issue)',
          ExpressionAttributeValues: { ':pk': 'BULLETIN', ':issue': 'ISSUE#' },
          ScanIndexForward: false,
          ...(limit ? { Limit: limit } : {}),
          ...(summaryOnly ? { ProjectionExpression: 'summary' } : {}),
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = limit ? undefined : page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async lastIssue(): Promise<PublishedIssue | undefined> {
    const [item] = await this.latestIssues(1, false);
    return item ? (item.issue as PublishedIssue) : undefined;
  }

  async getIssue(issueNumber: number): Promise<PublishedIssue | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: keys.bulletinIssue(issueNumber),
        ConsistentRead: true,
      }),
    );
    return Item ? (Item.issue as PublishedIssue) : undefined;
  }

  async listIssues(): Promise<BulletinSummary[]> {
    return (await this.latestIssues(undefined, true)).map((i) => i.summary as BulletinSummary);
  }

  async putDraft(draft: BulletinDraftRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...keys.bulletinDraft(draft.draftId), ...draft },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async getDraft(draftId: string): Promise<BulletinDraftRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: keys.bulletinDraft(draftId),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const { PK: _pk, SK: _sk, ...draft } = Item;
    return draft as BulletinDraftRecord;
  }

  async awaitDecision(draftId: string, taskToken: string): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.bulletinDraft(draftId),
        UpdateExpression: 'SET #status = :awaiting, taskToken = :token',
        ConditionExpression: '#status IN (:drafted, :awaiting)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':awaiting': 'awaiting',
          ':drafted': 'drafted',
          ':token': taskToken,
        },
      }),
    );
  }

  async recordDecision(
    draftId: string,
    decision: {
      status: 'approved' | 'rejected';
      decidedAt: string;
      decidedBy: string;
      comments?: string;
    },
  ): Promise<string | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.bulletinDraft(draftId),
          UpdateExpression: `SET #status = :status, decidedAt = :at, decidedBy = :by${decision.comments ? ', comments = :comments' : ''} REMOVE taskToken`,
          ConditionExpression: '#status = :awaiting AND attribute_exists(taskToken)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': decision.status,
            ':at': decision.decidedAt,
            ':by': decision.decidedBy,
            ':awaiting': 'awaiting',
            ...(decision.comments ? { ':comments': decision.comments } : {}),
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes?.taskToken as string | undefined;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  async markExpired(draftId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.bulletinDraft(draftId),
        UpdateExpression: 'SET #status = :expired',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':expired': 'expired' },
      }),
    );
  }

  async publish(issue: PublishedIssue): Promise<'published' | 'already'> {
    const n = issue.issueNumber;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            ...(n > 1
              ? [
                  {
                    ConditionCheck: {
                      TableName: this.table,
                      Key: keys.bulletinIssue(n - 1),
                      ConditionExpression: 'attribute_exists(PK)',
                    },
                  },
                ]
              : []),
            {
              Put: {
                TableName: this.table,
                Item: { ...keys.bulletinIssue(n), issue, summary: issue.summary },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: keys.bulletinDraft(issue.draftId),
                UpdateExpression: 'SET #status = :published',
                ConditionExpression: '#status = :approved',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':published': 'published', ':approved': 'approved' },
              },
            },
            ...issue.ticketIds.map((id) => ({
              Update: {
                TableName: this.table,
                Key: keys.unreasonableCase(id),
                UpdateExpression: 'SET publishedIn = :n REMOVE #gpk, #gsk',
                ConditionExpression: '#gpk = :unpublished',
                ExpressionAttributeNames: {
                  '#gpk': INDEXES.bulletinQueue.partition,
                  '#gsk': INDEXES.bulletinQueue.sort,
                },
                ExpressionAttributeValues: { ':n': n, ':unpublished': UNPUBLISHED_UNREASONABLE },
              },
            })),
          ],
        }),
      );
      return 'published';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const existing = await this.getIssue(n);
      if (existing?.draftId === issue.draftId) return 'already';
      if (existing) throw new IssueNumberTakenError(n);
      const reasons = (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None').join(',');
      throw new Error(`publishing issue ${n} was refused (${reasons})`);
    }
  }

  async claimNotification(issueNumber: number, at: string): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.bulletinIssue(issueNumber),
        UpdateExpression: 'SET notifiedAt = :at',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(notifiedAt)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async releaseNotification(issueNumber: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.bulletinIssue(issueNumber),
        UpdateExpression: 'REMOVE notifiedAt',
      }),
    );
  }

  async holdCase(ticketId: string, hold: PrivacyHold): Promise<boolean> {
    // Out of the sparse index: later runs do not collect it until a reviewer corrects it.
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.unreasonableCase(ticketId),
        UpdateExpression: 'SET privacyHold = :hold REMOVE #gpk, #gsk',
        ConditionExpression: '#gpk = :unpublished AND attribute_not_exists(privacyHold)',
        ExpressionAttributeNames: {
          '#gpk': INDEXES.bulletinQueue.partition,
          '#gsk': INDEXES.bulletinQueue.sort,
        },
        ExpressionAttributeValues: { ':hold': hold, ':unpublished': UNPUBLISHED_UNREASONABLE },
      }),
    );
  }

  private requeue(ticketId: string, approvedAt: string) {
    return {
      Key: keys.unreasonableCase(ticketId),
      names: { '#gpk': INDEXES.bulletinQueue.partition, '#gsk': INDEXES.bulletinQueue.sort },
      values: { ':unpublished': UNPUBLISHED_UNREASONABLE, ':sort': `${approvedAt}#${ticketId}` },
    };
  }

  async releaseHold(ticketId: string, holdId: string): Promise<boolean> {
    const c = await this.getCase(ticketId);
    if (!c) return false;
    const q = this.requeue(ticketId, c.approvedAt);
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: q.Key,
        UpdateExpression: 'SET #gpk = :unpublished, #gsk = :sort REMOVE privacyHold',
        ConditionExpression: 'privacyHold.holdId = :hold',
        ExpressionAttributeNames: q.names,
        ExpressionAttributeValues: { ...q.values, ':hold': holdId },
      }),
    );
  }

  async getCase(ticketId: string): Promise<StoredCase | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: keys.unreasonableCase(ticketId),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    return {
      ...caseOf(Item),
      ...(Item.privacyHold ? { privacyHold: Item.privacyHold as PrivacyHold } : {}),
      ...(typeof Item.publishedIn === 'number' ? { publishedIn: Item.publishedIn } : {}),
    };
  }

  async correctCase(correction: CaseCorrection): Promise<boolean> {
    const { ticketId, holdId, texts } = correction;
    const c = await this.getCase(ticketId);
    const { Item: meta } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: keys.ticket(ticketId), ConsistentRead: true }),
    );
    if (!c || !meta)
      throw new NotFoundError('no such ticket', [{ field: 'ticketId', problem: 'not found' }]);
    const ticket = meta as unknown as Ticket;
    const fields = Object.keys(texts);
    const q = this.requeue(ticketId, c.approvedAt);
    const history: HistoryEntry = {
      version: ticket.version + 1,
      at: correction.at,
      actor: correction.actor,
      event: 'bulletin_text_corrected',
      from: ticket.status,
      to: ticket.status,
      reason: correction.reason,
      details: { fields, holdId },
    };
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: q.Key,
                UpdateExpression: `SET #gpk = :unpublished, #gsk = :sort${fields.map((_, i) => `, #f${i} = :f${i}`).join('')} REMOVE privacyHold`,
                ConditionExpression: 'privacyHold.holdId = :hold',
                ExpressionAttributeNames: {
                  ...q.names,
                  ...Object.fromEntries(fields.map((f, i) => [`#f${i}`, f])),
                },
                ExpressionAttributeValues: {
                  ...q.values,
                  ':hold': holdId,
                  ...Object.fromEntries(
                    fields.map((f, i) => [`:f${i}`, texts[f as keyof typeof texts]]),
                  ),
                },
              },
            },
            {
              // The history line is numbered by the ticket's version, as every transition's is.
              Update: {
                TableName: this.table,
                Key: keys.ticket(ticketId),
                UpdateExpression: 'SET #version = :next',
                ConditionExpression: '#version = :current',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: {
                  ':next': ticket.version + 1,
                  ':current': ticket.version,
                },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: { ...keys.history(ticketId, history.version), ...history },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) return false;
      throw error;
    }
  }

  private async conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.client.send(command);
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}

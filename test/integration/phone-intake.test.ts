import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoCatalogueStore, putCatalogue } from '#adapters/dynamodb/catalogue-store';
import { DynamoPhoneDeliveryStore } from '#adapters/dynamodb/delivery-store';
import { INDEXES, OPEN_SHARDS } from '#adapters/dynamodb/keys';
import { ensureTable } from '#adapters/dynamodb/schema';
import { DynamoTicketStore } from '#adapters/dynamodb/ticket-store';
import { catalogueSchema } from '#core/catalogue';
import { parseLifecycleConfig } from '#core/config';
import type { Accepted } from '#core/phone/events';
import { type PhoneIntakeDeps, receivePhoneDelivery } from '#core/phone-intake';
import type { TicketStore } from '#core/ports';
import { checkIntake, fileCheckedTicket, type TicketDeps } from '#core/tickets';
import sampleCounty from '#data/sample-county.json' with { type: 'json' };
import { localClientConfig, uniqueTableName } from '../support/dynamodb.ts';

const table = uniqueTableName('phone');
let documents: DynamoDBDocumentClient;
let tickets: DynamoTicketStore;
const at = new Date('2026-03-02T01:21:42Z');

beforeAll(async () => {
  const raw = new DynamoDBClient(localClientConfig());
  documents = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true },
  });
  await ensureTable(raw, table);
  await putCatalogue(documents, table, catalogueSchema.parse(sampleCounty));
  tickets = new DynamoTicketStore(documents, table);
});

/** Tickets of a call, found through the open-ticket index (no Scan). */
async function ticketsOfCall(callId: string): Promise<string[]> {
  const found: string[] = [];
  for (let shard = 0; shard < OPEN_SHARDS; shard++) {
    const page = await documents.send(
      new QueryCommand({
        TableName: table,
        IndexName: INDEXES.openTickets.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEXES.openTickets.partition },
        ExpressionAttributeValues: { ':pk': `OPEN#${shard}` },
      }),
    );
    for (const item of page.Items ?? []) if (item.callId === callId) found.push(String(item.id));
  }
  return found;
}

function harness(faults: { saveFails?: number; crashAfterSave?: number } = {}) {
  const started: string[] = [];
  const resumed: string[] = [];
  const real = new DynamoPhoneDeliveryStore(documents, table, 't1', () => at);
  let saveFails = faults.saveFails ?? 0;
  let crashAfterSave = faults.crashAfterSave ?? 0;
  const crashingTickets: TicketStore = Object.assign(Object.create(tickets), {
    save: async (...args: Parameters<TicketStore['save']>) => {
      if (saveFails-- > 0) throw new Error('crash before the ticket was written');
      await tickets.save(...args);
      if (crashAfterSave-- > 0) throw new Error('crash before the answer was sent');
    },
  });
  const ticketDeps = {
    store: crashingTickets,
    catalogue: new DynamoCatalogueStore(documents, table),
    workflow: {
      startLifecycle: async (id: string) => void started.push(id),
      resume: async () => 'resumed' as const,
    },
    config: parseLifecycleConfig({}),
    now: () => at,
  } as unknown as TicketDeps;
  const deps: PhoneIntakeDeps = {
    deliveries: real,
    now: () => at,
    checkTicket: (intake) => checkIntake(ticketDeps, intake),
    fileTicket: async (checked, provider, alongside) =>
      (await fileCheckedTicket(ticketDeps, checked, { kind: 'phone', id: provider }, { alongside }))
        .id,
    resumeTicket: async (id) => void resumed.push(id),
    answerSurvey: async () => 'unknown',
    surveyUnreachable: async () => 'unknown',
  };
  return { deps, started, resumed, real };
}

function completed(callId: string, deliveryId: string): Accepted {
  return {
    ok: true,
    provider: 'standard',
    deliveryId,
    events: [
      {
        type: 'call.completed',
        provider: 'standard',
        occurredAt: at.toISOString(),
        callId,
        // A caller of their own per call: the same caller on the same topic would be merged (并单).
        callerNumber: `+86138${String(Number.parseInt(callId.replace(/\D/g, ''), 10)).padStart(8, '0')}`,
        calledNumber: '12345',
        durationSeconds: 60,
        ticket: {
          content: '停水三天了',
          category: 'complaint',
          topic: 'water-supply',
          place: { district: 'qingshan', township: 'dongcheng' },
        },
      },
    ],
  };
}

describe('a call.completed with a ticket', () => {
  it('stores the ticket with its delivery record, so a failure after the write leaves a duplicate', async () => {
    const { deps, real } = harness({ crashAfterSave: 1 });
    // The write went through but its answer was lost: what is stored says this copy is done.
    const first = await receivePhoneDelivery(deps, completed('c-1', 'd-1'));
    const [filed] = await ticketsOfCall('c-1');
    expect(first).toMatchObject({ outcome: 'duplicate', ticketIds: [filed] });
    expect(filed).toBeDefined();
    expect(await real.hasDelivery('d-1')).toBe(true);
    expect(await real.callTicket('standard', 'c-1')).toBe(filed);

    const retry = await receivePhoneDelivery(deps, completed('c-1', 'd-1'));
    expect(retry.outcome).toBe('duplicate');
    expect(await ticketsOfCall('c-1')).toEqual([filed]);
  });

  it('stores neither when the crash came before the write, and files the ticket on the retry', async () => {
    const { deps, started, real } = harness({ saveFails: 1 });
    await expect(receivePhoneDelivery(deps, completed('c-2', 'd-2'))).rejects.toThrow('crash');
    expect(await ticketsOfCall('c-2')).toEqual([]);
    expect(await real.hasDelivery('d-2')).toBe(false);
    expect(await real.callTicket('standard', 'c-2')).toBeUndefined();
    const retry = await receivePhoneDelivery(deps, completed('c-2', 'd-2'));
    expect(retry.outcome).toBe('processed');
    expect(await ticketsOfCall('c-2')).toEqual(retry.ticketIds);
    // Filing only stores the ticket: the table's stream starts its lifecycle (stream-workflow).
    expect(started).toEqual([]);
    expect((await receivePhoneDelivery(deps, completed('c-2', 'd-2'))).outcome).toBe('duplicate');
  });

  it('records a second delivery id of a filed call without a second ticket', async () => {
    const { deps, resumed, real } = harness();
    const first = await receivePhoneDelivery(deps, completed('c-4', 'd-4a'));
    const second = await receivePhoneDelivery(deps, completed('c-4', 'd-4b'));
    expect(second).toMatchObject({ outcome: 'processed', ticketIds: first.ticketIds });
    expect(resumed).toEqual(first.ticketIds);
    expect(await ticketsOfCall('c-4')).toEqual(first.ticketIds);
    expect(await real.hasDelivery('d-4b')).toBe(true);
  });

  it('files one ticket for one call delivered concurrently under several ids', async () => {
    const { deps } = harness();
    const results = await Promise.all(
      ['d-3a', 'd-3b', 'd-3c', 'd-3a', 'd-3b'].map((id) =>
        receivePhoneDelivery(deps, completed('c-3', id)).catch((e: Error) => e),
      ),
    );
    const filed = await ticketsOfCall('c-3');
    expect(filed).toHaveLength(1);
    for (const result of results) {
      if (!(result instanceof Error)) {
        expect(result.ticketIds.length === 0 || result.ticketIds[0] === filed[0]).toBe(true);
      }
    }
  });
});

describe('concurrent copies of one delivery colliding in DynamoDB (TransactionConflict)', () => {
  const delivery = (deliveryId: string) => ({
    deliveryId,
    provider: 'standard' as const,
    receivedAt: at.toISOString(),
    outcome: 'processed' as const,
    eventTypes: [],
  });
  /** The table as DynamoDB answers under contention: the first transaction write conflicts. */
  function contended(meanwhile: () => Promise<unknown>) {
    let conflicted = false;
    const client = {
      send: async (command: Parameters<typeof documents.send>[0]) => {
        if (!conflicted && command instanceof TransactWriteCommand) {
          conflicted = true;
          await meanwhile();
          throw new TransactionCanceledException({
            message: 'Transaction cancelled',
            $metadata: {},
            CancellationReasons: [{ Code: 'TransactionConflict' }],
          });
        }
        return documents.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    return new DynamoPhoneDeliveryStore(client, table, 't1', () => at);
  }

  it('is a duplicate when the other copy was recorded meanwhile', async () => {
    const winner = new DynamoPhoneDeliveryStore(documents, table, 't1', () => at);
    const store = contended(() => winner.record(delivery('d-conflict-1'), []));
    expect(await store.record(delivery('d-conflict-1'), [])).toBe('duplicate');
  });

  it('is recorded on a retry when nothing was recorded meanwhile', async () => {
    const store = contended(async () => undefined);
    expect(await store.record(delivery('d-conflict-2'), [])).toBe('recorded');
    expect(await store.hasDelivery('d-conflict-2')).toBe(true);
  });
});

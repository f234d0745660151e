/**
 * Scaling: the month's metrics and ranking (GET /metrics through the gateway) and the bulletin's
 * collect step (a Query on the sparse GSI3) with 1,000 and with 100,000 tickets in the table. Both
 * read one partition whose size depends on units and unpublished cases, not on tickets, so the
 * time should stay about the same. Two tables on the same DynamoDB Local, loaded with
 * BatchWriteItem (not the workflow), one per size; the same handlers are pointed at each in turn,
 * rounds alternating (small, large, large, small, …) so that warm-up and drift fall on both alike.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { INDEXES, openShard, UNPUBLISHED_UNREASONABLE } from '#adapters/dynamodb/keys';
import { ensureTable } from '#adapters/dynamodb/schema';
import sampleCounty from '#data/sample-county.json' with { type: 'json' };
import { invokeFunction, withEnvironment } from '#local/functions';
import { diffTotals, meterCapacity } from './lib/capacity.ts';
import {
  type BenchResult,
  expectStatus,
  median,
  percentile,
  round,
  type Table,
} from './lib/common.ts';
import { Driver } from './lib/driver.ts';

const HEATING = 'heating-supply@qingshan.example.gov.cn';
const REGION = 'cn-north-1';
const SAMPLES = 50;
const ROUNDS = 5;
const WARM_UP = 3;
const UNPUBLISHED = 20;
const OPEN_SHARE = 0.05;
const UNREASONABLE_SHARE = 0.01;
/** Tickets spread over June–November 2026; the month queried is November. */
const FIRST_DAY = Date.parse('2026-06-01T00:00:00Z');
const DAYS = 183;
const PERIOD = '2026-11';
const CONCURRENCY = 8;
const MAX_LOAD_MS = 6 * 60_000;

type Item = Record<string, unknown>;

export async function run(options: { tickets?: number } = {}): Promise<BenchResult> {
  const large = Math.min(Math.max(options.tickets ?? 100_000, 2_000), 200_000);
  const small = 1_000;
  const driver = await Driver.start();
  const raw = new DynamoDBClient({
    endpoint: driver.stack.urls.dynamodb,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const documents = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const table = process.env.TABLE_NAME!;
  try {
    // Real items to copy: one closed ticket and one approved unreasonable one, through the workflow.
    const { id: closedId } = await driver.file({ noCallback: true });
    await driver.act(closedId, { action: 'sign' }, HEATING);
    await driver.act(
      closedId,
      { action: 'reply', content: '已更换换热站阀门，室温恢复。', resolved: true },
      HEATING,
    );
    const { id: unreasonableId } = await driver.file({ content: '要求供热公司每天上门测温' });
    await driver.act(unreasonableId, { action: 'sign' }, HEATING);
    await driver.act(
      unreasonableId,
      { action: 'unreasonable', category: 'outside_remit', evidence: '诉求超出公共服务范围' },
      HEATING,
    );
    await driver.decide(
      unreasonableId,
      {
        decision: 'approve_unreasonable',
        publicSummary: '某市民来电要求供热公司每天上门测温。',
        finding: '超出热线受理范围',
        basis: '《12345热线管理办法》',
        reply: '感谢来电，室温问题可随时来电反映。',
      },
      'reviewer',
    );
    const partition = async (id: string) =>
      (
        await documents.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': `TICKET#${id}` },
          }),
        )
      ).Items ?? [];
    const closedItems = await partition(closedId);
    const meta = closedItems.find((i) => i.SK === 'META')!;
    const history = closedItems.filter((i) => String(i.SK).startsWith('HIST#'));
    const unreasonableCase = (await partition(unreasonableId)).find((i) => i.SK === 'UNREASONABLE');
    if (!meta || history.length === 0 || !unreasonableCase)
      throw new Error('template items missing');
    const metricItem = (
      await documents.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': `METRICS#${PERIOD}` },
          Limit: 1,
        }),
      )
    ).Items?.[0];
    if (!metricItem) throw new Error('no metrics item to copy');

    const clone = (item: Item, from: string, to: string): Item =>
      JSON.parse(JSON.stringify(item).replaceAll(from, to)) as Item;
    /** Ticket n: its META (open or closed), its first and last history lines, maybe its public case. */
    const ticketItems = (n: number): Item[] => {
      const day = new Date(FIRST_DAY + (n % DAYS) * 86_400_000).toISOString().slice(0, 10);
      const id = `${day.replaceAll('-', '')}-${String(500_000 + Math.floor(n / DAYS)).padStart(6, '0')}`;
      const at = `${day}T03:00:00.000Z`;
      const out: Item[] = [];
      const m = clone(meta, closedId, id);
      m.createdAt = at;
      if (n % Math.round(1 / OPEN_SHARE) === 0) {
        Object.assign(m, {
          status: 'handling',
          [INDEXES.openTickets.partition]: openShard(id),
          [INDEXES.openTickets.sort]: id,
          [INDEXES.unitQueue.partition]: 'UNIT#heating-supply',
          [INDEXES.unitQueue.sort]: `${at}#${id}`,
        });
      }
      out.push(m, clone(history[0]!, closedId, id), clone(history.at(-1)!, closedId, id));
      // The first tickets carry the unpublished cases, so both sizes answer the same 20.
      if (n < UNPUBLISHED || n % Math.round(1 / UNREASONABLE_SHARE) === 1) {
        const c = clone(unreasonableCase, unreasonableId, id);
        delete c[INDEXES.bulletinQueue.partition];
        delete c[INDEXES.bulletinQueue.sort];
        if (n < UNPUBLISHED) {
          c[INDEXES.bulletinQueue.partition] = UNPUBLISHED_UNREASONABLE;
          c[INDEXES.bulletinQueue.sort] = `${at}#${id}`;
        }
        out.push(c);
      }
      return out;
    };
    /** Every unit's day and month counters over the six months: units × periods, whatever the tickets. */
    const metricItems = (): Item[] => {
      const periods = new Set<string>();
      for (let d = 0; d < DAYS; d++) {
        const day = new Date(FIRST_DAY + d * 86_400_000).toISOString().slice(0, 10);
        periods.add(day).add(day.slice(0, 7));
      }
      const out: Item[] = [];
      for (const period of periods) {
        for (const unit of sampleCounty.units) {
          out.push({
            ...metricItem,
            ...{ PK: `METRICS#${period}`, SK: `UNIT#${unit.id}` },
            unitId: unit.id,
            period,
          });
        }
      }
      return out;
    };

    let written = 0;
    const load = async (into: string, items: Iterable<Item>, deadline: number) => {
      let batch: Item[] = [];
      const queue = items[Symbol.iterator]();
      const next = (): Item[] | undefined => {
        batch = [];
        for (let r = queue.next(); !r.done; r = queue.next()) {
          batch.push(r.value);
          if (batch.length === 25) break;
        }
        return batch.length ? batch : undefined;
      };
      const worker = async () => {
        for (let b = next(); b && Date.now() < deadline; b = next()) {
          let request: Record<string, { PutRequest: { Item: Item } }[]> | undefined = {
            [into]: b.map((Item) => ({ PutRequest: { Item } })),
          };
          while (request && Object.keys(request).length > 0) {
            const result = await documents.send(new BatchWriteCommand({ RequestItems: request }));
            request = result.UnprocessedItems as typeof request;
          }
          written += b.length;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    };
    function* tickets(from: number, to: number) {
      for (let n = from; n < to; n++) yield* ticketItems(n);
    }

    const { documentClient } = await import('#adapters/dynamodb/client');
    const meter = meterCapacity(documentClient as never);
    interface Samples {
      tickets: number;
      metrics: number[];
      collect: number[];
      units: number;
      cases: number;
      rru: number;
    }
    /** One round on one table: a short warm-up (its containers are new), then timed samples. */
    const measureRound = async (on: Samples, samples: number) => {
      for (let s = 0; s < WARM_UP; s++) {
        await driver.api('GET', `/metrics?period=${PERIOD}`, {
          token: driver.stack.tokens.supervisor,
        });
        await invokeFunction('bulletin-collect', {});
      }
      const before = meter.snapshot();
      for (let s = 0; s < samples; s++) {
        let t = performance.now();
        const response = await driver.api('GET', `/metrics?period=${PERIOD}`, {
          token: driver.stack.tokens.supervisor,
        });
        on.metrics.push(performance.now() - t);
        expectStatus(response, 200, 'GET /metrics');
        on.units = response.body.units.length;
        t = performance.now();
        const collected = (await invokeFunction('bulletin-collect', {})) as { count: number };
        on.collect.push(performance.now() - t);
        on.cases = collected.count;
      }
      on.rru += diffTotals(meter.snapshot(), before).reportedRead;
    };
    const summarize = (on: Samples) => ({
      tickets: on.tickets,
      metrics: {
        medianMs: median(on.metrics),
        p90Ms: percentile(on.metrics, 90),
        units: on.units,
      },
      collect: {
        medianMs: median(on.collect),
        p90Ms: percentile(on.collect, 90),
        cases: on.cases,
      },
      rruPerSample: on.rru / on.metrics.length,
    });

    // The small table is the stack's own; the large one a second table with the same schema,
    // holding the same template tickets, so that both answer the same question.
    const largeTable = `${table}-scaling-large`;
    await ensureTable(raw, largeTable);
    const loadStart = Date.now();
    const deadline = loadStart + MAX_LOAD_MS;
    await load(table, [...metricItems(), ...tickets(0, small)], deadline);
    const before = written;
    const loadMore = Date.now();
    await load(
      largeTable,
      [
        ...closedItems,
        ...(await partition(unreasonableId)),
        ...metricItems(),
        ...tickets(0, large),
      ],
      deadline,
    );
    const loadedLarge = Date.now() - loadMore;
    const perTicket = (written - before) / large;
    const reached = Math.floor((written - before) / Math.max(perTicket, 1e-9));
    // Let DynamoDB Local settle after the load.
    await new Promise((r) => setTimeout(r, 3000));

    const smallSamples: Samples = {
      tickets: small,
      metrics: [],
      collect: [],
      units: 0,
      cases: 0,
      rru: 0,
    };
    const largeSamples: Samples = {
      tickets: Date.now() >= deadline ? reached : large,
      metrics: [],
      collect: [],
      units: 0,
      cases: 0,
      rru: 0,
    };
    const onLarge = { TABLE_NAME: largeTable };
    const perRound = Math.ceil(SAMPLES / ROUNDS);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? ['small', 'large'] : ['large', 'small'];
      for (const size of order) {
        if (size === 'small') await measureRound(smallSamples, perRound);
        else await withEnvironment(onLarge, () => measureRound(largeSamples, perRound));
      }
    }
    const atSmall = summarize(smallSamples);
    const atLarge = summarize(largeSamples);

    const ratio = (a: number, b: number) => round(a / b, 2);
    const rows: Table['rows'] = [
      [
        'GET /metrics?period=2026-11 (gateway → handler → Query)',
        round(atSmall.metrics.medianMs, 1),
        round(atLarge.metrics.medianMs, 1),
        ratio(atLarge.metrics.medianMs, atSmall.metrics.medianMs),
        round(atSmall.metrics.p90Ms, 1),
        round(atLarge.metrics.p90Ms, 1),
        `${atLarge.metrics.units} units`,
      ],
      [
        'bulletin collect (Lambda → Query GSI3)',
        round(atSmall.collect.medianMs, 1),
        round(atLarge.collect.medianMs, 1),
        ratio(atLarge.collect.medianMs, atSmall.collect.medianMs),
        round(atSmall.collect.p90Ms, 1),
        round(atLarge.collect.p90Ms, 1),
        `${atLarge.collect.cases} cases`,
      ],
    ];
    return {
      name: 'scaling',
      title: 'Scaling with the number of tickets',
      tables: [
        {
          title: `Query time with ${small.toLocaleString('en')} and ${atLarge.tickets.toLocaleString('en')} tickets in the table (median of ${perRound * ROUNDS}, in ${ROUNDS} alternating rounds, ms)`,
          columns: [
            'query',
            `median @${small / 1000}k`,
            `median @${round(atLarge.tickets / 1000, 0)}k`,
            'ratio',
            'p90 small',
            'p90 large',
            'answer',
          ],
          rows,
          notes: [
            `Tables: ${written.toLocaleString('en')} items in all: per ticket a META item and two history lines (5% open, in GSI1/GSI2), 1% with a public unreasonable case (in GSI3 only while unpublished: the same ${UNPUBLISHED} in both sizes, the rest published), and ${metricItems().length.toLocaleString('en')} metric items (46 units × every day and month, June–November).`,
            `Read units per sample (metrics + collect, as DynamoDB Local reports them): ${round(atSmall.rruPerSample, 1)} at ${small.toLocaleString('en')} tickets, ${round(atLarge.rruPerSample, 1)} at ${atLarge.tickets.toLocaleString('en')}.`,
            `Loaded with BatchWriteItem (${CONCURRENCY} concurrent batches of 25): ${Math.round((written - before) / (loadedLarge / 1000)).toLocaleString('en')} items/s into DynamoDB Local, ${round(loadedLarge / 1000, 0)} s for the large table.`,
            'Both tables live in the same DynamoDB Local and are measured in turn (small, large, large, small, …), each round after a short warm-up: JIT warm-up and drift do not favour either size.',
            'Times are local (DynamoDB Local on this machine, in-process handlers): compare the ratio, not the milliseconds.',
          ],
        },
      ],
      data: { small: atSmall, large: atLarge, itemsWritten: written, loadLargeMs: loadedLarge },
    };
  } finally {
    raw.destroy();
    await driver.close();
  }
}

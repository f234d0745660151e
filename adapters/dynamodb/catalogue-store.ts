import { BatchWriteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Area, Catalogue, Topic, Unit } from '#core/catalogue';
import type { CatalogueStore } from '#core/ports';
import { keys } from './keys.ts';
import { queryAll } from './query.ts';

type Kind = 'AREA' | 'UNIT' | 'TOPIC';

/**
 * The dispatch catalogue lives in the table so dispatchers can change it without a deploy. It is
 * small (one partition) and read often, so a warm container keeps what it read for a minute.
 */
export class DynamoCatalogueStore implements CatalogueStore {
  private cache = new Map<string, { at: number; value: unknown }>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly cacheMs = 60_000,
  ) {}

  getTopic(id: string): Promise<Topic | undefined> {
    return this.getOne<Topic>('TOPIC', id);
  }

  getArea(id: string): Promise<Area | undefined> {
    return this.getOne<Area>('AREA', id);
  }

  getUnit(id: string): Promise<Unit | undefined> {
    return this.getOne<Unit>('UNIT', id);
  }

  listUnits(): Promise<Unit[]> {
    return this.cached('UNIT#*', async () => {
      const items = await queryAll(this.client, {
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :kind)',
        ExpressionAttributeValues: { ':pk': 'CATALOGUE', ':kind': 'UNIT#' },
      });
      return items.map((i) => i.value as Unit);
    });
  }

  private getOne<T>(kind: Kind, id: string): Promise<T | undefined> {
    return this.cached(`${kind}#${id}`, async () => {
      const result = await this.client.send(
        new GetCommand({ TableName: this.table, Key: keys.catalogue(kind, id) }),
      );
      return result.Item?.value as T | undefined;
    });
  }

  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.value as T;
    const value = await load();
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }
}

/** Writes a whole catalogue (sample data locally, a city's own catalogue in AWS). */
export async function putCatalogue(
  client: DynamoDBDocumentClient,
  table: string,
  catalogue: Catalogue,
): Promise<void> {
  const items = [
    ...catalogue.areas.map((value) => ({ ...keys.catalogue('AREA', value.id), value })),
    ...catalogue.units.map((value) => ({ ...keys.catalogue('UNIT', value.id), value })),
    ...catalogue.topics.map((value) => ({ ...keys.catalogue('TOPIC', value.id), value })),
  ];
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const result = await client.send(
        new BatchWriteCommand({ RequestItems: { [table]: pending } }),
      );
      pending = (result.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  }
}

import { readFile } from 'node:fs/promises';
import type { QueryName } from '#core/analytics/sql';

/** In a Lambda bundle the files sit beside the handler (ANALYTICS_SQL_DIR); here, in sql/. */
const SQL_DIR = process.env.ANALYTICS_SQL_DIR
  ? new URL(`file://${process.env.ANALYTICS_SQL_DIR.replace(/\/?$/, '/')}`)
  : new URL('../../sql/analytics/', import.meta.url);
const cache = new Map<QueryName, Promise<string>>();

const read = (file: string) => readFile(new URL(file, SQL_DIR), 'utf8');

/**
 * The text of sql/analytics/<name>.sql after the shared `latest` CTE (_latest.sql), which every
 * query selects from: the rule "a ticket counts in its latest version" is written once.
 */
export function querySql(name: QueryName): Promise<string> {
  let text = cache.get(name);
  if (!text) {
    text = Promise.all([read('_latest.sql'), read(`${name}.sql`)]).then(
      ([latest, query]) => `${latest}\n${query}`,
    );
    cache.set(name, text);
  }
  return text;
}

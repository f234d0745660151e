import { readFile } from 'node:fs/promises';
import type { QueryName } from '#core/analytics/sql';

/** In a Lambda bundle the files sit beside the handler (ANALYTICS_SQL_DIR); here, in sql/. */
const SQL_DIR = process.env.ANALYTICS_SQL_DIR
  ? new URL(`file://${process.env.ANALYTICS_SQL_DIR.replace(/\/?$/, '/')}`)
  : new URL('../../sql/analytics/', import.meta.url);
const cache = new Map<QueryName, Promise<string>>();

/** The text of sql/analytics/<name>.sql (bundled beside the function when deployed). */
export function querySql(name: QueryName): Promise<string> {
  let text = cache.get(name);
  if (!text) {
    text = readFile(new URL(`${name}.sql`, SQL_DIR), 'utf8');
    cache.set(name, text);
  }
  return text;
}

import * as z from 'zod';
import { DynamoCatalogueStore } from '#adapters/dynamodb/catalogue-store';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { analyseMonth } from '#core/analytics/analysis';
import { type Names, renderMonthlyReport } from '#core/analytics/report';
import { addDays } from '#core/analytics/sql';
import { findPersonalData } from '#core/bulletin/privacy';
import { shanghaiDate } from '#core/calendar';
import { now } from '#core/clock';
import { parseWith } from '../lib/http.ts';
import { logger } from '../lib/logger.ts';
import { analyticsDataset, analyticsMailer, analyticsQueries, supervisors } from './deps.ts';

const inputSchema = z.strictObject({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month such as 2026-11')
    .optional(),
});

/** The report's text as a reader sees it, for the privacy guard (SVG text and all). */
export function visibleText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&[a-z#0-9]+;/g, ' ');
}

/**
 * The monthly analysis report (分析研判报告), by schedule for the previous month: rendered, checked
 * by the bulletin's privacy guard (a finding stops it: nothing is stored or mailed), stored in
 * the analytics bucket under reports/, and mailed to the supervisors.
 */
export const handler = async (input: unknown): Promise<{ month: string; key: string }> => {
  const today = shanghaiDate(now());
  const { month = addDays(`${today.slice(0, 7)}-01`, -1).slice(0, 7) } = parseWith(
    inputSchema,
    input ?? {},
  );
  const analysis = await analyseMonth(await analyticsQueries(), month);
  const catalogue = new DynamoCatalogueStore(documentClient, tableName());
  const names: Names = {};
  const ids = new Set([
    ...analysis.topTopics.map((t) => t.topic),
    ...analysis.surges.map((s) => s.topic),
  ]);
  for (const id of ids) {
    const topic = await catalogue.getTopic(id);
    if (topic) names[id] = topic.name;
  }
  for (const unit of await catalogue.listUnits()) names[unit.id] = unit.name;
  const places = new Set(
    [...analysis.topPlaces, ...analysis.surges, ...analysis.clusters].flatMap((p) => [
      p.district,
      p.township,
    ]),
  );
  for (const id of places) {
    if (!id) continue;
    const area = await catalogue.getArea(id);
    if (area) names[id] = area.name;
  }
  const html = renderMonthlyReport(analysis, { names, generatedAt: now().toISOString() });
  const findings = findPersonalData(visibleText(html));
  if (findings.length > 0) {
    logger.error('personal data in the monthly report', {
      kinds: findings.map((f) => f.kind),
    });
    throw new Error(`the report for ${month} has ${findings.length} privacy findings`);
  }
  const key = `reports/${month}.html`;
  await analyticsDataset().put(key, Buffer.from(html), 'text/html; charset=utf-8');
  const to = supervisors();
  if (to.length > 0) {
    const [y, m] = month.split('-');
    await analyticsMailer().send({
      to,
      subject: `${y}年${Number(m)}月分析研判报告 (analysis report ${month})`,
      text: `${y}年${Number(m)}月分析研判报告已生成：受理 ${analysis.totals.tickets} 件，异动预警 ${analysis.surges.length} 条，多人同诉 ${analysis.clusters.length} 起。The ${month} analysis report is attached as this mail's HTML and stored at ${key}.`,
      html,
    });
  }
  return { month, key };
};

import { escapeHtml } from '../html.ts';
import type { DailyFindings } from './analysis.ts';

export const WARNING_KINDS = ['surge', 'cluster', 'repeat_caller'] as const;
export type WarningKind = (typeof WARNING_KINDS)[number];

/** One finding, recorded once: its id is the same whenever the same finding is made again. */
export interface AnalyticsWarning {
  id: string;
  kind: WarningKind;
  /** The Asia/Shanghai day it was found. */
  day: string;
  /** 中文 first, then English. */
  title: string;
  detail: Record<string, string | number>;
}

const KIND_LABEL: Record<WarningKind, string> = {
  surge: '异动 Surge',
  cluster: '多人同诉 Many callers, one matter',
  repeat_caller: '一人多诉 Repeat caller',
};

const place = (district: string, township: string) =>
  township ? `${district}/${township}` : district;

/** The findings of a day as warnings. Ids: per cell and day, per cluster, per caller and month. */
export function warningsOf(findings: DailyFindings): AnalyticsWarning[] {
  const { day } = findings;
  return [
    ...findings.surges.map((s) => ({
      id: `surge:${s.topic}:${s.district}:${s.township}:${s.day}`,
      kind: 'surge' as const,
      day,
      title: `${place(s.district, s.township)} ${s.topic} 当日 ${s.tickets} 件，常态约 ${s.expected.toFixed(1)} 件 (${s.tickets} tickets, ~${s.expected.toFixed(1)} expected)`,
      detail: {
        topic: s.topic,
        district: s.district,
        township: s.township,
        tickets: s.tickets,
        expected: Number(s.expected.toFixed(2)),
        pValue: Number(s.pValue.toPrecision(2)),
      },
    })),
    ...findings.clusters.map((c) => ({
      id: `cluster:${c.id}`,
      kind: 'cluster' as const,
      day,
      title: `${place(c.district, c.township)} ${c.callers} 位来电人反映同一事项：${c.keywords.join(' ')} (${c.callers} callers, one matter)`,
      detail: {
        district: c.district,
        township: c.township,
        size: c.size,
        callers: c.callers,
        firstDay: c.firstDay,
        representative: c.representative,
      },
    })),
    ...findings.repeatCallers.map((r) => ({
      id: `repeat:${r.callerKey}:${day.slice(0, 7)}`,
      kind: 'repeat_caller' as const,
      day,
      title: `同一来电人 30 日内 ${r.tickets} 件诉求，涉及 ${r.topics} 类 (one caller, ${r.tickets} requests in 30 days)`,
      detail: { callerKey: r.callerKey, tickets: r.tickets, topics: r.topics, since: r.firstDay },
    })),
  ];
}

/** The supervisors' mail for the day's new warnings: what was found, no caller identity. */
export function warningMail(day: string, warnings: readonly AnalyticsWarning[]) {
  const subject = `【预警】${day} 发现 ${warnings.length} 条分析预警 (${warnings.length} analytics warnings)`;
  const lines = warnings.map((w) => `[${KIND_LABEL[w.kind]}] ${w.title}`);
  const intro = `12345热线数据分析于 ${day} 发现以下情况，请研判处置。The hotline's analysis found the following on ${day}.`;
  return {
    subject,
    text: [intro, '', ...lines].join('\n'),
    html: `<!doctype html><html lang="zh-CN"><body><p>${escapeHtml(intro)}</p><ul>${lines
      .map((l) => `<li>${escapeHtml(l)}</li>`)
      .join('')}</ul></body></html>`,
  };
}

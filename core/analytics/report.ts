import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { escapeHtml } from '../html.ts';
import type { MonthlyAnalysis } from './analysis.ts';

/** Display names for ids (topics, places, units); an id without one is shown as it is. */
export type Names = Record<string, string>;

const CHANNEL_NAMES: Names = {
  phone: '电话',
  web: '网站',
  app: 'App',
  wechat: '微信',
  sms: '短信',
  email: '邮件',
};

// Only what the report draws (bar charts with titles, legends and grids, in SVG): the whole of
// echarts is about 930 KiB of the function's bundle.
echarts.use([BarChart, GridComponent, LegendComponent, TitleComponent, SVGRenderer]);

/**
 * A chart rendered on the server to SVG, so the report is one self-contained page: it opens
 * offline, in a mail client that runs no scripts, and prints.
 */
function chart(option: echarts.EChartsCoreOption, width = 900, height = 320): string {
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  instance.setOption({ animation: false, ...option });
  const svg = instance.renderToSVGString();
  instance.dispose();
  return svg;
}

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
const name = (names: Names, id: string) => names[id] ?? id;
const e = escapeHtml;

function td(value: string | number, metric?: string, key?: string): string {
  const attrs = metric ? ` data-metric="${e(metric)}"${key ? ` data-key="${e(key)}"` : ''}` : '';
  return `<td${attrs}>${e(String(value))}</td>`;
}

export interface ReportOptions {
  names?: Names;
  generatedAt: string;
  city?: string;
}

/** 分析研判报告: the month's volume, topics, places, warnings, clusters and unit rates. */
export function renderMonthlyReport(a: MonthlyAnalysis, options: ReportOptions): string {
  const names = options.names ?? {};
  const days = [...new Set(a.volumeByDay.map((v) => v.day))].sort();
  const channels = [...new Set(a.volumeByDay.map((v) => v.channel))].sort();
  const volume = new Map(a.volumeByDay.map((v) => [`${v.day}|${v.channel}`, v.tickets]));
  const volumeChart = chart({
    title: { text: '每日受理量（按渠道）', left: 'center', textStyle: { fontSize: 14 } },
    legend: { bottom: 0 },
    grid: { left: 50, right: 20, top: 40, bottom: 60 },
    xAxis: { type: 'category', data: days.map((d) => d.slice(5)) },
    yAxis: { type: 'value' },
    series: channels.map((c) => ({
      name: CHANNEL_NAMES[c] ?? c,
      type: 'bar',
      stack: 'total',
      data: days.map((d) => volume.get(`${d}|${c}`) ?? 0),
    })),
  });
  const topics = a.topTopics.slice(0, 10);
  const topicChart = chart({
    title: { text: '诉求热点（前十类）', left: 'center', textStyle: { fontSize: 14 } },
    grid: { left: 140, right: 30, top: 40, bottom: 30 },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', inverse: true, data: topics.map((t) => name(names, t.topic)) },
    series: [
      { type: 'bar', data: topics.map((t) => t.tickets), label: { show: true, position: 'right' } },
    ],
  });
  const places = a.topPlaces.slice(0, 10);
  const placeLabel = (p: { district: string; township: string }) =>
    p.township ? name(names, p.township) : name(names, p.district);
  const placeChart = chart({
    title: { text: '诉求集中区域（前十）', left: 'center', textStyle: { fontSize: 14 } },
    grid: { left: 140, right: 30, top: 40, bottom: 30 },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', inverse: true, data: places.map(placeLabel) },
    series: [
      { type: 'bar', data: places.map((p) => p.tickets), label: { show: true, position: 'right' } },
    ],
  });
  const units = a.unitRates.slice(0, 15);
  const rate = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);
  const unitChart = chart(
    {
      title: { text: '承办单位三率（%）', left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 90 },
      xAxis: {
        type: 'category',
        data: units.map((u) => name(names, u.unit)),
        axisLabel: { rotate: 30 },
      },
      yAxis: { type: 'value', max: 100 },
      series: [
        { name: '按时办结率', type: 'bar', data: units.map((u) => rate(u.onTimeRate)) },
        { name: '解决率', type: 'bar', data: units.map((u) => rate(u.resolutionRate)) },
        { name: '满意率', type: 'bar', data: units.map((u) => rate(u.satisfactionRate)) },
      ],
    },
    900,
    360,
  );

  const surgeRows = a.surges
    .map(
      (s) =>
        `<tr>${td(s.day)}${td(placeLabel(s))}${td(name(names, s.topic))}${td(s.tickets, 'surge-tickets', `${s.topic}|${s.township}|${s.day}`)}${td(s.expected.toFixed(1))}${td(s.pValue.toExponential(1))}</tr>`,
    )
    .join('');
  const clusterRows = a.clusters
    .slice(0, 10)
    .map(
      (c) =>
        `<tr>${td(`${c.firstDay} – ${c.lastDay}`)}${td(placeLabel(c))}${td(c.size, 'cluster-size', c.id)}${td(c.callers)}${td(c.keywords.join('、'))}${td(c.unresolved)}</tr>`,
    )
    .join('');
  const candidateRows = a.candidates
    .slice(0, 5)
    .map(
      (c, i) =>
        `<tr>${td(i + 1)}${td(c.keywords.join('、'))}${td(placeLabel(c))}${td(c.size)}${td(pct(c.unresolvedShare))}${td(c.score)}</tr>`,
    )
    .join('');
  const topicRows = topics
    .map(
      (t) =>
        `<tr>${td(name(names, t.topic))}${td(t.tickets, 'topic-tickets', t.topic)}${td(t.unresolved)}</tr>`,
    )
    .join('');
  const unitRows = a.unitRates
    .map(
      (u) =>
        `<tr>${td(name(names, u.unit))}${td(u.tickets, 'unit-tickets', u.unit)}${td(pct(u.onTimeRate), 'unit-on-time', u.unit)}${td(pct(u.resolutionRate), 'unit-resolution', u.unit)}${td(pct(u.satisfactionRate), 'unit-satisfaction', u.unit)}</tr>`,
    )
    .join('');
  const none = (cols: number, text: string) => `<tr><td colspan="${cols}">${e(text)}</td></tr>`;
  const [y, m] = a.month.split('-');
  const city = options.city ?? '12345政务服务便民热线';
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>${e(`${city} ${y}年${Number(m)}月分析研判报告`)}</title>
<style>
body{font-family:"Noto Sans SC","Microsoft YaHei",sans-serif;max-width:960px;margin:24px auto;color:#222;line-height:1.6}
h1{font-size:22px;text-align:center}h2{font-size:17px;border-left:4px solid #c00;padding-left:8px;margin-top:28px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #ccc;padding:4px 6px;text-align:left}
th{background:#f4f4f4}.figure{margin:12px 0;page-break-inside:avoid}.summary span{margin-right:24px}
.note{color:#666;font-size:12px}@media print{body{margin:0}}
</style>
</head>
<body>
<h1>${e(city)}<br>${e(`${y}年${Number(m)}月分析研判报告`)}</h1>
<p class="note">Monthly analysis report, ${e(a.month)}. 生成时间 Generated ${e(options.generatedAt)}。本报告不含来电人姓名、号码、地址等个人信息。</p>
<h2>一、总体情况 Overview</h2>
<p class="summary"><span>受理诉求 <strong data-metric="total-tickets">${a.totals.tickets}</strong> 件</span><span>已办结 <strong data-metric="total-closed">${a.totals.closed}</strong> 件</span><span>未解决 <strong data-metric="total-unresolved">${a.totals.unresolved}</strong> 件</span></p>
<div class="figure" data-chart="volume">${volumeChart}</div>
<h2>二、诉求热点 Topics and places</h2>
<div class="figure" data-chart="topics">${topicChart}</div>
<table><thead><tr><th>类别 Topic</th><th>件数 Tickets</th><th>未解决 Unresolved</th></tr></thead><tbody>${topicRows || none(3, '无')}</tbody></table>
<div class="figure" data-chart="places">${placeChart}</div>
<h2>三、异动预警 Surges</h2>
<p class="note">检验方法：以该区域该类诉求前8周同一星期几的日均量为期望（泊松分布），当日量的单侧概率 &lt; 0.001 且不少于5件时预警。</p>
<table><thead><tr><th>日期</th><th>区域</th><th>类别</th><th>当日件数</th><th>期望</th><th>p</th></tr></thead><tbody>${surgeRows || none(6, '本月无异动')}</tbody></table>
<h2>四、多人同诉 Many callers, one matter</h2>
<table><thead><tr><th>时间</th><th>区域</th><th>件数</th><th>来电人数</th><th>关键词</th><th>未解决</th></tr></thead><tbody>${clusterRows || none(6, '本月未发现')}</tbody></table>
<h2>五、每月一题候选 Topic-of-the-month candidates</h2>
<table><thead><tr><th>#</th><th>事项</th><th>区域</th><th>件数</th><th>未解决占比</th><th>综合分</th></tr></thead><tbody>${candidateRows || none(6, '无')}</tbody></table>
<p class="note">一人多诉：本月同一来电人（按加盐哈希计）诉求不少于5件的共 <strong data-metric="repeat-callers">${a.repeatCallers.length}</strong> 人。</p>
<h2>六、承办单位三率 Unit rates</h2>
<div class="figure" data-chart="units">${unitChart}</div>
<table><thead><tr><th>单位 Unit</th><th>件数</th><th>按时办结率</th><th>解决率</th><th>满意率</th></tr></thead><tbody>${unitRows || none(5, '无')}</tbody></table>
</body>
</html>
`;
}

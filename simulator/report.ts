/**
 * The simulation's report: one JSON file with everything measured, and one standalone HTML page
 * (inline SVG, no external assets) with the charts a hotline manager would look at.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import sampleCounty from '#data/sample-county.json' with { type: 'json' };
import type { DispatchFigures, SimulationResult } from './run.ts';

const unitName = new Map(sampleCounty.units.map((u) => [u.id, u.name]));
const STAGES = [
  'received',
  'awaiting_dispatch',
  'dispatched',
  'handling',
  'return_review',
  'extension_review',
  'unreasonable_review',
  'reply_review',
  'callback',
] as const;
const COLOURS = [
  '#8c564b',
  '#e377c2',
  '#1f77b4',
  '#2ca02c',
  '#d62728',
  '#ff7f0e',
  '#9467bd',
  '#bcbd22',
  '#17becf',
];

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
const fixed = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '—');

export interface Prices {
  stepFunctionsStandardPer1000Transitions: number;
  lambdaPerMillionRequests: number;
  sesPer1000Mails: number;
  apiGatewayHttpApiPerMillionRequests?: number;
}

/** bench/prices.json when it is there: list prices, labelled as such, never a bill. */
export function loadPrices(): { prices: Prices; source: string } | undefined {
  const file = new URL('../bench/prices.json', import.meta.url);
  if (!existsSync(file)) return undefined;
  try {
    const json = JSON.parse(readFileSync(file, 'utf8'));
    const p = json.prices as Prices;
    if (typeof p?.stepFunctionsStandardPer1000Transitions !== 'number') return undefined;
    return { prices: p, source: `bench/prices.json (${json.region}, taken ${json.takenOn})` };
  } catch {
    return undefined;
  }
}

export function costPerTicket(result: SimulationResult) {
  const tickets = Math.max(1, result.throughput.tickets);
  const dispatched = Math.max(1, result.cost.executions);
  const lambdas = Object.values(result.cost.functionInvocations).reduce((s, n) => s + n, 0);
  const loaded = loadPrices();
  const usd = loaded
    ? (result.cost.stateTransitions / 1000) *
        loaded.prices.stepFunctionsStandardPer1000Transitions +
      (lambdas / 1e6) * loaded.prices.lambdaPerMillionRequests +
      (result.cost.mails / 1000) * loaded.prices.sesPer1000Mails
    : undefined;
  return {
    tickets,
    ticketsWithWorkflow: result.cost.executions,
    stateTransitionsPerWorkflowTicket: result.cost.stateTransitions / dispatched,
    lambdaInvocationsPerTicket: lambdas / tickets,
    workflowLambdaInvocationsPerWorkflowTicket: result.cost.workflowLambdaInvocations / dispatched,
    mailsPerTicket: result.cost.mails / tickets,
    mailsPerWorkflowTicket: result.cost.mails / dispatched,
    ...(usd !== undefined && loaded
      ? {
          usdPerTicketRequestsOnly: usd / tickets,
          usdPerThousandTickets: (usd / tickets) * 1000,
          priceSource: `${loaded.source}; Step Functions transitions + Lambda requests + SES mails only (no Lambda duration, DynamoDB or API Gateway)`,
        }
      : {}),
  };
}

function stageChart(result: SimulationResult): string {
  const W = 900;
  const H = 300;
  const pad = { l: 50, r: 10, t: 10, b: 30 };
  const points = result.timeline;
  const t0 = Date.parse(points[0]?.at ?? '0');
  const t1 = Date.parse(points.at(-1)?.at ?? '1');
  const stacks = points.map((p) => {
    let acc = 0;
    return STAGES.map((s) => {
      const from = acc;
      acc += p.counts[s] ?? 0;
      return [from, acc] as const;
    });
  });
  const max = Math.max(1, ...stacks.map((s) => s.at(-1)![1]));
  const x = (at: string) =>
    pad.l + ((Date.parse(at) - t0) / Math.max(1, t1 - t0)) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const areas = STAGES.map((stage, i) => {
    const top = points.map((p, k) => `${x(p.at).toFixed(1)},${y(stacks[k]![i]![1]).toFixed(1)}`);
    const bottom = points
      .map((p, k) => `${x(p.at).toFixed(1)},${y(stacks[k]![i]![0]).toFixed(1)}`)
      .reverse();
    return `<polygon points="${[...top, ...bottom].join(' ')}" fill="${COLOURS[i]}" opacity="0.85"><title>${stage}</title></polygon>`;
  });
  const closedMax = Math.max(
    1,
    ...points.map((p) => (p.counts.closed ?? 0) + (p.counts.merged ?? 0)),
  );
  const closedLine = points
    .map(
      (p) =>
        `${x(p.at).toFixed(1)},${(H - pad.b - (((p.counts.closed ?? 0) + (p.counts.merged ?? 0)) / closedMax) * (H - pad.t - pad.b)).toFixed(1)}`,
    )
    .join(' ');
  const days = Math.ceil((t1 - t0) / 86_400_000);
  const every = Math.max(1, Math.ceil(days / 15));
  const ticks: string[] = [];
  for (let d = 0; d <= days; d += every) {
    const xx = pad.l + ((d * 86_400_000) / Math.max(1, t1 - t0)) * (W - pad.l - pad.r);
    if (xx > W - pad.r) break;
    ticks.push(
      `<line x1="${xx}" x2="${xx}" y1="${H - pad.b}" y2="${H - pad.b + 4}" stroke="#333"/><text x="${xx}" y="${H - 8}" font-size="10" text-anchor="middle">day ${d}</text>`,
    );
  }
  const legend = STAGES.map(
    (s, i) =>
      `<span style="display:inline-block;margin-right:12px"><span style="display:inline-block;width:10px;height:10px;background:${COLOURS[i]}"></span> ${s}</span>`,
  ).join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="open tickets by stage over time">
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#333"/>
<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#333"/>
<text x="${pad.l - 4}" y="${pad.t + 10}" font-size="10" text-anchor="end">${max}</text>
<text x="${pad.l - 4}" y="${H - pad.b}" font-size="10" text-anchor="end">0</text>
${areas.join('\n')}
<polyline points="${closedLine}" fill="none" stroke="#000" stroke-dasharray="4 3"><title>closed + merged (scaled to ${closedMax})</title></polyline>
${ticks.join('')}
</svg><div style="font-size:12px">${legend}<span>- - - closed + merged, cumulative (own scale, max ${closedMax})</span></div>`;
}

function bars(
  rows: { label: string; values: number[] }[],
  series: { name: string; colour: string }[],
  format: (v: number) => string = (v) => String(v),
): string {
  const W = 900;
  const row = 18;
  const labelW = 220;
  const max = Math.max(1e-9, ...rows.flatMap((r) => r.values));
  const H = rows.length * row * series.length + 10;
  const parts: string[] = [];
  rows.forEach((r, i) => {
    const y0 = i * row * series.length;
    parts.push(
      `<text x="${labelW - 6}" y="${y0 + row * 0.75}" font-size="11" text-anchor="end">${esc(r.label)}</text>`,
    );
    r.values.forEach((v, k) => {
      const w = (v / max) * (W - labelW - 80);
      const y = y0 + k * row;
      parts.push(
        `<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${row - 4}" fill="${series[k]!.colour}"><title>${esc(series[k]!.name)}: ${format(v)}</title></rect><text x="${labelW + w + 4}" y="${y + row * 0.72}" font-size="10">${format(v)}</text>`,
      );
    });
  });
  const legend = series
    .map(
      (s) =>
        `<span style="margin-right:12px"><span style="display:inline-block;width:10px;height:10px;background:${s.colour}"></span> ${esc(s.name)}</span>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${parts.join('')}</svg><div style="font-size:12px">${legend}</div>`;
}

export function renderHtml(result: SimulationResult, label: string): string {
  const ranked = result.metrics.units.filter((u) => u.counters.received > 0);
  const cost = costPerTicket(result);
  const keys = [
    ...new Set([...Object.keys(result.expected), ...Object.keys(result.actual)]),
  ].sort();
  const overdue = [...ranked]
    .filter((u) => u.counters.overdue + u.counters.signedLate > 0)
    .sort(
      (a, b) =>
        b.counters.overdue - a.counters.overdue || b.counters.signedLate - a.counters.signedLate,
    );
  const rankingRows = ranked
    .map(
      (u) =>
        `<tr><td>${u.rank ?? '—'}</td><td>${esc(unitName.get(u.unitId) ?? u.unitId)}</td><td>${u.counters.received}</td><td>${pct(u.rates.response)}</td><td>${pct(u.rates.onTime)}</td><td>${pct(u.rates.resolution)}</td><td>${pct(u.rates.satisfaction)}</td><td>${u.score === null ? '—' : u.score.toFixed(3)}</td></tr>`,
    )
    .join('');
  const t = result.throughput;
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>12345 simulation ${esc(label)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}h2{margin-top:2em}.note{color:#555;font-size:13px}</style></head><body>
<h1>12345 热线模拟 · Simulation report</h1>
<p class="note">${esc(label)} · seed ${result.options.seed} · ${result.planned} calls planned (${result.options.volume}/day × ${result.options.days} day(s)) · virtual ${esc(result.virtual.start)} → ${esc(result.virtual.end)} · wall ${(result.wall.totalMs / 1000).toFixed(1)} s on ${cpus().length} × ${esc(cpus()[0]?.model ?? '?')}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${esc(process.version)}</p>
<h2>Throughput (benchmark 5)</h2>
<p>${t.finishedTickets} of ${t.tickets} tickets reached a final state; <b>${fixed(t.perWallSecond)} tickets completed per second of wall time</b> (the whole lifecycle, intake to close, ${(result.wall.runMs / 1000).toFixed(1)} s of simulation); intake ran at ${fixed(t.intakePerWallSecond)} calls/s while the day's calls came in (limited by the simulated call rate, not by the system, unless the burst saturates it).</p>
<h2>Outcomes: plan vs system</h2>
<table><tr><th>outcome</th><th>planned</th><th>actual</th></tr>${keys.map((k) => `<tr><td style="text-align:left">${esc(k)}</td><td>${result.expected[k] ?? 0}</td><td>${result.actual[k] ?? 0}</td></tr>`).join('')}</table>
<p class="note">${result.mismatches.length} ticket(s) differ from the plan; ${result.callbacksListed} missed calls on the call-back lists; ${result.errors.length} simulator error(s).</p>
<h2>Open tickets by stage over time</h2>
${stageChart(result)}
<h2>三率 ranking of units (GET /metrics, summed over ${esc(result.metrics.periods.join(', '))})</h2>
${bars(
  ranked
    .filter((u) => u.score !== null)
    .map((u) => ({ label: unitName.get(u.unitId) ?? u.unitId, values: [u.score ?? 0] })),
  [
    {
      name: 'score (resolution 0.4, on time 0.25, satisfaction 0.2, response 0.15)',
      colour: '#1f77b4',
    },
  ],
  (v) => v.toFixed(3),
)}
<table><tr><th>rank</th><th>unit</th><th>received</th><th>响应率</th><th>按时办结率</th><th>解决率</th><th>满意率</th><th>score</th></tr>${rankingRows}</table>
<h2>Overdue by unit</h2>
${
  overdue.length === 0
    ? '<p>No overdue tickets.</p>'
    : bars(
        overdue.map((u) => ({
          label: unitName.get(u.unitId) ?? u.unitId,
          values: [u.counters.overdue, u.counters.signedLate],
        })),
        [
          { name: 'overdue (督办 at the reply deadline)', colour: '#d62728' },
          { name: 'signed late', colour: '#ff7f0e' },
        ],
      )
}
<h2>Cost per ticket</h2>
<table><tr><th>measure</th><th>value</th></tr>
<tr><td style="text-align:left">tickets filed / with a workflow</td><td>${cost.tickets} / ${cost.ticketsWithWorkflow}</td></tr>
<tr><td style="text-align:left">state transitions per workflow ticket</td><td>${fixed(cost.stateTransitionsPerWorkflowTicket, 1)}</td></tr>
<tr><td style="text-align:left">Lambda invocations per ticket (all functions)</td><td>${fixed(cost.lambdaInvocationsPerTicket, 1)}</td></tr>
<tr><td style="text-align:left">workflow Lambda invocations per workflow ticket</td><td>${fixed(cost.workflowLambdaInvocationsPerWorkflowTicket, 1)}</td></tr>
<tr><td style="text-align:left">mails per ticket / per workflow ticket</td><td>${fixed(cost.mailsPerTicket)} / ${fixed(cost.mailsPerWorkflowTicket)}</td></tr>
${'usdPerThousandTickets' in cost ? `<tr><td style="text-align:left">USD per 1,000 tickets (list prices, partial)</td><td>${fixed(cost.usdPerThousandTickets as number, 3)}</td></tr>` : ''}
</table>
${'priceSource' in cost ? `<p class="note">${esc(cost.priceSource)}</p>` : ''}
<p class="note">Mails by kind: ${esc(
    Object.entries(result.cost.mailsByKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', '),
  )}. Function invocations: ${esc(
    Object.entries(result.cost.functionInvocations)
      .map(([k, n]) => `${k} ${n}`)
      .join(', '),
  )}.</p>
${result.dispatch ? `<h2>Suggested dispatch (智能派单)</h2>\n<p>${esc(dispatchSummary(result.dispatch))}</p>` : ''}
<h2>Bulletin</h2>
<p>${result.bulletin ? `${result.bulletin.approvedCases} unreasonable application(s) approved. ${esc(result.bulletin.note)}${result.bulletin.html ? ` — <a href="bulletin.html">the published page (saved copy)</a>; it was served at ${esc(result.bulletin.url ?? '')} while the stack ran` : ''}` : 'No unreasonable application was approved: no bulletin.'}</p>
${result.errors.length ? `<h2>Errors</h2><pre>${esc(result.errors.join('\n'))}</pre>` : ''}
</body></html>`;
}

/** Writes `.local/simulation/<timestamp>/` and returns the paths. */
export function writeReport(
  result: SimulationResult,
  label: string,
  root = '.local/simulation',
): { dir: string; json: string; html: string; bulletin?: string } {
  const dir = join(root, new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  const { html: bulletinHtml, ...bulletin } = result.bulletin ?? { note: '', approvedCases: 0 };
  writeFileSync(
    json,
    JSON.stringify(
      {
        label,
        ...result,
        machine: {
          ...result.machine,
          cpu: cpus()[0]?.model,
          memoryGiB: totalmem() / 2 ** 30,
        },
        ...(result.bulletin ? { bulletin } : {}),
        costPerTicket: costPerTicket(result),
      },
      null,
      1,
    ),
  );
  writeFileSync(html, renderHtml(result, label));
  if (bulletinHtml) {
    const page = join(dir, 'bulletin.html');
    writeFileSync(page, bulletinHtml);
    return { dir, json, html, bulletin: page };
  }
  return { dir, json, html };
}

/** The model's figures on the run's topic-less calls, and the returns wrong dispatches caused. */
export function dispatchSummary(d: DispatchFigures): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const model = d.suggested
    ? `${d.suggested} calls filed without a topic: top-1 ${pct(d.top1)}, top-3 ${pct(d.top3)}, ` +
      `${pct(d.automatic)} dispatched by the model at ${pct(d.automaticPrecision)} precision; `
    : '';
  return (
    `${model}${d.returnsAfterModel} returns (退单) after a wrong suggestion, ` +
    `${d.returnsAfterOperator} after ${d.operatorErrors} operator's wrong picks`
  );
}

import { escapeHtml } from '../html.ts';
import type { Bulletin, BulletinSummary, Lang, LocalizedText } from './model.ts';
import { chinaDate, DEFAULT_ISSUER, formatDate, periodText } from './text.ts';

/**
 * Renderings of a bulletin for publication: a standalone HTML page per language, the JSON data,
 * an index page and an Atom feed. Everything interpolated is escaped, including our own fixed
 * text, so that a case text can never become markup.
 */

// Characters XML 1.0 forbids even when escaped; a stray control character from a pasted case
// text would otherwise make the whole feed unreadable.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function escapeXml(value: string): string {
  return escapeHtml(value.replace(XML_INVALID, ''));
}

/**
 * Links come from configuration, not from case texts, but a wrong setting must not turn into a
 * script URL on a public page.
 */
function safeHref(href: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href.trim())?.[1]?.toLowerCase();
  if (scheme && scheme !== 'http' && scheme !== 'https' && scheme !== 'mailto') {
    throw new TypeError(`refusing to link to a ${scheme}: URL`);
  }
  return escapeHtml(href.trim());
}

const HTML_LANG: Record<Lang, string> = { zh: 'zh-CN', en: 'en' };

const UI_ZH = {
  skip: '跳到正文',
  nav: '通报导航',
  index: '全部通报',
  previous: '上一期',
  published: '发布日期',
  feed: '订阅（Atom）',
  intro: '通报说明',
  cases: '典型案例',
  summary: '诉求情况',
  finding: '热线认定',
  basis: '认定依据',
  reply: '答复意见',
  topic: '诉求领域',
  district: '所在区域',
  counts: '分类统计',
  countsCaption: '本期案例按类别统计',
  category: '类别',
  count: '案例数',
  total: '合计',
  guidance: '请依法理性使用12345热线',
  draft: '草稿：本通报尚待审核，未正式发布。',
  privacy: '本通报所有案例均已隐去个人信息。',
  indexTitle: '不合理诉求通报',
  indexIntro: '历期不合理诉求典型案例通报，最新一期在前。',
  issues: '历期通报',
  noIssues: '暂无已发布的通报。',
  sep: '：',
};

/** Both languages must have every string the pages use. */
type UiText = Record<keyof typeof UI_ZH, string>;

const UI_EN: UiText = {
  skip: 'Skip to content',
  nav: 'Bulletin navigation',
  index: 'All bulletins',
  previous: 'Previous issue',
  published: 'Published',
  feed: 'Subscribe (Atom)',
  intro: 'About this bulletin',
  cases: 'Cases',
  summary: 'The request',
  finding: 'Finding',
  basis: 'Basis',
  reply: 'Reply to the caller',
  topic: 'Topic',
  district: 'District',
  counts: 'Cases by category',
  countsCaption: 'Cases in this issue by category',
  category: 'Category',
  count: 'Cases',
  total: 'Total',
  guidance: 'Using 12345 lawfully and reasonably',
  draft: 'Draft: this bulletin is awaiting approval and has not been published.',
  privacy: 'Personal information has been removed from every case in this bulletin.',
  indexTitle: 'Bulletins of Unreasonable Requests',
  indexIntro: 'All issues of the bulletin of unreasonable requests, newest first.',
  issues: 'Issues',
  noIssues: 'No bulletin has been published yet.',
  sep: ': ',
};

const UI: Record<Lang, UiText> = { zh: UI_ZH, en: UI_EN };

const caseLabel = (lang: Lang, n: number) => (lang === 'zh' ? `案例${n}` : `Case ${n}`);
const caseCount = (lang: Lang, n: number) =>
  lang === 'zh' ? `共${n}个案例` : `${n} ${n === 1 ? 'case' : 'cases'}`;

const FONT_STACK =
  '"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","Microsoft YaHei","WenQuanYi Micro Hei",system-ui,-apple-system,"Segoe UI",Roboto,sans-serif';

// Inline so the page stands alone (saved, mailed, printed or opened from the bucket).
const STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font-family:${FONT_STACK};font-size:1.0625rem;line-height:1.8;color:#1a1a1a;background:#fff;word-break:normal;overflow-wrap:anywhere}
.wrap{max-width:46rem;margin:0 auto;padding:0 1rem}
.skip-link{position:absolute;left:-999px;top:0;background:#fff;color:#0b3d91;padding:.5rem 1rem;z-index:10}
.skip-link:focus{left:.5rem;top:.5rem;outline:3px solid #0b3d91}
a{color:#0b3d91;text-underline-offset:.15em}
a:focus-visible{outline:3px solid #0b3d91;outline-offset:2px}
header.site{border-bottom:4px solid #b4141e;padding:.75rem 0}
header.site .issuer{font-weight:700;margin:0}
nav ul{list-style:none;margin:.25rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}
h1{font-size:1.6rem;line-height:1.4;margin:1.5rem 0 .5rem;color:#b4141e}
h2{font-size:1.25rem;line-height:1.4;margin:2rem 0 .75rem;padding-bottom:.25rem;border-bottom:1px solid #ddd}
h3{font-size:1.1rem;line-height:1.4;margin:0 0 .5rem}
.meta{color:#444;margin:0}
.draft{border:2px dashed #b4141e;padding:.5rem 1rem;font-weight:700}
.case{border:1px solid #ddd;border-left:4px solid #b4141e;border-radius:4px;padding:1rem;margin:0 0 1rem}
.case dl{margin:0}
.case dt{font-weight:700;margin-top:.5rem}
.case dd{margin:0}
.tags{color:#444;font-size:.95rem;margin:0 0 .25rem}
table{border-collapse:collapse;width:100%}
caption{text-align:left;color:#444;padding-bottom:.25rem}
th,td{border:1px solid #ccc;padding:.4rem .6rem;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tfoot th,tfoot td{font-weight:700}
ol.guidance li{margin-bottom:.4rem}
ol.issues{padding-left:0;list-style:none}
ol.issues li{border-bottom:1px solid #ddd;padding:.75rem 0}
footer.site{border-top:1px solid #ddd;margin-top:2.5rem;padding:1rem 0 2rem;color:#444;font-size:.95rem}
@media (max-width:30rem){body{font-size:1rem}h1{font-size:1.35rem}.case{padding:.75rem}}
@media print{
  @page{margin:18mm 15mm}
  body{font-size:11pt;line-height:1.6;color:#000}
  .skip-link,nav,.no-print{display:none!important}
  .wrap{max-width:none;padding:0}
  a{color:#000;text-decoration:none}
  h1{color:#000}
  h2,h3{break-after:avoid;page-break-after:avoid}
  .case,tr{break-inside:avoid;page-break-inside:avoid}
  .case{border-color:#000}
  header.site{border-bottom-color:#000}
}`;

export interface RenderBulletinOptions {
  lang: Lang;
  /** Link to the list of all issues. */
  indexHref: string;
  /** Link to the previous issue's page in the same language; no link when absent. */
  previousIssueHref?: string;
  /** Atom feed, announced to browsers and feed readers. */
  feedHref?: string;
  /** Where a city's own stylesheet (bulletin.css) lives, loaded after the built-in styles. */
  assetsBase?: string;
}

function head(
  title: string,
  lang: Lang,
  opts: { feedHref?: string; assetsBase?: string; description?: string; draft?: boolean },
): string {
  const lines = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
  ];
  if (opts.description)
    lines.push(`<meta name="description" content="${escapeHtml(opts.description)}">`);
  if (opts.draft) lines.push('<meta name="robots" content="noindex, nofollow">');
  if (opts.feedHref) {
    lines.push(
      `<link rel="alternate" type="application/atom+xml" title="${escapeHtml(UI[lang].indexTitle)}" href="${safeHref(opts.feedHref)}">`,
    );
  }
  lines.push(`<style>${STYLE}</style>`);
  if (opts.assetsBase) {
    const base = opts.assetsBase.replace(/\/+$/, '');
    lines.push(`<link rel="stylesheet" href="${safeHref(`${base}/bulletin.css`)}">`);
  }
  return lines.join('\n');
}

function time(isoDate: string, lang: Lang): string {
  return `<time datetime="${escapeHtml(isoDate)}">${escapeHtml(formatDate(isoDate, lang))}</time>`;
}

/**
 * The bulletin's own periodLabel, word for word as in the JSON, with its dates marked up as
 * <time>: the page cannot say a different period than the data (a one-day period is one date).
 */
function periodLine(bulletin: Bulletin, lang: Lang): string {
  let rest = escapeHtml(bulletin.text[lang].periodLabel);
  let out = '';
  const dates = [bulletin.periodStart, bulletin.periodEnd].filter(
    (d, i, all) => all.indexOf(d) === i,
  );
  for (const d of dates) {
    const shown = escapeHtml(formatDate(d, lang));
    const at = rest.indexOf(shown);
    if (at < 0) continue;
    out += rest.slice(0, at) + time(d, lang);
    rest = rest.slice(at + shown.length);
  }
  return out + rest;
}

/** Case texts are Chinese whatever the page language; say so, for screen readers and fonts. */
function zhAttr(lang: Lang): string {
  return lang === 'zh' ? '' : ' lang="zh-CN"';
}

export function renderBulletinHtml(bulletin: Bulletin, options: RenderBulletinOptions): string {
  const { lang } = options;
  const ui = UI[lang];
  const text = bulletin.text[lang];
  const t = escapeHtml;

  const previousLabel = bulletin.previousIssue
    ? `${ui.previous}${ui.sep}${bulletin.previousIssue.issueLabel[lang]}`
    : ui.previous;
  const navItems = [`<li><a href="${safeHref(options.indexHref)}">${t(ui.index)}</a></li>`];
  if (options.previousIssueHref) {
    navItems.push(
      `<li><a href="${safeHref(options.previousIssueHref)}" rel="prev">${t(previousLabel)}</a></li>`,
    );
  }
  if (options.feedHref) {
    navItems.push(
      `<li><a href="${safeHref(options.feedHref)}" type="application/atom+xml">${t(ui.feed)}</a></li>`,
    );
  }

  const published = bulletin.publishedAt
    ? `<p class="meta">${t(ui.published)}${t(ui.sep)}<time datetime="${t(bulletin.publishedAt)}">${t(formatDate(chinaDate(bulletin.publishedAt), lang))}</time></p>`
    : `<p class="draft" role="note">${t(ui.draft)}</p>`;
  const period = `<p class="meta">${periodLine(bulletin, lang)}</p>`;

  const cases = bulletin.cases
    .map((c) => {
      const id = `case-${c.sequence}`;
      const tags = [
        c.topic ? `${t(ui.topic)}${t(ui.sep)}<span${zhAttr(lang)}>${t(c.topic)}</span>` : '',
        c.district
          ? `${t(ui.district)}${t(ui.sep)}<span${zhAttr(lang)}>${t(c.district)}</span>`
          : '',
      ].filter(Boolean);
      const field = (label: string, value: string) =>
        `<dt>${t(label)}</dt>\n<dd${zhAttr(lang)}>${t(value)}</dd>`;
      return [
        `<article class="case" id="${id}" aria-labelledby="${id}-title">`,
        `<h3 id="${id}-title">${t(caseLabel(lang, c.sequence))}${t(ui.sep)}${t(c.categoryLabel[lang])}</h3>`,
        tags.length ? `<p class="tags">${tags.join(' · ')}</p>` : '',
        '<dl>',
        field(ui.summary, c.publicSummary),
        field(ui.finding, c.finding),
        field(ui.basis, c.basis),
        field(ui.reply, c.reply),
        '</dl>',
        '</article>',
      ]
        .filter(Boolean)
        .join('\n');
    })
    .join('\n');

  const countRows = bulletin.categoryCounts
    .map((c) => `<tr><th scope="row">${t(c.label[lang])}</th><td class="num">${c.count}</td></tr>`)
    .join('\n');

  return `<!doctype html>
<html lang="${HTML_LANG[lang]}">
<head>
${head(text.fullTitle, lang, { ...pick(options), description: text.summary, draft: !bulletin.publishedAt })}
</head>
<body>
<a class="skip-link" href="#main">${t(ui.skip)}</a>
<header class="site">
<div class="wrap">
<p class="issuer">${t(bulletin.issuer[lang])}</p>
<nav aria-label="${t(ui.nav)}">
<ul>
${navItems.join('\n')}
</ul>
</nav>
</div>
</header>
<main id="main" tabindex="-1">
<article class="wrap" aria-labelledby="title">
<h1 id="title">${t(text.title)}<br><small>${t(text.issueLabel)}</small></h1>
${published}
${period}
<section aria-labelledby="intro">
<h2 id="intro">${t(ui.intro)}</h2>
${text.introduction.map((p) => `<p>${t(p)}</p>`).join('\n')}
</section>
<section aria-labelledby="cases">
<h2 id="cases">${t(ui.cases)}</h2>
${cases}
</section>
<section aria-labelledby="counts">
<h2 id="counts">${t(ui.counts)}</h2>
<table>
<caption>${t(ui.countsCaption)}</caption>
<thead><tr><th scope="col">${t(ui.category)}</th><th scope="col" class="num">${t(ui.count)}</th></tr></thead>
<tbody>
${countRows}
</tbody>
<tfoot><tr><th scope="row">${t(ui.total)}</th><td class="num">${bulletin.totalCases}</td></tr></tfoot>
</table>
</section>
<section aria-labelledby="guidance">
<h2 id="guidance">${t(ui.guidance)}</h2>
<ol class="guidance">
${text.guidance.map((g) => `<li>${t(g)}</li>`).join('\n')}
</ol>
</section>
</article>
</main>
<footer class="site">
<div class="wrap">
<p>${t(ui.privacy)}</p>
<p>${t(bulletin.issuer[lang])} · ${t(text.issueLabel)}</p>
</div>
</footer>
</body>
</html>
`;
}

function pick(o: { feedHref?: string; assetsBase?: string }) {
  return {
    ...(o.feedHref ? { feedHref: o.feedHref } : {}),
    ...(o.assetsBase ? { assetsBase: o.assetsBase } : {}),
  };
}

/** The bulletin as published data: the object itself, since it holds nothing private. */
export function renderBulletinJson(bulletin: Bulletin): string {
  return `${JSON.stringify(bulletin, null, 2)}\n`;
}

const newestFirst = (issues: readonly BulletinSummary[]) =>
  [...issues].sort((a, b) => b.issueNumber - a.issueNumber);

export interface RenderIndexOptions {
  lang?: Lang;
  issuer?: LocalizedText;
  feedHref?: string;
  assetsBase?: string;
}

export function renderIndexHtml(
  issues: readonly BulletinSummary[],
  options: RenderIndexOptions = {},
): string {
  const lang = options.lang ?? 'zh';
  const ui = UI[lang];
  const t = escapeHtml;
  const issuer = (options.issuer ?? DEFAULT_ISSUER)[lang];
  const title = lang === 'zh' ? `${issuer}${ui.indexTitle}` : `${issuer}: ${ui.indexTitle}`;
  const items = newestFirst(issues).map((s) => {
    const published = chinaDate(s.publishedAt);
    return [
      '<li>',
      `<h3><a href="${safeHref(s.href)}">${t(s.title[lang])}</a></h3>`,
      `<p class="meta">${t(periodText(s.periodStart, s.periodEnd, lang))} · <time datetime="${t(s.publishedAt)}">${t(formatDate(published, lang))}</time> · ${t(caseCount(lang, s.totalCases))}</p>`,
      `<p>${t(s.summary[lang])}</p>`,
      '</li>',
    ].join('\n');
  });
  const nav = options.feedHref
    ? `<nav aria-label="${t(ui.nav)}">
<ul>
<li><a href="${safeHref(options.feedHref)}" type="application/atom+xml">${t(ui.feed)}</a></li>
</ul>
</nav>`
    : '';
  return `<!doctype html>
<html lang="${HTML_LANG[lang]}">
<head>
${head(title, lang, { ...pick(options), description: ui.indexIntro })}
</head>
<body>
<a class="skip-link" href="#main">${t(ui.skip)}</a>
<header class="site">
<div class="wrap">
<p class="issuer">${t(issuer)}</p>
${nav}
</div>
</header>
<main id="main" tabindex="-1">
<div class="wrap">
<h1>${t(title)}</h1>
<p>${t(ui.indexIntro)}</p>
<section aria-labelledby="issues">
<h2 id="issues">${t(ui.issues)}</h2>
${items.length ? `<ol class="issues">\n${items.join('\n')}\n</ol>` : `<p>${t(ui.noIssues)}</p>`}
</section>
</div>
</main>
<footer class="site">
<div class="wrap">
<p>${t(ui.privacy)}</p>
</div>
</footer>
</body>
</html>
`;
}

export interface AtomFeedOptions {
  /** The feed's own URL; also its permanent id. */
  feedUrl: string;
  /** The bulletin index page; issue hrefs are resolved against it. */
  siteUrl: string;
  updated: string | Date;
  lang?: Lang;
  issuer?: LocalizedText;
}

function isoInstant(value: string | Date): string {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a date-time: ${String(value)}`);
  return d.toISOString();
}

/** An Atom 1.0 feed (RFC 4287) with one entry per issue, newest first. */
export function renderAtomFeed(
  issues: readonly BulletinSummary[],
  options: AtomFeedOptions,
): string {
  const lang = options.lang ?? 'zh';
  const x = escapeXml;
  const issuer = (options.issuer ?? DEFAULT_ISSUER)[lang];
  const title = lang === 'zh' ? `${issuer}${UI.zh.indexTitle}` : `${issuer}: ${UI.en.indexTitle}`;
  const feedUrl = new URL(options.feedUrl).href;
  const siteUrl = new URL(options.siteUrl).href;
  const entries = newestFirst(issues).map((s) => {
    // The page URL doubles as the entry id: it is permanent once an issue is published.
    const link = new URL(s.href, siteUrl).href;
    const published = isoInstant(s.publishedAt);
    return [
      '  <entry>',
      `    <title>${x(s.title[lang])}</title>`,
      `    <id>${x(link)}</id>`,
      `    <link rel="alternate" type="text/html" href="${x(link)}"/>`,
      `    <published>${published}</published>`,
      `    <updated>${published}</updated>`,
      `    <summary>${x(s.summary[lang])}</summary>`,
      ...s.categoryCounts.map((c) => `    <category term="${x(c.category)}"/>`),
      '  </entry>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${HTML_LANG[lang]}">`,
    `  <title>${x(title)}</title>`,
    `  <subtitle>${x(UI[lang].indexIntro)}</subtitle>`,
    `  <id>${x(feedUrl)}</id>`,
    `  <link rel="self" type="application/atom+xml" href="${x(feedUrl)}"/>`,
    `  <link rel="alternate" type="text/html" href="${x(siteUrl)}"/>`,
    `  <updated>${isoInstant(options.updated)}</updated>`,
    `  <author><name>${x(issuer)}</name></author>`,
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}

import { describe, expect, it } from 'vitest';
import { draftBulletin, publishBulletin, summarizeBulletin } from '../../core/bulletin/draft.ts';
import { type BulletinSummary, bulletinSchema } from '../../core/bulletin/model.ts';
import {
  renderAtomFeed,
  renderBulletinHtml,
  renderBulletinJson,
  renderIndexHtml,
} from '../../core/bulletin/render.ts';
import { escapeHtml } from '../../core/html.ts';
import { APPROVED_CASES } from '../fixtures/privacy-corpus.ts';

const HOSTILE = `<script>alert("x")</script> & 'quoted' <img src=x onerror=alert(1)>`;

function makeBulletin(issueNumber: number, extra: Partial<(typeof APPROVED_CASES)[number]> = {}) {
  return publishBulletin(
    draftBulletin({
      issueNumber,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      cases: [{ ...APPROVED_CASES[0]!, ...extra }, ...APPROVED_CASES.slice(1)],
      ...(issueNumber > 1 ? { previousIssue: { issueNumber: issueNumber - 1 } } : {}),
    }),
    '2026-12-01T02:00:00Z',
  );
}

const VOID = new Set(['meta', 'link', 'br', 'img', 'hr', 'input']);

/**
 * A small, strict well-formedness check: every element closed in order, attributes quoted, only
 * the five predefined entities (plus numeric ones). In HTML mode void elements need no end tag.
 * Returns the element names in document order.
 */
function wellFormed(markup: string, mode: 'xml' | 'html'): string[] {
  const body = markup
    .replace(/^<\?xml[^?]*\?>/, '')
    .replace(/^<!doctype html>/i, '')
    .replace(/<style>[\s\S]*?<\/style>/, '<style></style>');
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+(?:="[^"<]*")?)*)\s*(\/?)>/y;
  let i = 0;
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt < 0 ? body.length : lt);
    for (const amp of text.matchAll(/&([^;\s]*);?/g)) {
      if (!/^&(?:amp|lt|gt|quot|#39|#\d+|#x[0-9a-f]+);$/i.test(amp[0])) {
        throw new Error(`bad entity ${amp[0]} near ${text.slice(0, 40)}`);
      }
    }
    if (/>/.test(text) && mode === 'xml') throw new Error(`stray > in ${text.slice(0, 40)}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(body);
    if (!m) throw new Error(`malformed tag at ${body.slice(lt, lt + 60)}`);
    const [, closing, name, attrs, selfClosing] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    if (mode === 'xml' && /\s[\w:-]+(?!=")(?=\s|$)/.test(attrs))
      throw new Error(`bare attribute in ${m[0]}`);
    for (const value of attrs.matchAll(/="([^"]*)"/g)) {
      if (/&(?!amp;|lt;|gt;|quot;|#39;)/.test(value[1] ?? ''))
        throw new Error(`bad entity in ${m[0]}`);
    }
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      names.push(name);
      if (!selfClosing && !(mode === 'html' && VOID.has(name))) stack.push(name);
    }
    i = lt + m[0].length;
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(' > ')}`);
  return names;
}

describe('renderBulletinHtml', () => {
  const bulletin = makeBulletin(7);
  const zh = renderBulletinHtml(bulletin, {
    lang: 'zh',
    indexHref: './',
    previousIssueHref: 'issue-6.zh.html',
    feedHref: 'feed.xml',
  });
  const en = renderBulletinHtml(bulletin, { lang: 'en', indexHref: './' });

  it('is a well-formed standalone page with landmarks, in the right language', () => {
    const names = wellFormed(zh, 'html');
    expect(zh.startsWith('<!doctype html>\n<html lang="zh-CN">')).toBe(true);
    expect(en).toContain('<html lang="en">');
    expect(zh).toContain('<meta charset="utf-8">');
    expect(zh).toContain('name="viewport"');
    expect(names.filter((n) => n === 'h1')).toHaveLength(1);
    for (const landmark of ['header', 'nav', 'main', 'footer']) expect(names).toContain(landmark);
    expect(zh).toContain('<a class="skip-link" href="#main">跳到正文</a>');
    expect(zh).toContain('<main id="main"');
    expect(zh).toContain('<title>12345政务服务便民热线不合理诉求典型案例通报（第7期）</title>');
    expect(zh).not.toMatch(/<(script|iframe)\b/);
    expect(zh).not.toMatch(/https?:\/\//);
  });

  it('is readable in Chinese fonts, on small screens and on paper', () => {
    const fonts = /font-family:([^;}]*)/.exec(zh)?.[1] ?? '';
    for (const font of ['"PingFang SC"', '"Microsoft YaHei"', '"Noto Sans CJK SC"', 'sans-serif']) {
      expect(fonts).toContain(font);
    }
    expect(zh).toMatch(/@media print\{/);
    expect(zh).toMatch(/@media \(max-width:/);
    expect(zh).toMatch(/break-inside:avoid/);
  });

  it('prints every case with its category, finding, basis and reply', () => {
    for (const c of bulletin.cases) {
      expect(zh).toContain(
        `<h3 id="case-${c.sequence}-title">案例${c.sequence}：${escapeHtml(c.categoryLabel.zh)}</h3>`,
      );
      for (const field of [c.publicSummary, c.finding, c.basis, c.reply]) {
        expect(zh).toContain(escapeHtml(field));
      }
    }
    expect(zh).toContain('<dt>热线认定</dt>');
    expect(en).toContain('<dt>Finding</dt>');
  });

  it('marks the Chinese case texts as Chinese on the English page', () => {
    expect(en).toContain(`<dd lang="zh-CN">${escapeHtml(bulletin.cases[0]!.publicSummary)}</dd>`);
    expect(zh).not.toContain('<dd lang=');
    expect(en).toContain('The case texts are published in Chinese as written by the hotline.');
  });

  it('shows counts by category with a total', () => {
    for (const c of bulletin.categoryCounts) {
      expect(zh).toContain(
        `<tr><th scope="row">${escapeHtml(c.label.zh)}</th><td class="num">${c.count}</td></tr>`,
      );
    }
    expect(zh).toContain('<tr><th scope="row">合计</th><td class="num">7</td></tr>');
    expect(en).toContain(
      `<th scope="row">Outside the hotline&#39;s remit</th><td class="num">2</td>`,
    );
  });

  it('links the previous issue when given, and not otherwise', () => {
    expect(zh).toContain('<a href="issue-6.zh.html" rel="prev">上一期：第6期</a>');
    const target = new URL('issue-6.zh.html', 'https://example.gov.cn/bulletins/issue-7.zh.html');
    expect(target.href).toBe('https://example.gov.cn/bulletins/issue-6.zh.html');
    expect(en).not.toContain('rel="prev"');
    expect(
      renderBulletinHtml(bulletin, { lang: 'en', indexHref: './', previousIssueHref: '6/' }),
    ).toContain('<a href="6/" rel="prev">Previous issue: Issue 6</a>');
  });

  it('shows publication and period dates as machine-readable times', () => {
    expect(zh).toContain('发布日期：<time datetime="2026-12-01T02:00:00Z">2026年12月1日</time>');
    expect(zh).toContain(
      '通报期间：<time datetime="2026-11-01">2026年11月1日</time>至<time datetime="2026-11-30">2026年11月30日</time>',
    );
  });

  it('states the period exactly as periodLabel in the JSON, a one-day period included', () => {
    const text = (html: string) =>
      /<p class="meta">(通报期间|Period)(.*?)<\/p>/.exec(html)?.[0].replace(/<[^>]+>/g, '');
    for (const [start, end] of [
      ['2026-11-01', '2026-11-30'],
      ['2026-12-01', '2026-12-01'],
    ] as const) {
      const b = draftBulletin({
        issueNumber: 3,
        periodStart: start,
        periodEnd: end,
        cases: APPROVED_CASES,
      });
      for (const lang of ['zh', 'en'] as const) {
        const json = JSON.parse(renderBulletinJson(b)) as typeof b;
        expect(text(renderBulletinHtml(b, { lang, indexHref: './' }))).toBe(
          json.text[lang].periodLabel,
        );
      }
    }
  });

  it('flags a draft and keeps it out of search engines', () => {
    const draft = draftBulletin({
      issueNumber: 8,
      periodStart: '2026-12-01',
      periodEnd: '2026-12-31',
      cases: APPROVED_CASES,
    });
    const html = renderBulletinHtml(draft, { lang: 'zh', indexHref: './' });
    expect(html).toContain('<p class="draft" role="note">草稿：本通报尚待审核，未正式发布。</p>');
    expect(html).toContain('<meta name="robots" content="noindex, nofollow">');
    expect(zh).not.toContain('noindex');
  });

  it('escapes case texts, labels and links', () => {
    const hostile = makeBulletin(9, { publicSummary: HOSTILE, topic: '"><b>x</b>' });
    const html = renderBulletinHtml(hostile, {
      lang: 'zh',
      indexHref: '/a?b=1&c="2"',
      previousIssueHref: "8'.html",
      assetsBase: 'https://cdn.example/x/',
    });
    wellFormed(html, 'html');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &lt;img src=x onerror=alert(1)&gt;',
    );
    expect(html).toContain('<a href="/a?b=1&amp;c=&quot;2&quot;">');
    expect(html).toContain('<a href="8&#39;.html" rel="prev">');
    expect(html).toContain('<link rel="stylesheet" href="https://cdn.example/x/bulletin.css">');
  });

  it('refuses script URLs in links', () => {
    expect(() =>
      renderBulletinHtml(bulletin, { lang: 'zh', indexHref: ' JavaScript:alert(1)' }),
    ).toThrow(TypeError);
    expect(() =>
      renderBulletinHtml(bulletin, {
        lang: 'zh',
        indexHref: './',
        previousIssueHref: 'data:text/html,x',
      }),
    ).toThrow(TypeError);
  });
});

describe('renderBulletinJson', () => {
  it('round-trips the bulletin and parses against the schema', () => {
    const bulletin = makeBulletin(7, { publicSummary: HOSTILE });
    const json = renderBulletinJson(bulletin);
    expect(json.endsWith('}\n')).toBe(true);
    expect(bulletinSchema.parse(JSON.parse(json))).toEqual(bulletin);
  });
});

const issues: BulletinSummary[] = [5, 7, 6].map((n) =>
  summarizeBulletin(
    makeBulletin(n, n === 6 ? { publicSummary: HOSTILE } : {}),
    `issue-${n}.zh.html`,
  ),
);

describe('renderAtomFeed', () => {
  const feed = renderAtomFeed(issues, {
    feedUrl: 'https://hotline.example.gov.cn/bulletins/feed.xml',
    siteUrl: 'https://hotline.example.gov.cn/bulletins/',
    updated: new Date('2026-12-01T02:00:00Z'),
    issuer: { zh: '某市12345热线 & 政务服务中心', en: 'City 12345 & Service Centre' },
  });

  it('is well-formed Atom with one entry per issue, newest first', async () => {
    const names = wellFormed(feed, 'xml');
    expect(
      feed.startsWith(
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"',
      ),
    ).toBe(true);
    expect(names.filter((n) => n === 'entry')).toHaveLength(3);
    const ids = [...feed.matchAll(/<entry>\s*<title>[^<]*<\/title>\s*<id>([^<]+)<\/id>/g)].map(
      (m) => m[1],
    );
    expect(ids).toEqual([
      'https://hotline.example.gov.cn/bulletins/issue-7.zh.html',
      'https://hotline.example.gov.cn/bulletins/issue-6.zh.html',
      'https://hotline.example.gov.cn/bulletins/issue-5.zh.html',
    ]);
    // An independent parser, when the dependency tree happens to provide one.
    const parser = await import('fast-xml-parser').catch(() => null);
    if (parser) {
      expect(parser.validate(feed)).toBe(true);
      const doc = parser.parse(feed, { ignoreAttributes: false, arrayMode: /^entry$/ });
      expect(doc.feed.entry).toHaveLength(3);
    }
  });

  it('carries the elements RFC 4287 requires', () => {
    const head = feed.slice(0, feed.indexOf('<entry>'));
    expect(head).toContain('<id>https://hotline.example.gov.cn/bulletins/feed.xml</id>');
    expect(head).toContain('<updated>2026-12-01T02:00:00.000Z</updated>');
    expect(head).toContain(
      '<link rel="self" type="application/atom+xml" href="https://hotline.example.gov.cn/bulletins/feed.xml"/>',
    );
    expect(head).toContain('<author><name>某市12345热线 &amp; 政务服务中心</name></author>');
    for (const entry of feed.split('<entry>').slice(1)) {
      for (const el of ['<title>', '<id>', '<updated>', '<link rel="alternate"', '<summary>']) {
        expect(entry).toContain(el);
      }
    }
    expect(feed).toContain('<category term="outside_remit"/>');
  });

  it('can be rendered in English', () => {
    const en = renderAtomFeed(issues, {
      feedUrl: 'https://hotline.example.gov.cn/bulletins/feed.en.xml',
      siteUrl: 'https://hotline.example.gov.cn/bulletins/',
      updated: '2026-12-01T02:00:00Z',
      lang: 'en',
    });
    wellFormed(en, 'xml');
    expect(en).toContain('xml:lang="en"');
    expect(en).toContain(
      '<title>12345 Government Service Hotline: Bulletins of Unreasonable Requests</title>',
    );
    expect(en).toContain('Bulletin of Unreasonable Requests, Issue 7</title>');
  });

  it('keeps characters XML forbids out of the feed', () => {
    const broken = { ...issues[0]!, summary: { zh: 'a\u0001b\u000bc', en: 'x' } };
    const xml = renderAtomFeed([broken], {
      feedUrl: 'https://h.example/feed.xml',
      siteUrl: 'https://h.example/',
      updated: '2026-12-01T02:00:00Z',
    });
    expect(xml).toContain('<summary>abc</summary>');
  });

  it('renders a valid feed with no issues', () => {
    const xml = renderAtomFeed([], {
      feedUrl: 'https://h.example/feed.xml',
      siteUrl: 'https://h.example/',
      updated: '2026-12-01T02:00:00Z',
    });
    expect(wellFormed(xml, 'xml')).not.toContain('entry');
  });
});

describe('renderIndexHtml', () => {
  it('lists every issue, newest first, with working links', () => {
    const html = renderIndexHtml(issues, { feedHref: 'feed.xml' });
    wellFormed(html, 'html');
    expect(html).toContain('<html lang="zh-CN">');
    const links = [...html.matchAll(/<h3><a href="([^"]+)">/g)].map((m) => m[1]);
    expect(links).toEqual(['issue-7.zh.html', 'issue-6.zh.html', 'issue-5.zh.html']);
    expect(html).toContain('12345政务服务便民热线不合理诉求典型案例通报（第7期）');
    expect(html).toContain('<a class="skip-link" href="#main">');
    expect(html).toContain('type="application/atom+xml" title=');
    expect(html).toContain(
      '2026年11月1日至2026年11月30日 · <time datetime="2026-12-01T02:00:00Z">2026年12月1日</time> · 共7个案例',
    );
  });

  it('escapes what it prints', () => {
    const hostile = { ...issues[0]!, title: { zh: HOSTILE, en: HOSTILE }, href: 'a"b.html' };
    const html = renderIndexHtml([hostile], { lang: 'en' });
    wellFormed(html, 'html');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<a href="a&quot;b.html">');
  });

  it('says so when nothing is published yet', () => {
    expect(renderIndexHtml([])).toContain('暂无已发布的通报。');
  });
});

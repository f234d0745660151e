import { createRequire } from 'node:module';

interface Cutter {
  cut(sentence: string, hmm?: boolean): string[];
}

let cutter: Cutter | undefined;

/**
 * jieba's dictionary takes ~100 ms to load: once per container, and only when a request first
 * needs a segmentation (most functions never do).
 */
function jieba(): Cutter {
  if (!cutter) {
    const require = createRequire(import.meta.url);
    const { Jieba } = require('@node-rs/jieba') as typeof import('@node-rs/jieba');
    const { dict } = require('@node-rs/jieba/dict') as typeof import('@node-rs/jieba/dict');
    cutter = Jieba.withDict(dict);
  }
  return cutter;
}

/** Half-width letters and digits, lower case: 'ＡＢＣ１２' and 'abc12' are the same token. */
export function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

const HAN = /\p{Script=Han}/u;
const WORDLIKE = /[\p{Script=Han}a-z]/u;

/**
 * Words said in every kind of request (我, 反映, 希望, 处理...) carry no topic; they are dropped
 * so the model spends its weights on the words that do.
 */
const STOPWORDS = new Set(
  '的 了 是 在 我 我们 你们 他们 她 他 它 有 和 与 及 也 都 就 还 又 很 太 这 那 这个 那个 一个 一直 已经 没有 不 没 被 把 给 对 从 到 让 向 请 希望 要求 反映 投诉 来电 市民 呀 啊 吗 呢 吧 啦 能 能否 可以 帮忙 帮 一下 问题 情况 现在 目前 今天 昨天 最近 什么 怎么 为什么 相关 部门 处理 解决 尽快 麻烦 谢谢 您好 你好 请问 想 知道 说 但 但是 而且 因为 所以 如果 或者 自己 家 里 上 下 中 时 后 前 个 些 次 多 等 该 其 此 之'.split(
    ' ',
  ),
);

/** The words of a request, as jieba cuts them, without punctuation, numbers or stopwords. */
export function words(text: string): string[] {
  return jieba()
    .cut(normalise(text), true)
    .map((w) => w.trim())
    .filter((w) => w && WORDLIKE.test(w) && !STOPWORDS.has(w) && !/^\d/.test(w));
}

/** The character n-grams of each run of Han characters (punctuation, digits and Latin break runs). */
export function charNgrams(text: string, n: number): string[] {
  const out: string[] = [];
  for (const run of normalise(text).split(/[^\p{Script=Han}]+/u)) {
    for (let i = 0; i + n <= run.length; i++) out.push(run.slice(i, i + n));
  }
  return out;
}

/**
 * Character bigrams of each run of Han characters. They catch what the dictionary cuts
 * differently (新词, typos, place names glued to a noun): 停水 inside 小区停水了 is found whether
 * or not jieba makes it a word.
 */
export function charBigrams(text: string): string[] {
  return charNgrams(text, 2);
}

/**
 * The features of a request: `w:` words, `c:` character bigrams and `u:` single characters, with
 * repeats. Single characters carry a topic in words neither the dictionary nor the seed has seen
 * (漏 in 渗漏, 电 in 电瓶车): on the independent set they cut the log-loss by a quarter and
 * raised top-3 from 94.8 % to 97.4 % (trigrams and word bigrams made it worse: too sparse for a
 * corpus this size).
 */
export function tokens(text: string): string[] {
  return [
    ...words(text).map((w) => `w:${w}`),
    ...charBigrams(text).map((c) => `c:${c}`),
    ...charNgrams(text, 1).map((c) => `u:${c}`),
  ];
}

export function isHan(text: string): boolean {
  return HAN.test(text);
}

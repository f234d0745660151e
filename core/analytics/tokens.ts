import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';
import { findPersonalData, type KnownIdentifiers } from '../bulletin/privacy.ts';

let jieba: Jieba | undefined;

/** Function words and hotline boilerplate that say nothing about the matter. */
const STOP = new Set(
  '的 了 是 在 我 我们 你 你们 他 她 它 他们 这 那 这个 那个 和 与 及 或 也 都 就 还 又 很 太 有 没有 没 不 被 把 给 让 向 从 到 对 为 以 于 而 但 但是 因为 所以 如果 已经 一直 一个 一些 什么 怎么 为什么 哪里 现在 今天 昨天 每天 时候 问题 情况 反映 希望 要求 请 请求 能否 能 能够 可以 需要 相关 部门 尽快 处理 解决 市民 来电 称 说 表示 啊 吧 呢 吗 呀 哦 嗯'.split(
    ' ',
  ),
);

/** Characters that make a token personal or meaningless: digits, Latin letters, punctuation. */
const NOT_A_WORD = /[0-9０-９A-Za-zＡ-Ｚａ-ｚ\s\p{P}\p{S}]/u;

/** Part-of-speech tags dropped: person names (nr), numerals and quantities (m, mq), non-words. */
const DROPPED_TAGS = new Set(['nr', 'nrt', 'nrfg', 'm', 'mq', 'x', 'eng']);

/**
 * The words of a request's content, for near-duplicate detection and topic words. Personal data
 * the privacy guard finds (and the ticket's own caller name, number and address) is masked before
 * segmentation; words jieba tags as person names or numerals, and tokens with digits or Latin
 * letters, are dropped, so neither a name the guard missed nor a number in pieces survives.
 */
export function contentTokens(content: string, known: KnownIdentifiers = {}): string[] {
  jieba ??= Jieba.withDict(dict);
  let masked = content;
  for (const f of findPersonalData(content, known)) {
    masked = `${masked.slice(0, f.index)}${'，'.repeat(f.length)}${masked.slice(f.index + f.length)}`;
  }
  return jieba
    .tag(masked, true)
    .filter((t) => !DROPPED_TAGS.has(t.tag))
    .map((t) => t.word.trim())
    .filter((t) => t.length > 1 && !NOT_A_WORD.test(t) && !STOP.has(t));
}

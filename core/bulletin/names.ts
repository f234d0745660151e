import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';

/**
 * People named in running Chinese case text. A surname character alone is too common a word to
 * go on (高温, 石狮子, 历史老师), so a name needs two things: a surname starting a word of the
 * segmenter's dictionary (jieba without its HMM guesses, which merge neighbours into one unknown
 * token), and a context that names people in case texts: a role or verb in front (邻居, 房东,
 * 话务员, 联系, 投诉, 称), a title or kinship word after (张主任, 王阿姨), quotes around it, or the
 * start of a clause followed by a speech verb (田国强来电). Middle-dot names (阿卜杜拉·艾买提) are
 * found by the dot. Anonymised forms (张某某, 王某, 某主任) and historical figures in place and
 * street names (中山路, 孙中山纪念馆) are not names of people in the case.
 */

export interface NameSpan {
  start: number;
  end: number;
}

let segmenter: Jieba | undefined;

/** Loaded on first use and kept for the life of the process (the dictionary takes a moment). */
function jieba(): Jieba {
  segmenter ??= Jieba.withDict(dict);
  return segmenter;
}

interface Token {
  word: string;
  tag: string;
  start: number;
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  let at = 0;
  for (const t of jieba().tag(text, false)) {
    out.push({ word: t.word, tag: t.tag, start: at });
    at += t.word.length;
  }
  return out;
}

export const SINGLE_SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤付葛白庞樊兰殷施牛洪聂单柴祝詹岳鲍季';
export const COMPOUND_SURNAMES = [
  '欧阳',
  '司马',
  '诸葛',
  '上官',
  '皇甫',
  '令狐',
  '慕容',
  '公孙',
  '司徒',
  '夏侯',
  '尉迟',
  '长孙',
  '宇文',
  '轩辕',
  '端木',
  '东方',
  '独孤',
  '南宫',
  '西门',
  '百里',
  '呼延',
  '澹台',
  '公冶',
  '申屠',
];
/** East is a direction and "东方明珠" a tower: only with a title or a clear role in front. */
const WEAK_COMPOUNDS = new Set(['东方', '西门', '百里', '南宫']);

/** Titles, kinship and role words said after a surname (张主任, 王阿姨, 李师傅, 马哥). */
export const TITLES = [
  '工程师',
  '先生',
  '女士',
  '小姐',
  '师傅',
  '师父',
  '大爷',
  '大娘',
  '大妈',
  '大姐',
  '大哥',
  '大嫂',
  '大叔',
  '大婶',
  '阿姨',
  '叔叔',
  '奶奶',
  '爷爷',
  '婆婆',
  '老师',
  '同志',
  '主任',
  '科长',
  '处长',
  '局长',
  '所长',
  '站长',
  '股长',
  '部长',
  '队长',
  '院长',
  '校长',
  '村长',
  '组长',
  '班长',
  '厂长',
  '行长',
  '镇长',
  '乡长',
  '区长',
  '县长',
  '市长',
  '书记',
  '经理',
  '老板',
  '总监',
  '会计',
  '医生',
  '大夫',
  '护士',
  '警官',
  '律师',
  '教练',
  '法官',
  '记者',
  '干事',
  '专员',
  '老人',
  '哥',
  '姐',
  '叔',
  '姨',
  '伯',
  '嫂',
];

/** Words in front of a person's name in case texts: roles, relations, and verbs taking a person. */
const ROLES = [
  '市民',
  '来电人',
  '诉求人',
  '当事人',
  '反映人',
  '投诉人',
  '举报人',
  '申请人',
  '被投诉人',
  '邻居',
  '房东',
  '房主',
  '租客',
  '租户',
  '业主',
  '店主',
  '摊主',
  '车主',
  '老板',
  '同事',
  '同学',
  '朋友',
  '前妻',
  '前夫',
  '妻子',
  '丈夫',
  '老公',
  '老婆',
  '儿子',
  '女儿',
  '孙子',
  '孙女',
  '父亲',
  '母亲',
  '哥哥',
  '姐姐',
  '弟弟',
  '妹妹',
  '表弟',
  '表哥',
  '表姐',
  '表妹',
  '堂弟',
  '堂哥',
  '侄子',
  '侄女',
  '女婿',
  '儿媳',
  '外甥',
  '亲戚',
  '雇工',
  '雇主',
  '员工',
  '职工',
  '工人',
  '话务员',
  '接线员',
  '工作人员',
  '网格员',
  '干部',
  '民警',
  '警察',
  '辅警',
  '司机',
  '医生',
  '护士',
  '班主任',
  '老师',
  '教练',
  '律师',
  '经理',
  '主任',
  '书记',
  '局长',
  '村长',
  '会计',
  '保安',
  '保洁员',
  '快递员',
  '骑手',
  '外卖员',
  '维修工',
  '电工',
  '客服',
  '主播',
  '博主',
  '主人',
  '网友',
  '债务人',
  '承租人',
  '出租人',
  '名叫',
  '叫做',
  '名为',
  '自称',
  '姓名',
  '联系',
  '联络',
  '投诉',
  '举报',
  '起诉',
  '控告',
  '找到',
  '寻找',
  '查找',
  '转告',
  '通知',
  '告诉',
  '约谈',
  '开除',
  '辞退',
  '处分',
  '批评',
  '辱骂',
  '殴打',
  '威胁',
  '对质',
  '举报',
  '拘留',
  '赡养',
  '打给',
  '叫',
  '找',
  '与',
  '和',
  '跟',
  '同',
  '及',
  '、',
  '称',
  '人',
  '员',
  '工',
  '生',
  '师',
  '长',
];

/** After a name at the start of a clause: what its bearer did (田国强来电, 彭丽华，女). */
const SPEECH_AFTER =
  /^(?:来电|来访|称|说|表示|要求|反映|投诉|认为|：|:|[，,][女男]|（|\(|要|拒|向)/;

/** Characters that end a name when they follow a surname and one given-name character. */
const STOP_CHARS = new Set(
  Array.from(
    '在的和与、，。；：！？,.;:!?“”‘’"\'「」（）()称说等要是了也都就又曾仍还将把被给向对从于因已未不没拒多私住来去到其之及或并跟同让叫家每上下里中内外后前时处一二三两几这那此该各另某',
  ),
);

/** Characters common in given names: a third character from this list makes a three-character name likelier. */
const GIVEN_NAME_CHARS = new Set(
  Array.from(
    '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍梅红鹏辉宇浩文斌林峰建国志新春海燕雪琴云飞亮晓东永福俊慧荣珍凤丹婷雨轩子涵欣怡佳琪瑶晨阳光鑫宁博凯鸿波洪成德顺清贵友庆祥福寿喜才宏胜利安民生发财金银宝珠翠莲菊琳颖倩莉蓉薇婕冰洁彬思远泽宸睿诚信坤昊然浩轩奕铭嘉航昌盛兴旺家豪毅锋威武鹰龙虎彪仁义礼智忠孝廉善良和谐美丽梁爱国华中山水柱根旭耀晖瑞祺祯珊璐蕾露霖琦娇婉妍媛嫣姗倩蓓蔚岚茜芸芝芬茹蕊菲萌淑惠贤珍宁静淳雅',
  ),
);

/** Historical figures whose names are also place and street names, or are quoted as examples. */
const FAMOUS = new Set([
  '孙中山',
  '中山',
  '毛泽东',
  '周恩来',
  '邓小平',
  '朱德',
  '刘少奇',
  '鲁迅',
  '雷锋',
  '焦裕禄',
  '孔子',
  '孟子',
  '屈原',
  '李白',
  '杜甫',
  '岳飞',
  '林则徐',
  '郑成功',
  '左权',
  '刘志丹',
  '张自忠',
  '杨靖宇',
  '赵一曼',
  '黄继光',
  '邱少云',
  '董存瑞',
  '刘胡兰',
  '苏轼',
  '王羲之',
  '诸葛亮',
  '曹操',
  '关羽',
  '包拯',
  '海瑞',
  '戚继光',
  '文天祥',
  '司马迁',
  '司马光',
  '欧阳修',
  '李清照',
  '辛弃疾',
  '陆游',
  '范仲淹',
  '王阳明',
  '朱熹',
  '蔡元培',
  '詹天佑',
  '钱学森',
  '袁隆平',
  '邓稼先',
  '华罗庚',
  '梁启超',
  '康有为',
  '李大钊',
  '陈独秀',
  '方志敏',
  '张思德',
  '王进喜',
  '孔繁森',
  '杨善洲',
  '谷文昌',
  '黄大年',
  '张桂梅',
]);

/** A name followed by one of these is a place or a monument, not a person in the case. */
const PLACE_AFTER =
  /^(?:路|街|道|大道|大街|公园|广场|小学|中学|大学|学校|纪念馆|故居|陵|县|镇|乡|村|桥|精神|雕像|铜像|像|墓|祠|庙|亭|书院|中路|东路|西路|南路|北路|号|舰|奖|杯)/;

const HAN = /\p{Script=Han}/u;
const isHan = (c: string | undefined) => c !== undefined && HAN.test(c);

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const alternation = (words: readonly string[]) =>
  [...words]
    .sort((a, b) => b.length - a.length)
    .map(escapeRe)
    .join('|');

const TITLE_RE = new RegExp(`^(?:${alternation(TITLES)})`);
const ROLE_BEFORE_RE = new RegExp(`(?:${alternation(ROLES)})$`);
const OPEN_QUOTES = new Set(['“', '「', "'", '"', '‘', '『']);
const CLOSE_QUOTES = new Set(['”', '」', "'", '"', '’', '』']);
const CLAUSE_START = new Set(['，', '。', '；', '！', '？', ',', ';', ' ', '\n', '（', '(', '：']);
/** Parts of speech of a dictionary word right after the surname that make it not a given name. */
const NOT_GIVEN_NAME_TAG = /^(?:d|p|c|u|r|f|m|q|ad|y|e|o|zg)/;
/** Surnames that are also everyday function words (曾 "once", 余 "remaining"): full names only. */
const FUNCTION_SURNAMES = new Set(Array.from('曾余付单石白金高常'));
const VERB_TAG = /^(?:v|vn|vd|l)/;

interface Surname {
  start: number;
  length: number;
  compound: boolean;
  /** False when the character sits inside a dictionary word (历史, 称王, 高温). */
  wordStart: boolean;
}

function surnamesIn(text: string, starts: Set<number>): Surname[] {
  const out: Surname[] = [];
  for (let i = 0; i < text.length; i++) {
    const two = text.slice(i, i + 2);
    if (COMPOUND_SURNAMES.includes(two)) {
      out.push({ start: i, length: 2, compound: true, wordStart: true });
      i++;
      continue;
    }
    if (SINGLE_SURNAMES.includes(text[i] as string)) {
      out.push({ start: i, length: 1, compound: false, wordStart: starts.has(i) });
    }
  }
  return out;
}

const DOT_NAME_ENDS =
  /^(?:拒绝|拖欠|养|有异味|反映|未|在|的|和|与|及|等|是|来电|要求|称|说|被|把|将)/;

/** The dot-joined minority name around each middle dot, cut at the role and verb words around it. */
function dotNames(text: string): NameSpan[] {
  const out: NameSpan[] = [];
  // The right part is a lookahead so that "甲·乙和丙·丁" yields both names.
  for (const m of text.matchAll(/(\p{Script=Han}{2,})·(?=(\p{Script=Han}{2,}))/gu)) {
    const left = m[1] as string;
    const right = m[2] as string;
    let from = left.length - Math.min(left.length, 4);
    for (let k = 2; k <= Math.min(left.length, 6); k++) {
      const before = left.slice(0, left.length - k);
      if (before === '' || ROLE_BEFORE_RE.test(before)) {
        from = left.length - k;
        break;
      }
    }
    let to = Math.min(right.length, 4);
    for (let k = 2; k <= Math.min(right.length, 6); k++) {
      const after = right.slice(k);
      if (after === '' || SPEECH_AFTER.test(after) || DOT_NAME_ENDS.test(after)) {
        to = k;
        break;
      }
    }
    const start = (m.index ?? 0) + from;
    out.push({ start, end: (m.index ?? 0) + left.length + 1 + to });
  }
  return out;
}

function isAnonymised(text: string, at: number): boolean {
  return text[at] === '某';
}

/** Person names in one case text, as spans of that text. */
export function findPersonNames(text: string): NameSpan[] {
  if (!/\p{Script=Han}/u.test(text)) return [];
  const toks = tokens(text);
  const starts = new Set(toks.map((t) => t.start));
  const tokenAt = new Map(toks.map((t) => [t.start, t]));
  const out: NameSpan[] = [...dotNames(text)];

  for (const s of surnamesIn(text, starts)) {
    const afterSurname = s.start + s.length;
    if (text[s.start - 1] === '某' || isAnonymised(text, afterSurname)) continue;
    const before = text.slice(Math.max(0, s.start - 6), s.start);
    const prev = text[s.start - 1];

    // 张主任, 王阿姨, 欧阳主任: the title decides the span.
    const title = TITLE_RE.exec(text.slice(afterSurname));
    if (title) {
      const end = afterSurname + title[0].length;
      // 王阿姨 but not 王阿姨们' generic plural or a longer dictionary word (石油工程师).
      const head = tokenAt.get(s.start);
      const merged =
        head &&
        head.word.length > s.length &&
        !/^nr/.test(head.tag) &&
        !TITLE_RE.test(head.word.slice(s.length));
      // 称王主任: the segmenter reads 称王 ("proclaim oneself king"); 历史老师 stays a subject.
      const inside = toks.find(
        (t) => t.start < s.start && t.start + t.word.length === afterSurname,
      );
      const swallowed = inside && !ROLE_BEFORE_RE.test(text.slice(inside.start, s.start));
      if (s.wordStart && !merged && !WEAK_COMPOUNDS.has(text.slice(s.start, afterSurname))) {
        out.push({ start: s.start, end });
        continue;
      }
      if (!s.wordStart && inside && !swallowed) {
        out.push({ start: s.start, end });
        continue;
      }
    }

    // A surname character inside a dictionary word (历史, 高温) is that word.
    if (!s.wordStart) continue;

    // 老唐, 小韩: a surname after 老/小, each a word of its own (not 小高层), after a role or a verb.
    if (
      !s.compound &&
      (prev === '老' || prev === '小') &&
      tokenAt.get(s.start - 1)?.word === prev
    ) {
      const next = text[afterSurname];
      const alone = tokenAt.get(s.start)?.word.length === 1;
      const ends = !isHan(next) || STOP_CHARS.has(next as string) || tokenAt.has(afterSurname);
      const lead = text.slice(0, s.start - 1);
      if (
        alone &&
        ends &&
        (ROLE_BEFORE_RE.test(lead) || !isHan(lead.at(-1)) || /[为给让把将对向]$/.test(lead))
      ) {
        out.push({ start: s.start - 1, end: afterSurname });
        continue;
      }
    }

    // A given name of one or two characters.
    const c1 = text[afterSurname];
    const c2 = text[afterSurname + 1];
    if (!isHan(c1) || STOP_CHARS.has(c1 as string)) continue;
    const headWord = tokenAt.get(s.start);
    if (!s.compound && headWord && headWord.word.length > 1 && !/^nr/.test(headWord.tag)) continue;
    const given = tokenAt.get(afterSurname);
    const fn = FUNCTION_SURNAMES.has(text[s.start] as string);
    if (!s.compound && given && given.word.length > 1 && NOT_GIVEN_NAME_TAG.test(given.tag))
      continue;
    if (fn && given && given.word.length > 1 && VERB_TAG.test(given.tag)) continue;
    let givenLength = 2;
    const at2 = tokenAt.get(afterSurname + 1);
    if (!isHan(c2) || STOP_CHARS.has(c2 as string)) givenLength = 1;
    else if (at2 && at2.word.length > 1 && !GIVEN_NAME_CHARS.has(c2 as string)) givenLength = 1;
    else if (
      given &&
      given.word.length === 1 &&
      at2 &&
      at2.word.length > 1 &&
      NOT_GIVEN_NAME_TAG.test(at2.tag)
    )
      givenLength = 1;
    if (fn && givenLength === 1) continue;
    const end = afterSurname + givenLength;
    const name = text.slice(s.start, end);
    if (FAMOUS.has(name) || PLACE_AFTER.test(text.slice(end))) continue;

    const quoted = OPEN_QUOTES.has(prev as string) && CLOSE_QUOTES.has(text[end] as string);
    const afterRole = ROLE_BEFORE_RE.test(before) || (prev !== undefined && OPEN_QUOTES.has(prev));
    const clauseStart =
      (prev === undefined || CLAUSE_START.has(prev)) && SPEECH_AFTER.test(text.slice(end));
    const weak = WEAK_COMPOUNDS.has(text.slice(s.start, afterSurname));
    if (quoted || (afterRole && !weak) || (clauseStart && !weak)) out.push({ start: s.start, end });
  }
  return out;
}

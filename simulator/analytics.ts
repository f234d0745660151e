/**
 * A month of tickets for the analytics detectors, in their stored form, with patterns planted in
 * it: a surge of one topic in one township on one day, one matter reported by many callers in
 * varied wording, and one caller who calls again and again. Eight weeks of history come before
 * the month so that every cell has its baseline. Deterministic for a seed.
 */
import type { MonthlyAnalysis } from '#core/analytics/analysis';
import { callerAnalyticsKey } from '#core/analytics/schema';
import { addDays, monthRange } from '#core/analytics/sql';
import type { Channel, Ticket } from '#core/ticket';
import { streamFor, TOWNSHIPS } from './plan.ts';

const DISTRICT = 'qingshan';

/** Topics with sentence parts: a complaint is one from each list, so wording varies widely. */
const TOPICS: Record<string, { weight: number; parts: string[][] }> = {
  noise: {
    weight: 3,
    parts: [
      ['夜间', '凌晨', '周末', '中午', '每天晚上', '最近几天'],
      ['工地施工', '广场舞音响', '酒吧音乐', '装修电钻', '商铺喇叭', '货车卸货'],
      ['噪音很大', '声音扰民', '吵得睡不着', '影响老人休息', '孩子无法学习'],
    ],
  },
  'water-supply': {
    weight: 3,
    parts: [
      ['家中', '整栋楼', '单元里', '附近几户', '店铺'],
      ['自来水', '供水', '水龙头', '热水器进水'],
      ['水压太低', '停水没通知', '水质发黄', '水有异味', '管道漏水'],
    ],
  },
  roads: {
    weight: 2,
    parts: [
      ['路口', '人行道', '主干道', '桥下', '学校门口'],
      ['路面坑洼', '井盖松动', '路灯不亮', '护栏损坏', '排水不畅'],
      ['存在安全隐患', '行人容易摔倒', '车辆通行困难', '雨天积水严重'],
    ],
  },
  'property-management': {
    weight: 2,
    parts: [
      ['物业公司', '物业管家', '保安'],
      ['乱收停车费', '垃圾清运不及时', '电梯经常故障', '绿化无人打理', '门禁损坏'],
      ['多次反映无果', '业主意见很大', '服务态度差'],
    ],
  },
  'urban-management': {
    weight: 2,
    parts: [
      ['街边', '菜市场旁', '公交站附近', '河道边'],
      ['占道经营', '乱堆杂物', '违规停车', '油烟直排', '垃圾乱倒'],
      ['影响通行', '环境脏乱', '气味难闻'],
    ],
  },
  wages: {
    weight: 1,
    parts: [
      ['工厂', '建筑工地', '饭店', '装修公司'],
      ['拖欠工资', '不发加班费', '克扣工资', '不签劳动合同'],
      ['已经两个月', '多人受影响', '老板联系不上'],
    ],
  },
};

/** Where background requests happen: the planted matter's 幸福里 is not among them. */
const COMMUNITIES = [
  '阳光花园',
  '锦绣家园',
  '和平新村',
  '翠湖苑',
  '金桂园',
  '东方名城',
  '长青小区',
  '丽景湾',
  '滨河花园',
  '书香门第',
  '康乐小区',
  '紫荆苑',
  '春晖园',
  '华府名邸',
  '玉兰苑',
  '新华里',
  '安居小区',
  '明珠花园',
  '桃源居',
  '望江楼小区',
  '青松苑',
  '红星小区',
  '文昌花园',
  '碧水湾',
];

/** What callers add about time and what they tried: more words that vary between callers. */
const DETAILS = [
  '已经持续一周',
  '打过物业电话没用',
  '之前反映过',
  '老人孩子受影响',
  '邻居也有意见',
  '拍了照片',
  '上个月就有',
  '白天也这样',
  '越来越严重',
  '',
];

/** The planted matter: one place, many callers, the same thing said in their own words. */
const CLUSTER_TEXTS = [
  '幸福里小区二期地下车库积水严重，车都泡了，排水泵坏了没人修',
  '幸福里二期地下车库又积水了，排水泵不工作，车辆被泡',
  '我们幸福里小区二期车库积水，水泵坏了好几天，请赶紧修排水泵',
  '幸福里小区地下车库二期积水很深，排水泵一直没修，车泡水了',
  '幸福里二期车库积水，排水泵故障，业主车辆被淹',
  '反映幸福里小区二期地下车库积水，排水泵坏了，车都被泡了',
  '幸福里小区二期地下车库积水到膝盖，排水泵坏掉没人管',
  '幸福里二期的地下车库积水严重，排水泵坏了，车泡在水里',
  '幸福里小区二期地下车库排水泵坏了，车库积水，车子被泡',
  '二期幸福里小区地下车库积水，排水泵失灵，车辆泡水',
  '幸福里小区二期车库积水严重，排水泵损坏，多辆车被泡',
  '幸福里二期地下车库积水，排水泵坏了一周了，车被泡了',
];

export interface Planted {
  surge?: { topic: string; township: string; day: string; tickets: number };
  cluster?: { topic: string; township: string; fromDay: string; tickets: number };
  repeatCaller?: { phone: string; tickets: number };
}

export interface MonthOptions {
  month: string;
  /** Average tickets a day across the county. */
  perDay: number;
  seed: number;
  /** Plant the three patterns (default) or none. */
  plant: boolean;
  /** Weeks of history before the month. */
  baselineWeeks?: number;
}

export interface SimulatedMonth {
  tickets: Ticket[];
  planted: Planted;
}

function poisson(rand: () => number, mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss(rand)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}

const pickFrom = <T>(rand: () => number, list: readonly T[]): T =>
  list[Math.floor(rand() * list.length)] as T;

/** How callers go on: two of these per request, so that two callers rarely say the same. */
const CONTEXT = [
  '下班回家才发现',
  '孩子明年要中考',
  '家里有病人',
  '租户也在抱怨',
  '问了社区居委会',
  '业委会不管',
  '网上也有人发帖',
  '街坊都知道',
  '附近还有幼儿园',
  '外卖骑手经常经过',
  '晚上十点以后最明显',
  '刮风下雨更糟',
  '节假日人多',
  '早高峰堵得厉害',
  '去年修过一次',
  '施工方说不归他们管',
  '城管来过又走了',
  '店主态度强硬',
  '房东让找物业',
  '怕出事故',
  '老旧小区没电梯',
  '新搬来不久',
  '投诉过三次',
  '拍了视频',
  '找过村委',
];

function backgroundText(rand: () => number, parts: readonly string[][]): string {
  const said = [pickFrom(rand, COMMUNITIES), ...parts.map((p) => pickFrom(rand, p))];
  const detail = pickFrom(rand, DETAILS);
  const first = pickFrom(rand, CONTEXT);
  let second = pickFrom(rand, CONTEXT);
  if (second === first) second = pickFrom(rand, CONTEXT);
  return `${said.join('')}，${detail ? `${detail}，` : ''}${first}，${second}。`;
}

const CHANNELS: readonly Channel[] = ['phone', 'phone', 'phone', 'web', 'app', 'wechat'];
const UNITS: Record<string, string> = {
  noise: 'environment-bureau',
  'water-supply': 'water-supply',
  roads: 'housing-bureau',
  'property-management': 'housing-bureau',
  'urban-management': 'urban-management-bureau',
  wages: 'labour-bureau',
};

function phoneOf(n: number): string {
  return `139${String(10_000_000 + (n % 89_999_999)).padStart(8, '0')}`;
}

/** One stored ticket, closed with a reply and a survey, as the lifecycle leaves it. */
function ticket(
  rand: () => number,
  n: number,
  day: string,
  topic: string,
  township: string,
  content: string,
  phone: string,
): Ticket {
  const createdAt = new Date(
    Date.parse(`${day}T00:00:00+08:00`) + Math.floor((7 + rand() * 14) * 3600_000),
  ).toISOString();
  const at = (hours: number) => new Date(Date.parse(createdAt) + hours * 3600_000).toISOString();
  const reached = rand() < 0.8;
  const resolved = rand() < 0.75;
  const id = `${day.replaceAll('-', '')}-${String(n).padStart(6, '0')}`;
  return {
    id,
    channel: pickFrom(rand, CHANNELS),
    caller: { phone },
    confidential: false,
    noCallback: false,
    content,
    category: 'complaint',
    topic,
    place: { district: DISTRICT, township },
    urgency: 'normal',
    noSubstance: false,
    disposition: { kind: 'dispatch' },
    status: 'closed',
    leadUnit: UNITS[topic] ?? 'housing-bureau',
    assistingUnits: [],
    dispatchedAt: at(0.5),
    signedAt: at(rand() < 0.9 ? 2 : 30),
    deadlines: { signBy: at(24), replyBy: at(24 * 7) },
    chase: {},
    reply: {
      content: '已处理',
      resolved,
      unitId: UNITS[topic] ?? 'housing-bureau',
      repliedAt: at(rand() < 0.85 ? 24 * 3 : 24 * 9),
    },
    returnedBy: [],
    extendedWorkingDays: 0,
    reopenCount: 0,
    surveys: [],
    survey: reached
      ? { reached, resolved, satisfaction: resolved ? 'satisfied' : 'unsatisfied' }
      : { reached: false },
    assessed: {},
    closure: reached ? 'callback_done' : 'unreached',
    createdAt,
    updatedAt: at(24 * 4),
    closedAt: at(24 * 4),
    version: 9,
  };
}

/** A month (and its baseline weeks) of tickets with, unless `plant` is false, the patterns. */
export function simulateMonth(options: MonthOptions): SimulatedMonth {
  const { month, perDay, seed, plant } = options;
  const { from, to } = monthRange(month);
  const start = addDays(from, -7 * (options.baselineWeeks ?? 8));
  const topics = Object.entries(TOPICS);
  const totalWeight = topics.reduce((s, [, t]) => s + t.weight, 0);
  // Townships differ in size: the first ones are the busy town centre.
  const townshipWeights = TOWNSHIPS.map((_, i) => 1 / (i + 1.5));
  const townshipTotal = townshipWeights.reduce((a, b) => a + b, 0);
  const tickets: Ticket[] = [];
  let n = 0;
  let callers = 0;
  const rand = streamFor(seed, 0, 1);
  const add = (day: string, topic: string, township: string, content: string, phone: string) =>
    tickets.push(ticket(rand, ++n, day, topic, township, content, phone));

  for (let day = start; day <= to; day = addDays(day, 1)) {
    const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
    const dayMean = perDay * (weekday === 0 || weekday === 6 ? 0.7 : 1.1);
    for (const [topic, spec] of topics) {
      for (const [i, township] of TOWNSHIPS.entries()) {
        const mean =
          (dayMean * spec.weight * (townshipWeights[i] as number)) / (totalWeight * townshipTotal);
        const count = poisson(rand, mean);
        for (let k = 0; k < count; k++) {
          add(day, topic, township, backgroundText(rand, spec.parts), phoneOf(++callers));
        }
      }
    }
  }

  const planted: Planted = {};
  if (plant) {
    // 异动: a quiet township's roads complaints jump on one day of the month.
    const surgeDay = addDays(from, 11);
    const surge = { topic: 'roads', township: 'songlin', day: surgeDay, tickets: 9 };
    for (let k = 0; k < surge.tickets; k++) {
      const text = backgroundText(rand, TOPICS.roads!.parts);
      add(surge.day, surge.topic, surge.township, text, phoneOf(++callers));
    }
    planted.surge = surge;
    // 多人同诉: one matter, many callers, their own words, over four days.
    const clusterFrom = addDays(from, 17);
    for (const [k, text] of CLUSTER_TEXTS.entries()) {
      add(addDays(clusterFrom, k % 4), 'property-management', 'nanhu', text, phoneOf(++callers));
    }
    planted.cluster = {
      topic: 'property-management',
      township: 'nanhu',
      fromDay: clusterFrom,
      tickets: CLUSTER_TEXTS.length,
    };
    // 一人多诉: one number, a request every few days about different things.
    const phone = '13700001234';
    const repeats = 8;
    for (let k = 0; k < repeats; k++) {
      const [topic, spec] = topics[k % topics.length]!;
      const text = backgroundText(rand, spec.parts);
      add(addDays(from, 1 + k * 3), topic, 'chengguan', text, phone);
    }
    planted.repeatCaller = { phone, tickets: repeats };
  }
  return { tickets, planted };
}

export interface PlantedCheck {
  pattern: 'surge' | 'cluster' | 'repeatCaller';
  planted: string;
  found: boolean;
  detail: string;
}

/**
 * Whether the month's analysis found each planted pattern, and every other finding (a false
 * warning when nothing was planted, or when it is not the planted one).
 */
export function checkPlanted(
  analysis: MonthlyAnalysis,
  planted: Planted,
  salt: string,
): { checks: PlantedCheck[]; otherWarnings: number } {
  const checks: PlantedCheck[] = [];
  let matched = { surges: 0, clusters: 0, callers: 0 };
  if (planted.surge) {
    const p = planted.surge;
    const hit = analysis.surges.find(
      (s) => s.topic === p.topic && s.township === p.township && s.day === p.day,
    );
    if (hit) matched = { ...matched, surges: matched.surges + 1 };
    checks.push({
      pattern: 'surge',
      planted: `${p.topic} × ${p.township} on ${p.day}: +${p.tickets}`,
      found: hit !== undefined,
      detail: hit
        ? `${hit.tickets} tickets, ${hit.expected.toFixed(2)} expected, p = ${hit.pValue.toExponential(1)}`
        : 'not flagged',
    });
  }
  if (planted.cluster) {
    const p = planted.cluster;
    const hit = analysis.clusters.find(
      (c) => c.township === p.township && c.firstDay >= p.fromDay && c.size >= p.tickets * 0.8,
    );
    if (hit) matched = { ...matched, clusters: matched.clusters + 1 };
    checks.push({
      pattern: 'cluster',
      planted: `${p.tickets} callers, one matter in ${p.township} from ${p.fromDay}`,
      found: hit !== undefined,
      detail: hit
        ? `${hit.size} requests, ${hit.callers} callers: ${hit.representative}`
        : 'not found',
    });
  }
  if (planted.repeatCaller) {
    const p = planted.repeatCaller;
    const key = callerAnalyticsKey(salt, p.phone);
    const hit = analysis.repeatCallers.find((c) => c.callerKey === key);
    if (hit) matched = { ...matched, callers: matched.callers + 1 };
    checks.push({
      pattern: 'repeatCaller',
      planted: `one caller, ${p.tickets} requests`,
      found: hit !== undefined,
      detail: hit ? `${hit.tickets} requests on ${hit.topics} topics` : 'not found',
    });
  }
  const otherWarnings =
    analysis.surges.length -
    matched.surges +
    analysis.clusters.length -
    matched.clusters +
    analysis.repeatCallers.length -
    matched.callers;
  return { checks, otherWarnings };
}

/**
 * The versions the stream carries for each simulated ticket: as received (version 1, stored when
 * the call ended) and as closed. A daily run sees the first the same day.
 */
export function storedVersions(tickets: readonly Ticket[]): Ticket[] {
  return tickets.flatMap((t) => [
    {
      ...t,
      status: 'received' as const,
      version: 1,
      updatedAt: t.createdAt,
      reply: undefined,
      survey: undefined,
      signedAt: undefined,
      closure: undefined,
      closedAt: undefined,
    },
    t,
  ]);
}

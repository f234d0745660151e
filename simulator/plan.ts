/**
 * The seeded plan of a simulation: every call of the run and everything that will happen to its
 * ticket (how the unit behaves, what the centre decides, what the caller answers on the callback),
 * decided up front from a PRNG keyed by the seed and the call's index. The simulator only plays
 * the plan back through the public interfaces, so the same seed gives the same outcomes however
 * fast the machine is.
 */

import { evaluationRequests } from '#core/dispatch-model/evaluation-set';
import { mulberry32 } from '#core/random';
import type { Closure } from '#core/ticket';
import type { UnreasonableCategory } from '#core/unreasonable';

/** Fractions; every one can be overridden with `--mix file.json`. */
export interface Mix {
  /** Calls that ring out unanswered (call.missed), outside and inside the burst hour. */
  missed: number;
  missedInBurst: number;
  /** Consultations the operator answers on the spot (直接办结). */
  answered: number;
  /** Of the remaining calls: a second call about an open ticket (same caller, same topic: 并单). */
  duplicate: number;
  urgent: number;
  /** Dispatched tickets no catalogue rule fits (no township given): a dispatcher routes them. */
  manualDispatch: number;
  confidential: number;
  noCallback: number;
  /** Unit behaviour. */
  signLate: number;
  returned: number;
  extension: number;
  extensionApproved: number;
  unreasonable: number;
  unreasonableApproved: number;
  replyLate: number;
  /** Caller on the callback (the rest are satisfied). */
  basicallySatisfied: number;
  unsatisfiedResolved: number;
  /** Unresolved and unsatisfied once (重办), satisfied after the second reply. */
  reopenOnce: number;
  /** Unresolved and unsatisfied every time, until the reopen limit closes the ticket. */
  reopenLimit: number;
  unreachable: number;
  /** Reached callers who are busy on the first attempt and answer the second. */
  busyFirst: number;
  /** The burst hour's call rate, as a multiple of the normal rate for that hour. */
  burstFactor: number;
  /** Repeat callers without substance (one per this many calls, at least one). */
  repeatCallerPer: number;
  repeatCalls: number;
  /**
   * 智能派单: dispatched calls filed without a topic, in a caller's own words (a request of the
   * independent evaluation set, data/dispatch/eval.json, for the call's topic): the dispatch model
   * chooses, or leaves the ticket to a dispatcher. Default 0: the operator always picks.
   */
  suggest: number;
  /**
   * Of the dispatched calls filed with a topic, the share where the operator picks a wrong one
   * (manual sorting is reported wrong about 15 % of the time). Default 0.
   */
  operatorError: number;
}

export const DEFAULT_MIX: Mix = {
  missed: 0.05,
  missedInBurst: 0.2,
  answered: 0.5,
  duplicate: 0.04,
  urgent: 0.08,
  manualDispatch: 0.03,
  confidential: 0.03,
  noCallback: 0.02,
  signLate: 0.1,
  returned: 0.05,
  extension: 0.08,
  extensionApproved: 0.7,
  unreasonable: 0.04,
  unreasonableApproved: 0.5,
  replyLate: 0.12,
  basicallySatisfied: 0.2,
  unsatisfiedResolved: 0.04,
  reopenOnce: 0.07,
  reopenLimit: 0.015,
  unreachable: 0.1,
  busyFirst: 0.15,
  burstFactor: 3.5,
  repeatCallerPer: 2500,
  repeatCalls: 7,
  suggest: 0,
  operatorError: 0,
};

export const PRESETS = {
  /** A prefecture city such as Liaocheng: about 5,000 calls a day. */
  prefecture: { volume: 5000, days: 1 },
  /** Beijing: about 60,000 a day (21 million requests in 2023). */
  beijing: { volume: 60_000, days: 1 },
} as const;
export type PresetName = keyof typeof PRESETS;

/** The 青山县 sample catalogue's townships (data/sample-county.json). */
export const TOWNSHIPS = [
  'chengguan',
  'dongcheng',
  'xicheng',
  'nanhu',
  'beiyuan',
  'qingshan-town',
  'shiqiao',
  'liuhe',
  'dazhuang',
  'hekou',
  'baima',
  'songlin',
] as const;

/** Topic weights for dispatched tickets, roughly as hotlines report them; a storm shifts them. */
export const TOPICS: [string, number, string][] = [
  ['property-management', 10, '小区物业不作为，楼道垃圾长期无人清理'],
  ['water-supply', 7, '小区停水，至今未恢复供水'],
  ['power', 6, '片区停电，影响正常生活'],
  ['heating', 6, '家中暖气温度不达标'],
  ['wages', 6, '工地拖欠农民工工资'],
  ['urban-management', 6, '路边占道经营影响通行'],
  ['noise', 5, '夜间施工噪声扰民'],
  ['roads', 5, '路面塌陷，存在安全隐患'],
  ['housing', 4, '新房墙体开裂，开发商不予维修'],
  ['market', 4, '商家拒绝退款'],
  ['food-safety', 3, '餐馆卫生条件差'],
  ['traffic', 3, '路口信号灯故障'],
  ['public-transport', 3, '公交车长时间不来'],
  ['social-security', 3, '社保转移接续办理困难'],
  ['medical-insurance', 3, '医保报销进度缓慢'],
  ['education', 3, '学校违规收费'],
  ['environment', 3, '工厂排放异味'],
  ['illegal-construction', 3, '楼顶违章搭建'],
  ['neighbourhood', 2, '邻里纠纷，楼上漏水不予处理'],
  ['gas', 2, '燃气表计量异常'],
  ['health', 2, '医院就诊排队时间过长'],
  ['elderly-care', 2, '老年人补贴未按时发放'],
  ['labour', 2, '单位未签订劳动合同'],
  ['village-affairs', 2, '村务不公开'],
  ['demolition', 1, '拆迁补偿款未到位'],
  ['safety-hazard', 1, '商铺消防通道堵塞'],
  ['permits', 1, '营业执照办理材料要求不清'],
  ['tax', 1, '发票开具问题'],
  ['tourism', 1, '景区强制消费'],
  ['agriculture', 1, '农资质量问题'],
  ['veterans', 1, '退役军人优待政策咨询未落实'],
];
export const STORM_TOPICS: [string, number, string][] = [
  ['power', 30, '暴雨后片区停电'],
  ['water-supply', 20, '暴雨后小区停水'],
  ['roads', 20, '道路积水严重，车辆无法通行'],
  ['urban-management', 10, '行道树倒伏压住车辆'],
  ['property-management', 10, '地下车库进水'],
  ['safety-hazard', 10, '广告牌松动有坠落危险'],
];
const LOCAL_TOPICS = [
  'property-management',
  'illegal-construction',
  'neighbourhood',
  'village-affairs',
];
const CONSULTATION_TOPICS = [
  'social-security',
  'medical-insurance',
  'permits',
  'tax',
  'education',
  'public-transport',
  'housing',
  'elderly-care',
];
const CATEGORY_WEIGHTS: [string, number][] = [
  ['complaint', 40],
  ['help', 30],
  ['consultation', 15],
  ['report', 10],
  ['suggestion', 5],
];
const UNREASONABLE: UnreasonableCategory[] = [
  'no_factual_basis',
  'outside_remit',
  'superstition_or_public_order',
  'contrary_to_law_or_policy',
];

/** Calls per hour of the day (Asia/Shanghai), relative: quiet nights, a morning and evening peak. */
const HOURLY = [
  0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.4, 3, 3, 2.7, 2, 2.4, 2.7, 2.7, 2.5, 2.2, 1.8, 1.8, 1.5,
  1.1, 0.7, 0.4,
];
/** 19:00 on the first day: a storm (or an outage) brings 3–4× the calls of a normal evening. */
export const BURST_HOUR = 19;

export type SurveyRound =
  | {
      kind: 'answered';
      resolvedKey: '1' | '2';
      satisfactionKey: '1' | '2' | '3';
      busyFirst: boolean;
    }
  | { kind: 'unreachable' };

export interface UnitPlan {
  /** Set when no catalogue rule fits: the dispatcher routes it to this unit. */
  manualLead?: string;
  signLate: boolean;
  /** The unit returns it (退单) and the centre re-dispatches it to this unit. */
  returnTo?: string;
  extension?: 'approved' | 'refused';
  unreasonable?: { category: UnreasonableCategory; approved: boolean };
  replyLate: boolean;
  /** Hours the centre takes to decide (returns, extensions, unreasonable applications). */
  centreHours: number;
}

export type CallKind = 'missed' | 'answered' | 'no_substance' | 'dispatched' | 'duplicate';

export interface PlannedCall {
  index: number;
  /** Virtual milliseconds after the start of the run. */
  atMs: number;
  kind: CallKind;
  burst: boolean;
  callId: string;
  callerPhone: string;
  callerName: string;
  topic: string;
  category: string;
  township?: string;
  address: string;
  content: string;
  urgency: 'normal' | 'urgent';
  confidential: boolean;
  noCallback: boolean;
  /** Filed without a topic: the dispatch model chooses (mix.suggest). */
  topicless?: boolean;
  /** The wrong topic the operator picks instead of `topic` (mix.operatorError). */
  operatorTopic?: string;
  /** For a duplicate: the call whose open ticket it joins. */
  duplicateOf?: number;
  /** For a repeat caller without substance: the how-many-th contentless call of this caller. */
  repeatNumber?: number;
  unit?: UnitPlan;
  surveys?: SurveyRound[];
  /** What the plan says the ticket ends as: no ticket for a missed call. */
  expected: { status: 'none' | 'closed' | 'merged'; closure?: Closure; flagged?: boolean };
}

export interface PlanOptions {
  seed: number;
  volume: number;
  days: number;
  mix?: Partial<Mix>;
  /** The lifecycle's reopen limit and repeat-caller threshold (core/config.ts defaults). */
  maxReopens?: number;
  repeatCallerThreshold?: number;
}

/** One independent stream per (seed, index, purpose), so adding a draw never shifts another call. */
export function streamFor(seed: number, index: number, salt: number): () => number {
  let h = 0x811c9dc5 ^ seed;
  for (const n of [index, salt]) {
    h = Math.imul(h ^ (n & 0xffff), 0x01000193);
    h = Math.imul(h ^ (n >>> 16), 0x01000193);
  }
  return mulberry32(h ^ (h >>> 13));
}

function pick<T>(rand: () => number, weighted: readonly (readonly [T, number, ...unknown[]])[]): T {
  const total = weighted.reduce((s, w) => s + w[1], 0);
  let r = rand() * total;
  for (const w of weighted) {
    r -= w[1];
    if (r < 0) return w[0];
  }
  return weighted.at(-1)![0];
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const SURNAMES = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗';

function redispatchTarget(topic: string, township: string): string {
  // A department's ticket bounced as a local matter goes to the township; a township's goes to
  // the department that assists on the topic in the catalogue.
  const localTopics: Record<string, string> = {
    'property-management': 'property-service',
    'illegal-construction': 'urban-management',
    neighbourhood: 'justice',
    'village-affairs': 'agriculture',
  };
  return localTopics[topic] ?? `${township}-office`;
}

let requestsByTopic: Map<string, string[]> | undefined;

/** A request of the independent evaluation set about `topic` (never fitted on: honest figures). */
function pickRequest(topic: string, rand: () => number): string {
  if (!requestsByTopic) {
    requestsByTopic = new Map();
    for (const e of evaluationRequests())
      requestsByTopic.set(e.topic, [...(requestsByTopic.get(e.topic) ?? []), e.text]);
  }
  const texts = requestsByTopic.get(topic) ?? [];
  return texts[Math.floor(rand() * texts.length)] ?? topic;
}

/** An operator's wrong pick: any other topic of the weighted list. */
function otherTopic(topic: string, rand: () => number): string {
  const others = TOPICS.filter((t) => t[0] !== topic);
  return pick(rand, others);
}

/**
 * The whole run's calls, sorted by time. `volume` is calls per day; the burst hour is on the
 * first day, and its extra calls are part of the day's volume.
 */
export function makePlan(options: PlanOptions): PlannedCall[] {
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const maxReopens = options.maxReopens ?? 2;
  const threshold = options.repeatCallerThreshold ?? 5;
  const { seed, days } = options;
  const hourly = HOURLY.map((w, h) => (h === BURST_HOUR ? w * mix.burstFactor : w));
  const slots: [number, number][] = [];
  for (let d = 0; d < days; d++)
    for (let h = 0; h < 24; h++) slots.push([d * 24 + h, d === 0 ? hourly[h]! : HOURLY[h]!]);

  const total = Math.max(1, Math.round(options.volume * days));
  const repeatCallers = Math.max(1, Math.floor(total / mix.repeatCallerPer));
  const repeatTotal = Math.min(repeatCallers * mix.repeatCalls, Math.floor(total / 4));
  const ordinary = total - repeatTotal;

  const calls: Omit<PlannedCall, 'index' | 'callId'>[] = [];
  const arrival = (rand: () => number) => {
    const slot = pick(rand, slots);
    return slot * HOUR + Math.floor(rand() * HOUR);
  };
  for (let i = 0; i < ordinary; i++) {
    const rand = streamFor(seed, i, 1);
    const atMs = arrival(rand);
    const burst = Math.floor(atMs / HOUR) === BURST_HOUR;
    const township = TOWNSHIPS[Math.floor(rand() * TOWNSHIPS.length)]!;
    const base = {
      atMs,
      burst,
      callerPhone: `+86139${String(10_000_000 + i).slice(-8)}`,
      callerName: `${SURNAMES[i % SURNAMES.length]}先生`,
      township,
      address: `${township}路${i + 1}号`,
      urgency: 'normal' as const,
      confidential: false,
      noCallback: false,
    };
    if (rand() < (burst ? mix.missedInBurst : mix.missed)) {
      calls.push({
        ...base,
        kind: 'missed',
        topic: '',
        category: '',
        content: '',
        expected: { status: 'none' },
      });
      continue;
    }
    if (!burst && rand() < mix.answered / (1 - mix.missed)) {
      calls.push({
        ...base,
        kind: 'answered',
        topic: CONSULTATION_TOPICS[Math.floor(rand() * CONSULTATION_TOPICS.length)]!,
        category: 'consultation',
        content: '咨询相关政策和办理流程',
        expected: { status: 'closed', closure: 'answered_on_the_spot' },
      });
      continue;
    }
    const manual = !burst && rand() < mix.manualDispatch;
    const [topic, , content] = (() => {
      // Only a township matter can lack a rule: it needs the township, which the caller left out.
      const table = manual
        ? TOPICS.filter((t) => LOCAL_TOPICS.includes(t[0]))
        : burst && rand() < 0.7
          ? STORM_TOPICS
          : TOPICS;
      const id = pick(rand, table);
      return table.find((t) => t[0] === id)!;
    })();
    const category = topic === 'neighbourhood' ? 'help' : pick(rand, CATEGORY_WEIGHTS);
    const urgent = burst || rand() < mix.urgent;
    const unit: UnitPlan = {
      signLate: rand() < mix.signLate,
      replyLate: rand() < mix.replyLate,
      centreHours: 1 + Math.floor(rand() * 6),
    };
    if (manual) unit.manualLead = `${township}-office`;
    const behaviour = rand();
    if (behaviour < mix.returned) unit.returnTo = redispatchTarget(topic, township);
    else if (behaviour < mix.returned + mix.extension)
      unit.extension = rand() < mix.extensionApproved ? 'approved' : 'refused';
    else if (behaviour < mix.returned + mix.extension + mix.unreasonable)
      unit.unreasonable = {
        category: UNREASONABLE[Math.floor(rand() * UNREASONABLE.length)]!,
        approved: rand() < mix.unreasonableApproved,
      };
    const noCallback = rand() < mix.noCallback;
    const confidential = category === 'report' || rand() < mix.confidential;
    let round = 0;
    // Busy only on a first callback: the lifecycle counts attempts over the ticket's whole life,
    // so a busy line on a callback after a reopen would end it as unreached (reported upstream).
    const answered = (resolved: boolean, satisfaction: '1' | '2' | '3'): SurveyRound => {
      const first = round++ === 0;
      const busy = rand() < mix.busyFirst;
      return {
        kind: 'answered',
        resolvedKey: resolved ? '1' : '2',
        satisfactionKey: satisfaction,
        busyFirst: busy && first,
      };
    };
    const caller = rand();
    let surveys: SurveyRound[];
    let closure: Closure;
    const m = mix;
    if (caller < m.unreachable) {
      surveys = [{ kind: 'unreachable' }];
      closure = 'unreached';
    } else if (caller < m.unreachable + m.reopenLimit) {
      surveys = Array.from({ length: maxReopens + 1 }, () => answered(false, '3'));
      closure = 'reopen_limit';
    } else if (caller < m.unreachable + m.reopenLimit + m.reopenOnce) {
      surveys = [answered(false, '3'), answered(true, rand() < 0.5 ? '1' : '2')];
      closure = 'callback_done';
    } else if (caller < m.unreachable + m.reopenLimit + m.reopenOnce + m.unsatisfiedResolved) {
      surveys = [answered(true, '3')];
      closure = 'callback_done';
    } else {
      const basic = rand() < m.basicallySatisfied / (1 - m.unreachable - m.reopenLimit);
      surveys = [answered(rand() < 0.95, basic ? '2' : '1')];
      closure = 'callback_done';
    }
    if (noCallback) {
      surveys = [];
      closure = 'no_callback';
    }
    if (unit.unreasonable?.approved) {
      surveys = [];
      closure = 'unreasonable';
    }
    // Drawn from a stream of their own: without them every other draw stays as it was.
    const choosing = streamFor(seed, i, 4);
    const topicless = !manual && choosing() < mix.suggest;
    const operatorTopic =
      !manual && !topicless && choosing() < mix.operatorError
        ? otherTopic(topic, choosing)
        : undefined;
    const said = topicless ? pickRequest(topic, choosing) : content;
    calls.push({
      ...base,
      kind: 'dispatched',
      topic,
      ...(topicless ? { topicless } : {}),
      ...(operatorTopic ? { operatorTopic } : {}),
      category,
      ...(manual ? { township: undefined } : {}),
      content: `${said}（${base.address}）`,
      urgency: urgent ? 'urgent' : 'normal',
      confidential,
      noCallback,
      unit,
      surveys,
      expected: { status: 'closed', closure },
    });
  }

  // 并单: some callers ring again an hour or more later about the same matter, while it is open.
  calls.sort((a, b) => a.atMs - b.atMs);
  const originals = calls.filter(
    (c) => c.kind === 'dispatched' && c.urgency === 'normal' && !c.unit?.unreasonable,
  );
  const duplicates = Math.round(ordinary * mix.duplicate);
  const duplicateCalls: Omit<PlannedCall, 'index' | 'callId'>[] = [];
  for (let k = 0; k < duplicates && originals.length > 0; k++) {
    const rand = streamFor(seed, k, 2);
    const original = originals[Math.floor(rand() * originals.length)]!;
    duplicateCalls.push({
      ...original,
      atMs: original.atMs + HOUR + Math.floor(rand() * 7 * HOUR),
      burst: false,
      kind: 'duplicate',
      // The operator files the second call on the open ticket's matter, with its topic.
      topicless: undefined,
      operatorTopic: undefined,
      content: `再次来电：${original.content}`,
      unit: undefined,
      surveys: undefined,
      expected: { status: 'merged' },
      duplicateOf: -1,
    });
    (duplicateCalls.at(-1) as { original?: object }).original = original;
  }
  // Repeat callers without substance, spread over the run at least an hour apart.
  const repeatCalls: Omit<PlannedCall, 'index' | 'callId'>[] = [];
  for (let r = 0; r < repeatCallers; r++) {
    const rand = streamFor(seed, r, 3);
    const span = Math.max(mix.repeatCalls * HOUR, days * DAY - 10 * HOUR);
    const gap = Math.floor(span / mix.repeatCalls);
    for (let n = 1; n <= Math.min(mix.repeatCalls, repeatTotal / repeatCallers); n++) {
      repeatCalls.push({
        atMs: 8 * HOUR + (n - 1) * gap + Math.floor(rand() * Math.min(gap - HOUR, HOUR)),
        burst: false,
        kind: 'no_substance',
        callerPhone: `+86137${String(10_000_000 + r).slice(-8)}`,
        callerName: '某来电人',
        topic: 'neighbourhood',
        category: 'consultation',
        township: 'chengguan',
        address: '城关街道',
        content: '来电闲聊，无具体诉求',
        urgency: 'normal',
        confidential: false,
        noCallback: true,
        repeatNumber: n,
        expected: { status: 'closed', closure: 'answered_on_the_spot', flagged: n >= threshold },
      });
    }
  }
  const all = [...calls, ...duplicateCalls, ...repeatCalls].sort(
    (a, b) => a.atMs - b.atMs || a.callerPhone.localeCompare(b.callerPhone),
  );
  const indexOf = new Map<object, number>();
  const planned = all.map((c, index) => {
    indexOf.set(c, index);
    return { ...c, index, callId: `sim-${seed}-${String(index).padStart(6, '0')}` } as PlannedCall;
  });
  for (const p of planned) {
    const original = (p as { original?: object }).original;
    if (original) {
      p.duplicateOf = indexOf.get(original)!;
      delete (p as { original?: object }).original;
    }
  }
  return planned;
}

/** Counts by what the plan says each call ends as, for the report and the CI check. */
export function expectedOutcomes(plan: readonly PlannedCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of plan) {
    const key = p.expected.status === 'closed' ? `closed:${p.expected.closure}` : p.expected.status;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

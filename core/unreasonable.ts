import * as z from 'zod';
import { ticketIdSchema } from './ticket-id.ts';

/**
 * 不合理不合规诉求: the categories a unit may apply under and the centre approves. The ids are
 * stored on tickets and published in the bulletin's JSON, so they never change; labels may.
 * The order is the order in which the bulletin lists cases and counts.
 */
export const UNREASONABLE_CATEGORIES = [
  {
    id: 'no_factual_basis',
    zh: '无事实依据',
    en: 'No factual basis',
    exampleZh: '称电热毯“不够热”是供电电压所致，经检测电压正常',
    exampleEn:
      'An electric blanket "not warm enough" blamed on the supply voltage, which was normal',
  },
  {
    id: 'superstition_or_public_order',
    zh: '封建迷信或违背公序良俗',
    en: 'Feudal superstition or against public order and good custom',
    exampleZh: '以“破坏风水”为由要求拆除公共供水点',
    exampleEn: 'Demanding removal of a public water point because it "spoils the feng shui"',
  },
  {
    id: 'petition_or_legal_proceedings',
    zh: '已通过信访或诉讼、仲裁、行政复议等途径处理',
    en: 'Already handled through petition, litigation, arbitration or administrative review',
    exampleZh: '已经信访三级终结的事项再次来电要求重新处理',
    exampleEn: 'Asking again about a matter concluded through the three-level petition procedure',
  },
  {
    id: 'contrary_to_law_or_policy',
    zh: '违反法律法规或政策规定',
    en: 'Contrary to law or policy',
    exampleZh: '要求将消防通道的防火门锁闭',
    exampleEn: 'Demanding that fire doors be locked shut',
  },
  {
    id: 'outside_remit',
    zh: '超出热线受理范围',
    en: "Outside the hotline's remit",
    exampleZh: '工资高于最低工资标准，要求政府责令公司给本人涨工资',
    exampleEn: 'Asking the government to make a company raise pay that is above the legal minimum',
  },
  {
    id: 'harassment_no_substance',
    zh: '恶意骚扰或无实质内容',
    en: 'Malicious harassment or no substantive content',
    exampleZh: '经提醒后仍每日来电与话务员闲聊',
    exampleEn: 'Calling daily only to chat with operators after warnings',
  },
  {
    id: 'repeat_after_conclusion',
    zh: '已办结事项重复诉求',
    en: 'Repeated claims after a concluded matter',
    exampleZh: '拆迁补偿已依法兑付完毕，再次要求二次补偿',
    exampleEn: 'A second demolition compensation claim after compensation was paid in full',
  },
  {
    id: 'other',
    zh: '其他不合理诉求',
    en: 'Other unreasonable requests',
    exampleZh: '要求政府承担私人停车场收费等市场经营行为的费用',
    exampleEn: 'Asking the government to pay for market matters such as private parking fees',
  },
] as const;

export type UnreasonableCategory = (typeof UNREASONABLE_CATEGORIES)[number]['id'];
export type UnreasonableCategoryInfo = (typeof UNREASONABLE_CATEGORIES)[number];

type IdsOf<T extends readonly { id: string }[]> = { -readonly [K in keyof T]: T[K]['id'] };

/** The ids in catalogue order, as a tuple so that zod and TypeScript see every literal. */
export const UNREASONABLE_CATEGORY_IDS = UNREASONABLE_CATEGORIES.map((c) => c.id) as IdsOf<
  typeof UNREASONABLE_CATEGORIES
>;

export const unreasonableCategorySchema = z.enum(UNREASONABLE_CATEGORY_IDS);

const byId = new Map<string, UnreasonableCategoryInfo>(
  UNREASONABLE_CATEGORIES.map((c) => [c.id, c]),
);

export function unreasonableCategory(id: UnreasonableCategory): UnreasonableCategoryInfo {
  // The schema keeps unknown ids out, so a miss here is a programming error, not bad input.
  const info = byId.get(id);
  if (!info) throw new TypeError(`unknown unreasonable-request category: ${id}`);
  return info;
}

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

/**
 * A ticket the centre has approved as unreasonable, as the review step records it for the
 * bulletin. Only publicSummary, finding, basis, reply, topic and district are ever published;
 * the caller's name, phone, address and call id ride along solely so that the privacy guard can
 * look for them in the published text.
 */
export const approvedUnreasonableCaseSchema = z.strictObject({
  ticketId: ticketIdSchema,
  category: unreasonableCategorySchema,
  /** Anonymised account written by the reviewer, e.g. "某市民来电反映…". */
  publicSummary: text(2000),
  /** The hotline's finding (热线认定). */
  finding: text(2000),
  /** The legal or policy basis cited (依据). */
  basis: text(2000),
  /** The empathetic reply given to the caller (答复). */
  reply: text(2000),
  approvedAt: z.iso.datetime({ offset: true }),
  /** Display label, e.g. "供电"; published. */
  topic: text(50).optional(),
  /** Display label at district level at most, e.g. "东昌府区"; published. */
  district: text(50).optional(),
  callerName: text(50).optional(),
  callerPhone: text(40).optional(),
  callerAddress: text(200).optional(),
  callId: text(128).optional(),
});
export type ApprovedUnreasonableCase = z.infer<typeof approvedUnreasonableCaseSchema>;

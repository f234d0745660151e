import { shanghaiDate } from '../calendar.ts';
import type { BulletinText, CategoryCount, Lang, LocalizedText } from './model.ts';

/**
 * The bulletin's fixed wording in Chinese and English, and the date formats it prints. Formatting
 * is done by hand rather than with Intl so that the published text does not depend on the ICU
 * data of whichever runtime renders it.
 */

export const DEFAULT_ISSUER: LocalizedText = {
  zh: '12345政务服务便民热线',
  en: '12345 Government Service Hotline',
};

const MONTHS_EN = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function parts(isoDate: string): [number, number, number] {
  const [y, m, d] = isoDate.slice(0, 10).split('-').map(Number);
  return [y ?? 0, m ?? 0, d ?? 0];
}

/** "2026-11-01" → "2026年11月1日" / "1 November 2026". */
export function formatDate(isoDate: string, lang: Lang): string {
  const [y, m, d] = parts(isoDate);
  return lang === 'zh' ? `${y}年${m}月${d}日` : `${d} ${MONTHS_EN[m - 1] ?? ''} ${y}`;
}

/**
 * The calendar day of an instant in China (UTC+8 all year, no daylight saving), which is the day
 * a reader there would say the bulletin came out.
 */
export function chinaDate(isoDateTime: string): string {
  return shanghaiDate(isoDateTime);
}

export function issueLabel(issueNumber: number): LocalizedText {
  return { zh: `第${issueNumber}期`, en: `Issue ${issueNumber}` };
}

export function periodText(periodStart: string, periodEnd: string, lang: Lang): string {
  if (lang === 'zh') {
    return periodStart === periodEnd
      ? formatDate(periodStart, 'zh')
      : `${formatDate(periodStart, 'zh')}至${formatDate(periodEnd, 'zh')}`;
  }
  return periodStart === periodEnd
    ? formatDate(periodStart, 'en')
    : `${formatDate(periodStart, 'en')} to ${formatDate(periodEnd, 'en')}`;
}

export function publishedLabel(publishedAt: string, lang: Lang): string {
  const day = formatDate(chinaDate(publishedAt), lang);
  return lang === 'zh' ? `发布日期：${day}` : `Published: ${day}`;
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export interface BulletinTextInput {
  issueNumber: number;
  periodStart: string;
  periodEnd: string;
  publishedAt?: string;
  issuer: LocalizedText;
  totalCases: number;
  categoryCounts: CategoryCount[];
}

export function bulletinText(input: BulletinTextInput, lang: Lang): BulletinText {
  return lang === 'zh' ? zhText(input) : enText(input);
}

function zhText(input: BulletinTextInput): BulletinText {
  const issue = issueLabel(input.issueNumber).zh;
  const title = `${input.issuer.zh}不合理诉求典型案例通报`;
  const period = periodText(input.periodStart, input.periodEnd, 'zh');
  const n = input.totalCases;
  const k = input.categoryCounts.length;
  const labels = input.categoryCounts.map((c) => c.label.zh).join('、');
  return {
    issueLabel: issue,
    title,
    fullTitle: `${title}（${issue}）`,
    periodLabel: `通报期间：${period}`,
    ...(input.publishedAt ? { publishedLabel: publishedLabel(input.publishedAt, 'zh') } : {}),
    summary: `本期通报不合理诉求典型案例${n}个，涉及${labels}${k}类情形。`,
    introduction: [
      `为引导社会公众依法、理性、合理使用12345政务服务便民热线，让有限的热线资源更多用于解决群众急难愁盼问题，减轻基层工作人员不必要的负担，依据《国务院办公厅关于进一步优化地方政务服务便民热线的指导意见》（国办发〔2020〕53号）等有关规定，现将${period}经热线审核认定的部分不合理诉求典型案例通报如下。`,
      `本期共通报典型案例${n}个，涉及${k}类情形。所有案例均已隐去来电人的姓名、联系方式、证件号码、车牌号码和详细住址等个人信息。`,
      '经审核认定为不合理诉求的工单，不再转派承办单位办理，不纳入对承办单位的考核。热线不会因此拒绝任何人的正常来电，来电人今后如有合理诉求，仍可随时拨打12345反映。',
    ],
    guidance: [
      '12345热线受理企业和群众的咨询、求助、投诉、举报和建议。请如实、具体地反映诉求，提供必要的线索，以便快速、准确地转办。',
      '遇有紧急情况，请直接拨打110、119、120、122等紧急服务电话，以免延误处置。',
      '已进入诉讼、仲裁、行政复议程序，或已通过信访途径依法终结的事项，请通过相应的法定途径解决。',
      '请依法依规表达诉求，对明显超出法律政策规定的要求，热线和承办单位将依法作出解释说明。',
      '请文明通话，尊重话务员和基层工作人员。恶意骚扰、反复无实质内容的来电会占用热线资源，影响其他群众正常求助。',
      '对办理结果有不同意见的，可以如实评价并说明理由，热线将依规核实处理。',
    ],
  };
}

function enText(input: BulletinTextInput): BulletinText {
  const issue = issueLabel(input.issueNumber).en;
  const title = `${input.issuer.en}: Bulletin of Unreasonable Requests`;
  const period = periodText(input.periodStart, input.periodEnd, 'en');
  const n = input.totalCases;
  const k = input.categoryCounts.length;
  const cases = `${n} ${plural(n, 'case', 'cases')}`;
  const categories = `${k} ${plural(k, 'category', 'categories')}`;
  const labels = input.categoryCounts.map((c) => c.label.en).join('; ');
  return {
    issueLabel: issue,
    title,
    fullTitle: `${title}, ${issue}`,
    periodLabel: `Period: ${period}`,
    ...(input.publishedAt ? { publishedLabel: publishedLabel(input.publishedAt, 'en') } : {}),
    summary: `This issue reports ${cases} of unreasonable requests in ${categories}: ${labels}.`,
    introduction: [
      `To guide the public towards lawful and reasonable use of the 12345 Government Service Hotline, so that its limited resources go to the urgent and pressing problems people face, and to ease unnecessary load on grassroots staff, the hotline publishes typical cases it reviewed and found unreasonable during the period ${period}, in line with the State Council General Office's guidance on further improving local government service hotlines (Guo Ban Fa [2020] No. 53).`,
      `This issue reports ${cases} in ${categories}. The caller's name, contact details, identity document, vehicle plate and precise address have been removed from every case.`,
      'Tickets found unreasonable on review are no longer passed on to handling units and do not count in their assessment. The hotline shuts no one out: anyone with a reasonable request can still call 12345 at any time.',
      'The case texts are published in Chinese as written by the hotline.',
    ],
    guidance: [
      'The 12345 hotline takes consultations, requests for help, complaints, reports and suggestions from residents and businesses. Please describe your request truthfully and specifically, with the details needed to pass it on quickly and to the right place.',
      'In an emergency call 110, 119, 120 or 122 directly so that help is not delayed.',
      'Matters in litigation, arbitration or administrative review, or concluded through the petition system, should be pursued through those legal channels.',
      'Please keep your requests within the law. Where a demand clearly goes beyond what law and policy allow, the hotline and the handling unit will explain why.',
      'Please be courteous to operators and grassroots staff. Harassing calls and repeated calls without substance take up lines that other people need.',
      'If you disagree with how your request was handled, say so and give your reasons when you are called back; the hotline will check and follow up.',
    ],
  };
}

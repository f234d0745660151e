import { closingDay } from './calendar.ts';
import type { Unit } from './catalogue.ts';
import { escapeHtml } from './html.ts';
import { CATEGORIES, type Ticket } from './ticket.ts';

/** Mails carry no caller identity: they travel through mailboxes the hotline does not control. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/**
 * A deadline as people in the hotline read it: Asia/Shanghai time, and a limit that ends at
 * midnight shown as 24:00 of its last day (2026-12-11 24:00), not as 00:00 of the next one.
 */
export function deadlineText(iso: string | undefined): string {
  if (!iso) return '—';
  const local = new Date(Date.parse(iso) + 8 * 3600_000);
  const atMidnight = local.getUTCHours() === 0 && local.getUTCMinutes() === 0;
  const shown = atMidnight ? new Date(local.getTime() - 1) : local;
  const day = shown.toISOString().slice(0, 10);
  return atMidnight ? `${day} 24:00` : `${day} ${local.toISOString().slice(11, 16)}`;
}

function page(lines: string[], link: string, linkLabel: string): RenderedMail['html'] {
  const body = lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n');
  return `<!doctype html><html lang="zh-CN"><body>${body}<p><a href="${escapeHtml(link)}">${escapeHtml(linkLabel)}</a></p></body></html>`;
}

export function dispatchMail(ticket: Ticket, unit: Unit, replyUrl: string): RenderedMail {
  const category = CATEGORIES[ticket.category];
  const urgent = ticket.urgency === 'urgent' ? '【紧急 Urgent】' : '';
  const lines = [
    `${unit.name}：`,
    `12345热线向贵单位派发工单 ${ticket.id}${urgent}，请及时签收办理，并于 ${deadlineText(ticket.deadlines.replyBy)} 前答复。`,
    `类别：${category.zh}　诉求内容：${ticket.content}`,
    `Ticket ${ticket.id} (${category.en}) has been dispatched to ${unit.nameEn}. Please reply by ${deadlineText(ticket.deadlines.replyBy)} (Beijing time).`,
    '请通过下方链接查看工单并答复（链接仅限本单位使用，请勿转发）。Open the link below to view and answer the ticket; do not forward it.',
  ];
  return {
    subject: `【12345派单】${ticket.id} ${urgent}请于期限内答复 / Ticket dispatched`,
    text: `${lines.join('\n\n')}\n\n${replyUrl}\n`,
    html: page(lines, replyUrl, '查看并答复 View and reply'),
  };
}

/** What a unit is told, by the history event that calls for a mail. */
const UNIT_NOTICES = {
  sign_reminded: {
    zh: '催签：工单签收时限将至，请及时签收。',
    en: 'Reminder: please sign for this ticket; the limit is near.',
  },
  sign_overdue: {
    zh: '督办：工单超过签收时限仍未签收。',
    en: 'Overdue: the ticket was not signed for in time.',
  },
  reminded: {
    zh: '催办：工单答复期限将至，请抓紧办理。',
    en: 'Reminder: the reply deadline for this ticket is near.',
  },
  overdue: {
    zh: '督办：工单已超过答复期限，请立即办理并说明原因。',
    en: 'Overdue: the reply deadline has passed. Please act now and explain the delay.',
  },
  marked_for_report: {
    zh: '通报：工单超期仍未办结，已列入通报。',
    en: 'Reported: the ticket is still open after the escalation period and has been marked for report.',
  },
  return_refused: {
    zh: '退单未获认可，工单退回贵单位继续办理。',
    en: 'The return was not accepted; the ticket is back with your unit.',
  },
  extension_approved: {
    zh: '延期申请已批准，请按新期限答复。',
    en: 'The extension was approved; please reply by the new deadline.',
  },
  extension_refused: {
    zh: '延期申请未获批准，请按原期限答复。',
    en: 'The extension was refused; the original deadline stands.',
  },
  unreasonable_refused: {
    zh: '不合理诉求申请未获认定，请继续办理，剩余时限已恢复。',
    en: 'The unreasonable-request application was refused; the remaining time is restored.',
  },
  reply_returned: {
    zh: '答复审核未通过，请重新办理。',
    en: 'The reply was sent back by the review; please handle the ticket again.',
  },
  reopened: {
    zh: '重办：来电人回访反映问题未解决且不满意，请重新办理。',
    en: 'Reopened: the caller says the problem is unresolved and is unsatisfied.',
  },
} as const;

export type UnitNotice = keyof typeof UNIT_NOTICES;

export function isUnitNotice(event: string): event is UnitNotice {
  return event in UNIT_NOTICES;
}

export function unitNoticeMail(
  ticket: Ticket,
  unit: Unit,
  event: UnitNotice,
  replyUrl: string,
): RenderedMail {
  const text = UNIT_NOTICES[event];
  const lines = [
    `${unit.name}：`,
    `${text.zh} 工单 ${ticket.id}，答复期限 ${deadlineText(ticket.deadlines.replyBy)}。`,
    `${text.en} Ticket ${ticket.id}, due ${deadlineText(ticket.deadlines.replyBy)} (Beijing time).`,
  ];
  return {
    subject: `【12345${text.zh.slice(0, 2)}】${ticket.id} / ${text.en.split(/[:;]/)[0]}`,
    text: `${lines.join('\n\n')}\n\n${replyUrl}\n`,
    html: page(lines, replyUrl, '查看并办理 View and act'),
  };
}

const CENTRE_TASKS: Record<string, { zh: string; en: string }> = {
  awaiting_dispatch: {
    zh: '待人工派单：派单目录无匹配规则。',
    en: 'Needs manual dispatch: no catalogue rule fits.',
  },
  return_review: { zh: '退单待审核。', en: 'A unit returned the ticket; please review.' },
  extension_review: { zh: '延期申请待审批。', en: 'An extension request awaits a decision.' },
  unreasonable_review: {
    zh: '不合理诉求申请待审核。',
    en: 'An unreasonable-request application awaits review.',
  },
  reply_review: { zh: '答复待审核。', en: 'A reply awaits review.' },
};

/** Tells the hotline centre that a ticket waits for its decision (no caller identity). */
export function centreTaskMail(ticket: Ticket, stage: string, ticketUrl: string): RenderedMail {
  const task = CENTRE_TASKS[stage] ?? { zh: '工单待处理。', en: 'A ticket awaits the centre.' };
  const due = ticket.deadlines.centreBy;
  const lines = [
    `热线中心：${task.zh} 工单 ${ticket.id}${due ? `，请于 ${deadlineText(due)} 前处理` : ''}。`,
    `Hotline centre: ${task.en} Ticket ${ticket.id}${due ? `, due ${deadlineText(due)} (Beijing time)` : ''}.`,
  ];
  const suggested = ticket.topicChoice?.suggestions ?? [];
  if (stage === 'awaiting_dispatch' && !ticket.topic && suggested.length > 0) {
    const list = suggested.map((s) => `${s.topic} ${Math.round(s.probability * 100)}%`).join(', ');
    lines.push(`智能派单建议主题（请确认）Suggested topics, to confirm: ${list}`);
  }
  return {
    subject: `【12345待办】${ticket.id} ${task.zh}`,
    text: `${lines.join('\n\n')}\n\n${ticketUrl}\n`,
    html: page(lines, ticketUrl, '查看工单 View the ticket'),
  };
}

const CENTRE_CHASES = {
  centre_reminded: {
    zh: '中心催办：本环节办理时限将到',
    en: 'Reminder: the centre’s time limit for this stage is near',
  },
  centre_overdue: {
    zh: '中心督办：本环节已超过办理时限',
    en: 'Overdue: the centre’s time limit for this stage has passed',
  },
} as const;
export type CentreChase = keyof typeof CENTRE_CHASES;

export function isCentreChase(event: string): event is CentreChase {
  return event in CENTRE_CHASES;
}

/**
 * The centre's reminder (or, at its limit, the supervisors' 督办 copy) for a ticket that waits
 * for the centre: the stage, the limit and the staff link, no caller identity.
 */
export function centreChaseMail(
  ticket: Ticket,
  stage: string,
  event: CentreChase,
  ticketUrl: string,
  to: 'centre' | 'supervisor',
): RenderedMail {
  const task = CENTRE_TASKS[stage] ?? { zh: '工单待处理。', en: 'A ticket awaits the centre.' };
  const text = CENTRE_CHASES[event];
  const due = deadlineText(ticket.deadlines.centreBy);
  const lines = [
    `${to === 'supervisor' ? '督办：热线中心' : '热线中心：'}${text.zh}。${task.zh} 工单 ${ticket.id}，时限 ${due}。`,
    `${to === 'supervisor' ? 'Supervision: ' : 'Hotline centre: '}${text.en}. ${task.en} Ticket ${ticket.id}, due ${due} (Beijing time).`,
  ];
  return {
    subject: `【12345${to === 'centre' && event === 'centre_reminded' ? '催办' : '督办'}】${ticket.id} ${task.zh}`,
    text: `${lines.join('\n\n')}\n\n${ticketUrl}\n`,
    html: page(lines, ticketUrl, '查看工单 View the ticket'),
  };
}

const SUPERVISED = ['sign_overdue', 'overdue', 'marked_for_report'] as const;
type SupervisedEvent = (typeof SUPERVISED)[number];

/** The chase events a supervisor (督办) must hear of, not only the unit. */
export function isSupervised(event: string): event is SupervisedEvent {
  return (SUPERVISED as readonly string[]).includes(event);
}

/**
 * The supervisor's copy of a chase: the staff link to the ticket, never the unit's own link (which
 * is the unit's credential).
 */
export function supervisorChaseMail(
  ticket: Ticket,
  unit: Unit,
  event: SupervisedEvent,
  ticketUrl: string,
): RenderedMail {
  const text = UNIT_NOTICES[event];
  const lines = [
    `督办：${unit.name}承办的工单 ${ticket.id}——${text.zh}`,
    `Supervision: ticket ${ticket.id} handled by ${unit.nameEn}. ${text.en}`,
    `答复期限 Reply due: ${deadlineText(ticket.deadlines.replyBy)}`,
  ];
  return {
    subject: `【12345督办】${ticket.id} ${unit.name}`,
    text: `${lines.join('\n\n')}\n\n${ticketUrl}\n`,
    html: page(lines, ticketUrl, '查看工单 View the ticket'),
  };
}

/** What the caller is told when the reply date moves: the ticket number and the date, nothing else. */
export function extensionNotice(ticket: Ticket): string {
  const day = closingDay(new Date(ticket.deadlines.replyBy!));
  return `【12345】您反映的工单${ticket.id}，承办单位经批准延期办理，预计于${day}前答复。感谢您的理解。`;
}

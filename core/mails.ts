import type { Unit } from './catalogue.ts';
import { CATEGORIES, type Ticket } from './ticket.ts';

/** Mails carry no caller identity: they travel through mailboxes the hotline does not control. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function shanghaiTime(iso: string | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
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
    `12345热线向贵单位派发工单 ${ticket.id}${urgent}，请及时签收办理，并于 ${shanghaiTime(ticket.deadlines.replyBy)} 前答复。`,
    `类别：${category.zh}　诉求内容：${ticket.content}`,
    `Ticket ${ticket.id} (${category.en}) has been dispatched to ${unit.nameEn}. Please reply by ${ticket.deadlines.replyBy ?? '—'}.`,
    '请通过下方链接查看工单并答复（链接仅限本单位使用，请勿转发）。Open the link below to view and answer the ticket; do not forward it.',
  ];
  return {
    subject: `【12345派单】${ticket.id} ${urgent}请于期限内答复 / Ticket dispatched`,
    text: `${lines.join('\n\n')}\n\n${replyUrl}\n`,
    html: page(lines, replyUrl, '查看并答复 View and reply'),
  };
}

const CHASE_TEXT = {
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
} as const;

export type ChaseEvent = keyof typeof CHASE_TEXT;

export function chaseMail(
  ticket: Ticket,
  unit: Unit,
  event: ChaseEvent,
  replyUrl: string,
): RenderedMail {
  const text = CHASE_TEXT[event];
  const lines = [
    `${unit.name}：`,
    `${text.zh} 工单 ${ticket.id}，答复期限 ${shanghaiTime(ticket.deadlines.replyBy)}。`,
    `${text.en} Ticket ${ticket.id}, due ${ticket.deadlines.replyBy ?? '—'}.`,
  ];
  return {
    subject: `【12345${text.zh.slice(0, 2)}】${ticket.id} / ${text.en.split(':')[0]}`,
    text: `${lines.join('\n\n')}\n\n${replyUrl}\n`,
    html: page(lines, replyUrl, '查看并答复 View and reply'),
  };
}

import { escapeHtml } from '#core/html';
import { deadlineText } from '#core/mails';
import { CATEGORIES, type Ticket } from '#core/ticket';
import { UNREASONABLE_CATEGORIES } from '#core/unreasonable';

const STYLE = `body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:42rem;margin:1rem auto;padding:0 1rem;line-height:1.6}
label{display:block;margin-top:.6rem;font-weight:600}textarea,input[type=text],select{width:100%;box-sizing:border-box;font:inherit}
button{margin-top:.8rem;font:inherit;padding:.4rem 1.2rem}dt{font-weight:600}.en{color:#555;font-size:.9em}
details{border:1px solid #ccc;border-radius:.4rem;padding:.4rem .8rem;margin:.6rem 0}summary{font-weight:600;cursor:pointer}`;

const STATUS_TEXT: Record<Ticket['status'], string> = {
  received: '已受理 Received',
  awaiting_dispatch: '待人工派单 Awaiting dispatch',
  dispatched: '待签收 Awaiting sign-for',
  handling: '办理中 Being handled',
  return_review: '退单审核中 Return under review',
  extension_review: '延期审批中 Extension under review',
  unreasonable_review: '不合理诉求审核中 Application under review',
  reply_review: '答复审核中 Reply under review',
  callback: '回访中 Callback',
  closed: '已办结 Closed',
  merged: '已并单 Merged',
};

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function form(
  replyId: string,
  action: string,
  title: string,
  fields: string,
  submit: string,
  open = false,
): string {
  return `<details${open ? ' open' : ''}><summary>${title}</summary><form method="post" action="/replies/${escapeHtml(replyId)}"><input type="hidden" name="action" value="${action}">${fields}<button type="submit">${submit}</button></form></details>`;
}

function forms(ticket: Ticket, replyId: string): string {
  if (ticket.status === 'dispatched') {
    return [
      form(
        replyId,
        'sign',
        '签收 <span class="en">Sign for</span>',
        '',
        '签收 <span class="en">Sign for it</span>',
        true,
      ),
      form(
        replyId,
        'return',
        '退单 <span class="en">Return (not our matter)</span>',
        '<label for="reason">退单理由 <span class="en">Reason</span></label><textarea id="reason" name="reason" rows="3" required maxlength="1000"></textarea>',
        '提交退单 <span class="en">Return</span>',
      ),
    ].join('');
  }
  const categories = UNREASONABLE_CATEGORIES.map(
    (c) => `<option value="${c.id}">${escapeHtml(c.zh)} ${escapeHtml(c.en)}</option>`,
  ).join('');
  return [
    form(
      replyId,
      'reply',
      '答复 <span class="en">Reply</span>',
      `<label for="content">办理情况 <span class="en">What was done</span></label><textarea id="content" name="content" rows="6" required maxlength="4000"></textarea>
<fieldset><legend>问题是否解决 <span class="en">Resolved?</span></legend>
<label><input type="radio" name="resolved" value="true" required> 已解决 <span class="en">Resolved</span></label>
<label><input type="radio" name="resolved" value="false"> 未解决 <span class="en">Not resolved</span></label></fieldset>
<label for="basis">政策法规依据 <span class="en">Policy or law relied on</span></label><input type="text" id="basis" name="basis" maxlength="1000">`,
      '提交答复 <span class="en">Submit reply</span>',
      true,
    ),
    form(
      replyId,
      'note',
      '办理进展 <span class="en">Progress note</span>',
      '<label for="note">进展 <span class="en">Note</span></label><textarea id="note" name="note" rows="3" required maxlength="2000"></textarea>',
      '记录 <span class="en">Add note</span>',
    ),
    form(
      replyId,
      'extend',
      '延期申请 <span class="en">Ask for more time</span>',
      '<label for="workingDays">延长工作日 <span class="en">Working days</span></label><input type="text" inputmode="numeric" id="workingDays" name="workingDays" required><label for="ext-reason">理由 <span class="en">Reason</span></label><textarea id="ext-reason" name="reason" rows="3" required maxlength="1000"></textarea>',
      '提交申请 <span class="en">Apply</span>',
    ),
    form(
      replyId,
      'return',
      '退单 <span class="en">Return (not our matter)</span>',
      '<label for="ret-reason">退单理由 <span class="en">Reason</span></label><textarea id="ret-reason" name="reason" rows="3" required maxlength="1000"></textarea>',
      '提交退单 <span class="en">Return</span>',
    ),
    form(
      replyId,
      'unreasonable',
      '不合理诉求申请 <span class="en">Apply: unreasonable request</span>',
      `<label for="category">类别 <span class="en">Category</span></label><select id="category" name="category" required>${categories}</select><label for="evidence">事实与证据 <span class="en">Facts and evidence</span></label><textarea id="evidence" name="evidence" rows="4" required maxlength="4000"></textarea>`,
      '提交申请 <span class="en">Apply</span>',
    ),
  ].join('');
}

/** The page behind a unit's link. Showing it changes nothing; only the forms' POSTs do. */
export function linkPage(ticket: Ticket, replyId: string, actionable: boolean): string {
  const category = CATEGORIES[ticket.category];
  const details = `<dl>
<dt>工单编号 <span class="en">Ticket</span></dt><dd>${escapeHtml(ticket.id)}</dd>
<dt>状态 <span class="en">Status</span></dt><dd>${STATUS_TEXT[ticket.status]}</dd>
<dt>类别 <span class="en">Category</span></dt><dd>${category.zh} <span class="en">${category.en}</span></dd>
<dt>诉求内容 <span class="en">Request</span></dt><dd>${escapeHtml(ticket.content)}</dd>
<dt>签收时限 <span class="en">Sign for by</span></dt><dd>${deadlineText(ticket.deadlines.signBy)}</dd>
<dt>答复期限 <span class="en">Reply due</span></dt><dd>${deadlineText(ticket.deadlines.replyBy)}</dd>
</dl>`;
  const body = actionable
    ? forms(ticket, replyId)
    : '<p>此链接当前无可办理事项（已使用、已更换或工单不在本单位）。<span class="en">Nothing to do through this link now: it was used or replaced, or the ticket is not with your unit.</span></p>';
  return layout(
    `工单 ${ticket.id}`,
    `<h1>12345 工单办理 <span class="en">Ticket</span></h1>${details}${body}`,
  );
}

export function actionAcceptedPage(ticket: Ticket, replyId: string): string {
  return layout(
    '已提交',
    `<h1>已提交 <span class="en">Done</span></h1><p>工单 ${escapeHtml(ticket.id)}：${STATUS_TEXT[ticket.status]}</p><p><a href="/replies/${escapeHtml(replyId)}">返回工单 <span class="en">Back to the ticket</span></a></p>`,
  );
}

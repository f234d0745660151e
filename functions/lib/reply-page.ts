import { escapeHtml } from '#core/mails';
import { CATEGORIES, type Ticket } from '#core/ticket';

const STYLE = `body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:42rem;margin:1rem auto;padding:0 1rem;line-height:1.6}
label{display:block;margin-top:1rem;font-weight:600}textarea,input[type=text]{width:100%;box-sizing:border-box;font:inherit}
button{margin-top:1rem;font:inherit;padding:.4rem 1.2rem}dt{font-weight:600}.en{color:#555;font-size:.9em}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

/** The page behind a unit's reply link. Showing it changes nothing; only the form's POST does. */
export function replyPage(ticket: Ticket, replyId: string, open: boolean): string {
  const category = CATEGORIES[ticket.category];
  const details = `<dl>
<dt>工单编号 <span class="en">Ticket</span></dt><dd>${escapeHtml(ticket.id)}</dd>
<dt>类别 <span class="en">Category</span></dt><dd>${category.zh} <span class="en">${category.en}</span></dd>
<dt>诉求内容 <span class="en">Request</span></dt><dd>${escapeHtml(ticket.content)}</dd>
<dt>答复期限 <span class="en">Reply due</span></dt><dd>${escapeHtml(ticket.deadlines.replyBy ?? '—')}</dd>
</dl>`;
  const form = open
    ? `<form method="post" action="/replies/${escapeHtml(replyId)}">
<label for="content">办理情况 <span class="en">What was done</span></label><textarea id="content" name="content" rows="6" required maxlength="4000"></textarea>
<fieldset><legend>问题是否解决 <span class="en">Resolved?</span></legend>
<label><input type="radio" name="resolved" value="true" required> 已解决 <span class="en">Resolved</span></label>
<label><input type="radio" name="resolved" value="false"> 未解决 <span class="en">Not resolved</span></label></fieldset>
<label for="basis">政策法规依据 <span class="en">Policy or law relied on</span></label><input type="text" id="basis" name="basis" maxlength="1000">
<button type="submit">提交答复 <span class="en">Submit reply</span></button></form>`
    : '<p>此链接已使用或已失效。<span class="en">This link has been used or replaced.</span></p>';
  return layout(
    `工单 ${ticket.id} 答复`,
    `<h1>12345 工单答复 <span class="en">Ticket reply</span></h1>${details}${form}`,
  );
}

export function replyAcceptedPage(ticket: Ticket): string {
  return layout(
    '答复已提交',
    `<h1>答复已提交 <span class="en">Reply received</span></h1><p>工单 ${escapeHtml(ticket.id)} 的答复已记录。<span class="en">The reply to ticket ${escapeHtml(ticket.id)} has been recorded.</span></p>`,
  );
}

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { escapeHtml } from '#core/html';
import { DEFAULT_HOST, endpointUrl, portInUseError } from './ports.ts';

const SERVICE = 'the local SES endpoint';
const SES_NAMESPACE = 'http://ses.amazonaws.com/doc/2010-12-01/';
/** SES refuses more recipients than this per message; so does the local one, to catch it early. */
const MAX_RECIPIENTS = 50;
/** SES v1 caps a raw message at 10 MB once base64-encoded; the form around it adds little. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

export interface StoredAttachment {
  filename: string;
  contentType: string;
  size: number;
}

export interface StoredMail {
  id: string;
  /** ISO 8601, from the `now` option (the stack's virtual clock when it passes one). */
  time: string;
  action: 'SendEmail' | 'SendRawEmail';
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  text?: string;
  html?: string;
  tags: { name: string; value: string }[];
  configurationSet?: string;
  attachments: StoredAttachment[];
  /** The message as sent, for SendRawEmail only. */
  raw?: string;
}

export interface LocalSesOptions {
  /** Omitted: a free port. */
  port?: number;
  host?: string;
  /** JSON-lines file the mails are appended to and reloaded from, so they survive a restart. */
  dataFile?: string;
  /** Time stamp for stored mails. */
  now?: () => Date;
  /** Names the port flag in the "port in use" message, e.g. `--ses-port`. */
  portFlag?: string;
}

export interface LocalSes {
  /** For `AWS_ENDPOINT_URL_SES` / the client's `endpoint`. */
  endpoint: string;
  /** The page showing every kept mail. */
  outboxUrl: string;
  port: number;
  /**
   * Every kept mail, oldest first, copied; from the `from`th on when given, so that a reader
   * following the outbox (the simulator, with a mail or more per ticket) copies only what is new.
   */
  messages(from?: number): StoredMail[];
  clear(): Promise<void>;
  close(): Promise<void>;
}

class SesError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

/**
 * A local stand-in for SES (API v1, AWS Query protocol) that keeps what is sent and shows it on
 * `/outbox`. Signatures are not checked: any dummy credentials work.
 */
export async function startLocalSes(options: LocalSesOptions = {}): Promise<LocalSes> {
  const host = options.host ?? DEFAULT_HOST;
  const now = options.now ?? (() => new Date());
  const dataFile = options.dataFile ? resolve(options.dataFile) : undefined;
  const mails: StoredMail[] = dataFile ? await loadMails(dataFile) : [];
  // Appends and truncations run one after another, so the file keeps the order of `mails`.
  let fileQueue: Promise<unknown> = Promise.resolve();
  const persist = (write: () => Promise<void>): Promise<void> => {
    const next = fileQueue.then(write);
    fileQueue = next.catch(() => undefined);
    return next;
  };

  const store = async (mail: StoredMail) => {
    if (dataFile) {
      // Acknowledge only what is on disk: a mail the caller believes sent must survive a restart.
      await persist(() => appendFile(dataFile, `${JSON.stringify(mail)}\n`, 'utf8'));
    }
    mails.push(mail);
  };

  const clear = async () => {
    mails.length = 0;
    if (dataFile) await persist(() => writeFile(dataFile, '', 'utf8'));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'POST' && path === '/') {
      await handleQuery(req, res, { store, mails, now });
    } else if (req.method === 'GET' && (path === '/outbox' || path === '/')) {
      send(res, 200, 'text/html; charset=utf-8', renderOutbox(mails), PAGE_HEADERS);
    } else if (req.method === 'GET' && path === '/outbox/messages.json') {
      const to = url.searchParams.get('to');
      const selected = to ? mails.filter((mail) => isAddressedTo(mail, to)) : mails;
      send(res, 200, 'application/json; charset=utf-8', JSON.stringify(selected));
    } else if (req.method === 'DELETE' && path === '/outbox/messages') {
      await clear();
      send(res, 204, 'text/plain; charset=utf-8', '');
    } else if (req.method === 'GET' && /^\/outbox\/messages\/[^/]+\/raw$/.test(path)) {
      const id = decodeURIComponent(path.split('/')[3] ?? '');
      const mail = mails.find((candidate) => candidate.id === id);
      if (mail?.raw === undefined) send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      else send(res, 200, 'message/rfc822', mail.raw, { 'content-disposition': 'inline' });
    } else {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const sesError =
        error instanceof SesError
          ? error
          : new SesError('InternalFailure', 'The local SES endpoint failed.', 500, 'Receiver');
      sendError(res, sesError);
    });
  });
  server.listen({ port: options.port ?? 0, host, exclusive: true });
  try {
    await once(server, 'listening');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw portInUseError(options.port ?? 0, SERVICE, options.portFlag);
    }
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const endpoint = endpointUrl(host, port);

  let closing: Promise<void> | undefined;
  return {
    endpoint,
    outboxUrl: `${endpoint}/outbox`,
    port,
    messages: (from = 0) => structuredClone(mails.slice(from)),
    clear,
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((done) => server.close(() => done()));
        await fileQueue;
      })();
      return closing;
    },
  };
}

async function loadMails(dataFile: string): Promise<StoredMail[]> {
  await mkdir(dirname(dataFile), { recursive: true });
  let text: string;
  try {
    text = await readFile(dataFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const mails: StoredMail[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      mails.push(JSON.parse(line) as StoredMail);
    } catch {
      // A line cut short by a crash mid-append; the mails before it are intact.
    }
  }
  return mails;
}

// --- AWS Query protocol ------------------------------------------------------------------------

interface QueryContext {
  store: (mail: StoredMail) => Promise<void>;
  mails: StoredMail[];
  now: () => Date;
}

async function handleQuery(req: IncomingMessage, res: ServerResponse, context: QueryContext) {
  const form = new URLSearchParams(await readBody(req));
  const action = form.get('Action') ?? '';
  switch (action) {
    case 'SendEmail': {
      const mail = parseSendEmail(form, context.now());
      await context.store(mail);
      sendResult(res, action, `<MessageId>${escapeXml(mail.id)}</MessageId>`);
      return;
    }
    case 'SendRawEmail': {
      const mail = parseSendRawEmail(form, context.now());
      await context.store(mail);
      sendResult(res, action, `<MessageId>${escapeXml(mail.id)}</MessageId>`);
      return;
    }
    case 'GetSendQuota': {
      const since = context.now().getTime() - 24 * 3600 * 1000;
      const sent = context.mails
        .filter((mail) => Date.parse(mail.time) >= since)
        .reduce((sum, mail) => sum + recipients(mail).length, 0);
      sendResult(
        res,
        action,
        `<Max24HourSend>50000.0</Max24HourSend><MaxSendRate>14.0</MaxSendRate><SentLast24Hours>${sent}.0</SentLast24Hours>`,
      );
      return;
    }
    default:
      throw new SesError(
        'InvalidAction',
        action
          ? `The action ${action} is not supported by the local SES endpoint.`
          : 'The request has no Action parameter.',
      );
  }
}

function parseSendEmail(form: URLSearchParams, time: Date): StoredMail {
  const from = required(form, 'Source');
  const to = members(form, 'Destination.ToAddresses');
  const cc = members(form, 'Destination.CcAddresses');
  const bcc = members(form, 'Destination.BccAddresses');
  checkRecipients([...to, ...cc, ...bcc]);
  const subject = required(form, 'Message.Subject.Data');
  const text = form.get('Message.Body.Text.Data') ?? undefined;
  const html = form.get('Message.Body.Html.Data') ?? undefined;
  if (text === undefined && html === undefined) {
    throw new SesError('InvalidParameterValue', 'Message.Body must contain Text or Html.');
  }
  const configurationSet = form.get('ConfigurationSetName') ?? undefined;
  return {
    id: messageId(time),
    time: time.toISOString(),
    action: 'SendEmail',
    from,
    to,
    cc,
    bcc,
    replyTo: members(form, 'ReplyToAddresses'),
    subject,
    ...(text === undefined ? {} : { text }),
    ...(html === undefined ? {} : { html }),
    tags: tags(form),
    ...(configurationSet === undefined ? {} : { configurationSet }),
    attachments: [],
  };
}

function parseSendRawEmail(form: URLSearchParams, time: Date): StoredMail {
  const data = required(form, 'RawMessage.Data');
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length === 0) throw new SesError('InvalidParameterValue', 'RawMessage.Data is empty.');
  const parsed = parseMime(bytes);
  const header = (name: string) => parsed.headers.get(name) ?? '';
  const from = form.get('Source') ?? header('from');
  if (!from) {
    throw new SesError('InvalidParameterValue', 'Neither Source nor a From header is given.');
  }
  const to = splitAddresses(header('to'));
  const cc = splitAddresses(header('cc'));
  // Without Destinations SES delivers to the To, Cc and Bcc headers; with them, to exactly those,
  // and any of them not named in To or Cc is a blind copy.
  const destinations = members(form, 'Destinations');
  const named = new Set([...to, ...cc].map(bareAddress));
  const bcc =
    destinations.length > 0
      ? destinations.filter((address) => !named.has(bareAddress(address)))
      : splitAddresses(header('bcc'));
  checkRecipients(destinations.length > 0 ? destinations : [...to, ...cc, ...bcc]);
  const configurationSet = form.get('ConfigurationSetName') ?? undefined;
  return {
    id: messageId(time),
    time: time.toISOString(),
    action: 'SendRawEmail',
    from,
    to,
    cc,
    bcc,
    replyTo: splitAddresses(header('reply-to')),
    subject: header('subject'),
    ...(parsed.text === undefined ? {} : { text: parsed.text }),
    ...(parsed.html === undefined ? {} : { html: parsed.html }),
    tags: tags(form),
    ...(configurationSet === undefined ? {} : { configurationSet }),
    attachments: parsed.attachments,
    raw: bytes.toString('utf8'),
  };
}

function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null || value === '') {
    throw new SesError('InvalidParameterValue', `Missing required parameter ${name}.`);
  }
  return value;
}

/** `Prefix.member.1`, `Prefix.member.2`, ... in index order. */
function members(form: URLSearchParams, prefix: string): string[] {
  const found: [number, string][] = [];
  const pattern = new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.member\\.(\\d+)$`);
  for (const [key, value] of form) {
    const match = pattern.exec(key);
    if (match) found.push([Number(match[1]), value]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
}

function tags(form: URLSearchParams): { name: string; value: string }[] {
  const result: { index: number; name: string; value: string }[] = [];
  for (const [key, name] of form) {
    const match = /^Tags\.member\.(\d+)\.Name$/.exec(key);
    if (!match) continue;
    result.push({
      index: Number(match[1]),
      name,
      value: form.get(`Tags.member.${match[1]}.Value`) ?? '',
    });
  }
  return result.sort((a, b) => a.index - b.index).map(({ name, value }) => ({ name, value }));
}

function checkRecipients(addresses: string[]): void {
  if (addresses.length === 0) {
    throw new SesError('InvalidParameterValue', 'The message has no recipients.');
  }
  if (addresses.length > MAX_RECIPIENTS) {
    throw new SesError('InvalidParameterValue', `Recipient count exceeds ${MAX_RECIPIENTS}.`);
  }
  for (const address of addresses) {
    if (!/^[^@\s]+@[^@\s]+$/.test(bareAddress(address))) {
      throw new SesError('InvalidParameterValue', `Missing final '@domain' in ${address}.`);
    }
  }
}

/** Shaped like SES ids (time-ordered hex, a UUID, a suffix) so log greps look familiar. */
function messageId(time: Date): string {
  return `${time.getTime().toString(16).padStart(16, '0')}-${randomUUID()}-000000`;
}

function sendResult(res: ServerResponse, action: string, resultXml: string): void {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${SES_NAMESPACE}">` +
    `<${action}Result>${resultXml}</${action}Result>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
    `</${action}Response>\n`;
  send(res, 200, 'text/xml; charset=utf-8', body);
}

function sendError(res: ServerResponse, error: SesError): void {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${SES_NAMESPACE}">` +
    `<Error><Type>${error.type}</Type><Code>${escapeXml(error.code)}</Code>` +
    `<Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>\n`;
  send(res, error.status, 'text/xml; charset=utf-8', body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) {
      throw new SesError('InvalidParameterValue', 'Message length exceeds the size limit.', 413);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

// --- Addresses ---------------------------------------------------------------------------------

function recipients(mail: StoredMail): string[] {
  return [...mail.to, ...mail.cc, ...mail.bcc];
}

/** `"张三" <a@b.cn>` → `a@b.cn`, lower-cased. */
function bareAddress(address: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(address);
  return (angle?.[1] ?? address).trim().toLowerCase();
}

function isAddressedTo(mail: StoredMail, address: string): boolean {
  const wanted = bareAddress(address);
  return recipients(mail).some((candidate) => bareAddress(candidate) === wanted);
}

/** Splits an address-list header on commas outside quotes, comments and angle brackets. */
function splitAddresses(value: string): string[] {
  const result: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '\\' && quoted) {
      current += ch + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '<' || ch === '(')) depth++;
    else if (!quoted && (ch === '>' || ch === ')')) depth = Math.max(0, depth - 1);
    if (ch === ',' && !quoted && depth === 0) {
      if (current.trim()) result.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim()) result.push(current.trim());
  return result;
}

// --- MIME --------------------------------------------------------------------------------------

interface ParsedMime {
  headers: Map<string, string>;
  text?: string;
  html?: string;
  attachments: StoredAttachment[];
}

/**
 * Just enough MIME (RFC 2045–2047) to show what a raw message says: header fields with encoded
 * words decoded, the first text/plain and text/html parts, and the names of attachments.
 */
function parseMime(bytes: Buffer): ParsedMime {
  const result: ParsedMime = { headers: new Map(), attachments: [] };
  const top = splitEntity(bytes);
  result.headers = top.headers;
  walkEntity(top, result, 0);
  return result;
}

interface Entity {
  headers: Map<string, string>;
  body: Buffer;
}

function splitEntity(bytes: Buffer): Entity {
  let headerEnd = bytes.indexOf('\r\n\r\n');
  let separator = 4;
  const lfOnly = bytes.indexOf('\n\n');
  if (headerEnd < 0 || (lfOnly >= 0 && lfOnly < headerEnd)) {
    headerEnd = lfOnly;
    separator = 2;
  }
  if (headerEnd < 0)
    return { headers: parseHeaders(bytes.toString('utf8')), body: Buffer.alloc(0) };
  return {
    headers: parseHeaders(bytes.subarray(0, headerEnd).toString('utf8')),
    body: bytes.subarray(headerEnd + separator),
  };
}

function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  const unfolded = text.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    // The first occurrence wins, as mail readers show it.
    if (!headers.has(name)) headers.set(name, decodeWords(line.slice(colon + 1).trim()));
  }
  return headers;
}

/** RFC 2047 encoded words; whitespace between two adjacent encoded words is dropped. */
function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?[^?]+\?[bBqQ]\?[^?]*\?=)/g, '$1')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (whole, charset: string, kind: string, data) => {
      const bytes =
        kind.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : decodeQuotedPrintable(Buffer.from(data.replaceAll('_', ' '), 'latin1'));
      return decodeCharset(bytes, charset.split('*')[0] ?? 'utf-8') ?? whole;
    });
}

function parameter(headerValue: string, name: string): string | undefined {
  const pattern = new RegExp(`;\\s*${name}\\*?=\\s*("((?:[^"\\\\]|\\\\.)*)"|[^;\\s]+)`, 'i');
  const match = pattern.exec(headerValue);
  if (!match) return undefined;
  const raw = match[2] ?? match[1] ?? '';
  // RFC 2231 `name*=utf-8''%E5%85%AC` (single-segment form only).
  const extended = /^([^']*)'[^']*'(.*)$/.exec(raw);
  if (extended && match[0].includes('*=')) {
    return decodeCharset(percentDecode(extended[2] ?? ''), extended[1] || 'utf-8') ?? raw;
  }
  return decodeWords(raw.replace(/\\(.)/g, '$1'));
}

/** `%E5%85` → bytes; the charset named beside it decides what they mean. */
function percentDecode(value: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value.slice(i + 1, i + 3);
    if (value[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      out.push(value.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(out);
}

function walkEntity(entity: Entity, result: ParsedMime, depth: number): void {
  const contentType = entity.headers.get('content-type') ?? 'text/plain; charset=us-ascii';
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const disposition = entity.headers.get('content-disposition') ?? '';
  const isAttachment = /^\s*attachment/i.test(disposition);

  if (mediaType.startsWith('multipart/') && depth < 10) {
    const boundary = parameter(contentType, 'boundary');
    if (!boundary) return;
    for (const part of splitMultipart(entity.body, boundary)) {
      walkEntity(splitEntity(part), result, depth + 1);
    }
    return;
  }

  const body = decodeTransfer(entity.body, entity.headers.get('content-transfer-encoding'));
  const filename = parameter(disposition, 'filename') ?? parameter(contentType, 'name');
  if (isAttachment || filename || (mediaType !== 'text/plain' && mediaType !== 'text/html')) {
    result.attachments.push({
      filename: filename ?? '(unnamed)',
      contentType: mediaType,
      size: body.length,
    });
    return;
  }
  const charset = parameter(contentType, 'charset') ?? 'utf-8';
  const text = decodeCharset(body, charset) ?? body.toString('utf8');
  if (mediaType === 'text/html') result.html ??= text;
  else result.text ??= text;
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = `--${boundary}`;
  const text = body.toString('latin1');
  const parts: Buffer[] = [];
  const lines = text.split(/(?<=\n)/);
  let current: string[] | undefined;
  for (const line of lines) {
    const trimmed = line.replace(/[ \t]*\r?\n$/, '');
    if (trimmed === `${delimiter}--`) break;
    if (trimmed === delimiter) {
      if (current) parts.push(endPart(current));
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (current) parts.push(endPart(current));
  return parts;
}

/** The line break before the next delimiter belongs to the delimiter, not to the part. */
function endPart(lines: string[]): Buffer {
  return Buffer.from(lines.join('').replace(/\r?\n$/, ''), 'latin1');
}

function decodeTransfer(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return body;
  }
}

function decodeQuotedPrintable(body: Buffer): Buffer {
  const text = body.toString('latin1').replace(/[ \t]*=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const hex = text.slice(i + 1, i + 3);
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      out.push(ch.charCodeAt(0) & 0xff);
    }
  }
  return Buffer.from(out);
}

function decodeCharset(bytes: Buffer, charset: string): string | undefined {
  try {
    // WHATWG labels cover what Chinese mail uses: gb2312 and gbk map to GBK, plus gb18030, big5.
    return new TextDecoder(charset.trim().toLowerCase()).decode(bytes);
  } catch {
    return undefined;
  }
}

// --- Outbox page -------------------------------------------------------------------------------

/**
 * The page runs no script. Mail HTML is shown in sandboxed srcdoc frames: no scripts, no forms,
 * an opaque origin, and this page's policy (no remote fetches except images). A `<base>` makes
 * every link open in a new tab, so links in mail stay usable for the person reading it.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: http: https:; " +
    "frame-src 'self'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

function escapeXml(value: string): string {
  return escapeHtml(value);
}

/** Escapes text and turns http(s) URLs in it into links that open in a new tab. */
function linkify(text: string): string {
  let html = '';
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]）。，；：！？]/g)) {
    html += escapeHtml(text.slice(last, match.index));
    const url = escapeHtml(match[0]);
    html += `<a href="${url}" target="_blank" rel="noopener noreferrer">${url}</a>`;
    last = match.index + match[0].length;
  }
  return html + escapeHtml(text.slice(last));
}

function addressLine(label: string, addresses: string[]): string {
  if (addresses.length === 0) return '';
  return `<div><span class="k">${label}</span> ${escapeHtml(addresses.join(', '))}</div>`;
}

function renderMail(mail: StoredMail): string {
  const subject = mail.subject || '(无主题 no subject)';
  const frame =
    mail.html === undefined
      ? ''
      : `<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title="${escapeHtml(subject)}" srcdoc="${escapeHtml(`<!doctype html><meta charset="utf-8"><base target="_blank">${mail.html}`)}"></iframe>`;
  const text =
    mail.text === undefined
      ? ''
      : mail.html === undefined
        ? `<pre>${linkify(mail.text)}</pre>`
        : `<details><summary>纯文本 Plain text</summary><pre>${linkify(mail.text)}</pre></details>`;
  const attachments =
    mail.attachments.length === 0
      ? ''
      : `<div><span class="k">附件 Attachments</span> ${mail.attachments
          .map((a) => `${escapeHtml(a.filename)} (${escapeHtml(a.contentType)}, ${a.size} B)`)
          .join('; ')}</div>`;
  const tags =
    mail.tags.length === 0
      ? ''
      : `<div><span class="k">标签 Tags</span> ${escapeHtml(
          mail.tags.map((tag) => `${tag.name}=${tag.value}`).join(', '),
        )}</div>`;
  const raw =
    mail.raw === undefined
      ? ''
      : `<div><a href="/outbox/messages/${encodeURIComponent(mail.id)}/raw" target="_blank" rel="noopener">原始邮件 Raw message</a></div>`;
  return `<article id="${escapeHtml(mail.id)}">
<h2>${escapeHtml(subject)}</h2>
<div class="meta">
<div><span class="k">时间 Time</span> <time datetime="${escapeHtml(mail.time)}">${escapeHtml(mail.time)}</time></div>
<div><span class="k">发件人 From</span> ${escapeHtml(mail.from)}</div>
${addressLine('收件人 To', mail.to)}${addressLine('抄送 Cc', mail.cc)}${addressLine('密送 Bcc', mail.bcc)}${addressLine('回复 Reply-To', mail.replyTo)}${tags}${attachments}
<div><span class="k">编号 ID</span> <code>${escapeHtml(mail.id)}</code> · ${escapeHtml(mail.action)}</div>
${raw}
</div>
${frame}${text}
</article>`;
}

function renderOutbox(mails: StoredMail[]): string {
  const newestFirst = [...mails].reverse();
  const body =
    newestFirst.length === 0
      ? '<p class="empty">发件箱为空。No mail has been sent yet.</p>'
      : newestFirst.map(renderMail).join('\n');
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>发件箱 Outbox (${mails.length})</title>
<style>
body { font-family: system-ui, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; color: #1b1b1b; }
header p { color: #555; }
article { border: 1px solid #ccc; border-radius: 6px; padding: 0.75rem 1rem; margin: 1rem 0; }
h2 { font-size: 1.15rem; margin: 0 0 0.5rem; overflow-wrap: anywhere; }
.meta { font-size: 0.9rem; line-height: 1.5; overflow-wrap: anywhere; }
.k { display: inline-block; min-width: 9rem; color: #555; }
iframe { width: 100%; height: 28rem; border: 1px solid #ddd; margin-top: 0.5rem; resize: vertical; background: #fff; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 0.5rem; }
.empty { color: #555; }
</style>
</head>
<body>
<header>
<h1>发件箱 Outbox</h1>
<p>本地 SES 收到的邮件，最新的在前；邮件并未真正发出。共 ${mails.length} 封。<br>
Mail received by the local SES endpoint, newest first; nothing was actually delivered. ${mails.length} in total.
JSON: <a href="/outbox/messages.json">/outbox/messages.json</a></p>
</header>
<main>
${body}
</main>
</body>
</html>
`;
}

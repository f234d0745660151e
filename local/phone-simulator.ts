import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signStandardWebhook, verifyStandardWebhook } from '#core/phone/standard-webhooks';
import { DEFAULT_HOST } from './ports.ts';

/** How the simulated phone system answers a survey request. */
export type SimulatedAnswer =
  | { kind: 'completed'; resolvedKey: string; satisfactionKey: string }
  | { kind: 'unreachable'; reason: 'busy' | 'no_answer' | 'failed' };

export interface PhoneSimulatorOptions {
  /** Secrets the hotline signs survey requests with (phone config `surveys.secrets`). */
  requestSecrets: readonly string[];
  /** Secret this phone signs its webhooks with (one of phone config `standard.secrets`). */
  answerSecret: string;
  /** The hotline's `POST /webhooks/phone/standard`; may be set after start (`answerTo`). */
  webhookUrl?: string;
  answer?: SimulatedAnswer;
  /** Answer the first N requests with 503, to exercise the sender's retries. */
  failFirst?: number;
  /** The clock signatures are checked and made with (the stack's virtual clock). */
  now?: () => Date;
  delayMs?: number;
}

export interface PhoneSimulator {
  url: string;
  /** Survey requests accepted (signature valid), by webhook id: ids only, never the callee. */
  requests: { webhookId: string; surveyId: string; ticketId: string }[];
  /** Every request that arrived, with the status it got. */
  deliveries: { webhookId: string | undefined; status: number }[];
  /** Answers sent back, with the hotline's HTTP status. */
  answers: { surveyId: string; type: string; status: number }[];
  /** Messages the hotline asked to pass on to callers (as SMS would). */
  notifications: { webhookId: string; ticketId: string; text: string }[];
  configure(options: { answer?: SimulatedAnswer; failFirst?: number; webhookUrl?: string }): void;
  close(): Promise<void>;
}

/**
 * A phone system on this machine (127.0.0.1): receives the hotline's signed survey requests,
 * checks their signature like any receiver would, and answers each survey once by posting a
 * signed `survey.completed` or `survey.unreachable` back to the hotline's webhook.
 */
export async function startPhoneSimulator(options: PhoneSimulatorOptions): Promise<PhoneSimulator> {
  const now = options.now ?? (() => new Date());
  let answer: SimulatedAnswer = options.answer ?? {
    kind: 'completed',
    resolvedKey: '1',
    satisfactionKey: '1',
  };
  let failLeft = options.failFirst ?? 0;
  let webhookUrl = options.webhookUrl;
  const requests: PhoneSimulator['requests'] = [];
  const deliveries: PhoneSimulator['deliveries'] = [];
  const answers: PhoneSimulator['answers'] = [];
  const notifications: PhoneSimulator['notifications'] = [];
  const pending = new Set<Promise<void>>();

  const sendAnswer = async (surveyId: string) => {
    if (!webhookUrl) return;
    const at = now();
    const body = JSON.stringify(
      answer.kind === 'completed'
        ? {
            type: 'survey.completed',
            timestamp: at.toISOString(),
            data: {
              surveyId,
              resolvedKey: answer.resolvedKey,
              satisfactionKey: answer.satisfactionKey,
            },
          }
        : {
            type: 'survey.unreachable',
            timestamp: at.toISOString(),
            data: { surveyId, reason: answer.reason },
          },
    );
    const headers = signStandardWebhook({
      id: `answer_${surveyId}`,
      timestamp: at,
      body,
      secret: options.answerSecret,
    });
    const type = answer.kind === 'completed' ? 'survey.completed' : 'survey.unreachable';
    try {
      const response = await fetch(webhookUrl, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
      await response.body?.cancel();
      answers.push({ surveyId, type, status: response.status });
    } catch {
      answers.push({ surveyId, type, status: 0 });
    }
  };

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    const webhookId = req.headers['webhook-id'] as string | undefined;
    const finish = (status: number) => {
      deliveries.push({ webhookId, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: status < 300 }));
    };
    const verified = verifyStandardWebhook({
      headers: req.headers,
      rawBody,
      secrets: options.requestSecrets,
      now: now(),
    });
    if (!verified.ok) return finish(verified.status);
    if (failLeft > 0) {
      failLeft--;
      return finish(503);
    }
    if (requests.some((r) => r.webhookId === verified.id)) return finish(200);
    let data: { surveyId?: unknown; ticketId?: unknown; text?: unknown } = {};
    let type: unknown;
    try {
      ({ type, data = {} } = JSON.parse(rawBody.toString('utf8')));
    } catch {
      return finish(400);
    }
    if (type === 'caller.notification') {
      if (typeof data.text !== 'string') return finish(400);
      notifications.push({
        webhookId: verified.id,
        ticketId: String(data.ticketId),
        text: data.text,
      });
      return finish(202);
    }
    if (typeof data.surveyId !== 'string') return finish(400);
    const surveyId = data.surveyId;
    requests.push({ webhookId: verified.id, surveyId, ticketId: String(data.ticketId) });
    finish(202);
    const sent = new Promise<void>((resolve) =>
      setTimeout(() => void sendAnswer(surveyId).finally(resolve), options.delayMs ?? 20),
    );
    pending.add(sent);
    void sent.finally(() => pending.delete(sent));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, DEFAULT_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${DEFAULT_HOST}:${port}/surveys`,
    requests,
    deliveries,
    answers,
    notifications,
    configure(next) {
      if (next.answer) answer = next.answer;
      if (next.failFirst !== undefined) failLeft = next.failFirst;
      if (next.webhookUrl) webhookUrl = next.webhookUrl;
    },
    async close() {
      await Promise.allSettled([...pending]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signStandardWebhook, verifyStandardWebhook } from '#core/phone/standard-webhooks';
import { newWebhookSecret } from '#local/phone';

export interface SurveyRequest {
  surveyId: string;
  ticketId: string;
}

/**
 * The callers' side of the callback survey (回访): a phone system that receives the hotline's
 * signed `survey.requested` and lets the simulation decide, per ticket, what each caller answers
 * and when. The stack's own simulated phone answers every survey alike, which a population of
 * callers does not.
 */
export interface SimulatedPbx {
  url: string;
  /** The secret the hotline signs survey requests with (phone config `surveys.secrets`). */
  requestSecret: string;
  requests: number;
  /** Signs and posts a survey answer to the hotline's standard webhook. */
  answer(
    webhookUrl: string,
    secret: string,
    at: Date,
    body:
      | { surveyId: string; resolvedKey: string; satisfactionKey: string }
      | { surveyId: string; reason: 'busy' | 'no_answer' | 'failed' },
  ): Promise<number>;
  close(): Promise<void>;
}

export async function startSimulatedPbx(
  now: () => Date,
  onRequest: (request: SurveyRequest) => void,
): Promise<SimulatedPbx> {
  const requestSecret = newWebhookSecret();
  const seen = new Set<string>();
  let requests = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    const reply = (status: number) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: status < 300 }));
    };
    const verified = verifyStandardWebhook({
      headers: req.headers,
      rawBody,
      secrets: [requestSecret],
      now: now(),
    });
    if (!verified.ok) return reply(verified.status);
    // The requester retries with the same webhook-id: a retry is acknowledged, not re-dialled.
    if (seen.has(verified.id)) return reply(200);
    let data: { surveyId?: unknown; ticketId?: unknown };
    try {
      data = JSON.parse(rawBody.toString('utf8')).data ?? {};
    } catch {
      return reply(400);
    }
    if (typeof data.surveyId !== 'string' || typeof data.ticketId !== 'string') return reply(400);
    seen.add(verified.id);
    requests++;
    reply(202);
    onRequest({ surveyId: data.surveyId, ticketId: data.ticketId });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/surveys`,
    requestSecret,
    get requests() {
      return requests;
    },
    async answer(webhookUrl, secret, at, data) {
      const completed = 'resolvedKey' in data;
      const body = JSON.stringify({
        type: completed ? 'survey.completed' : 'survey.unreachable',
        timestamp: at.toISOString(),
        data,
      });
      const headers = signStandardWebhook({
        id: `answer_${data.surveyId}`,
        timestamp: at,
        body,
        secret,
      });
      const response = await fetch(webhookUrl, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      return response.status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

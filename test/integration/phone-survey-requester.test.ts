import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectClient } from '@aws-sdk/client-connect';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectSurveyRequester } from '#adapters/phone/connect-survey-requester';
import { StandardSurveyRequester } from '#adapters/phone/standard-survey-requester';
import { newWebhookSecret } from '#local/phone';
import { type PhoneSimulator, startPhoneSimulator } from '#local/phone-simulator';

const requestSecret = newWebhookSecret();
const answerSecret = newWebhookSecret();
let simulator: PhoneSimulator;
let hotline: Server;
/** What the "hotline" received back, verified with the standardwebhooks reference library. */
const answers: { type: string; data: Record<string, unknown> }[] = [];

beforeAll(async () => {
  hotline = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      answers.push(
        new Webhook(answerSecret).verify(body, req.headers as Record<string, string>) as never,
      );
      res.writeHead(200).end('{}');
    } catch {
      res.writeHead(401).end('{}');
    }
  });
  await new Promise<void>((resolve) => hotline.listen(0, '127.0.0.1', resolve));
  const { port } = hotline.address() as AddressInfo;
  simulator = await startPhoneSimulator({
    requestSecrets: [requestSecret],
    answerSecret,
    webhookUrl: `http://127.0.0.1:${port}/webhooks/phone/standard`,
    delayMs: 1,
  });
});
afterAll(async () => {
  await simulator?.close();
  await new Promise((resolve) => hotline?.close(resolve));
});

const noWait = async () => undefined;
const answerFor = async (surveyId: string) => {
  for (let i = 0; i < 200; i++) {
    const found = answers.find((a) => a.data.surveyId === surveyId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no answer for ${surveyId}`);
};

describe('StandardSurveyRequester against the simulated phone', () => {
  it('posts a signed request that the phone answers with a signed survey.completed', async () => {
    simulator.configure({ answer: { kind: 'completed', resolvedKey: '1', satisfactionKey: '2' } });
    const requester = new StandardSurveyRequester({ url: simulator.url, secrets: [requestSecret] });
    const result = await requester.requestSurvey({
      surveyId: '20260302-000001.1',
      ticketId: '20260302-000001',
      callee: '+8613800000000',
    });
    expect(result).toEqual({ accepted: true, via: 'standard-webhook', attempts: 1 });
    expect(JSON.stringify(result)).not.toContain('13800000000');
    const answer = await answerFor('20260302-000001.1');
    expect(answer).toMatchObject({
      type: 'survey.completed',
      data: { resolvedKey: '1', satisfactionKey: '2' },
    });
  });

  it('retries with back-off under the same webhook id until the phone takes it', async () => {
    simulator.configure({ failFirst: 2, answer: { kind: 'unreachable', reason: 'busy' } });
    const delays: number[] = [];
    const requester = new StandardSurveyRequester({
      url: simulator.url,
      secrets: [requestSecret],
      backoffMs: 100,
      sleep: async (ms) => void delays.push(ms),
    });
    const result = await requester.requestSurvey({
      surveyId: '20260302-000002.1',
      ticketId: '20260302-000002',
      callee: '+8613800000001',
    });
    expect(result).toEqual({ accepted: true, via: 'standard-webhook', attempts: 3 });
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(200);
    const ids = simulator.deliveries.slice(-3).map((d) => d.webhookId);
    expect(new Set(ids)).toEqual(new Set(['survey_20260302-000002.1']));
    expect((await answerFor('20260302-000002.1')).type).toBe('survey.unreachable');
  });

  it('gives up at once when the phone refuses the signature, and after the attempts on 5xx', async () => {
    const wrong = new StandardSurveyRequester({
      url: simulator.url,
      secrets: [newWebhookSecret()],
      sleep: noWait,
    });
    const refused = await wrong.requestSurvey({ surveyId: 's.1', ticketId: 't', callee: '+861' });
    expect(refused).toEqual({
      accepted: false,
      via: 'standard-webhook',
      attempts: 1,
      reason: 'HTTP 401',
    });

    simulator.configure({ failFirst: 10 });
    const down = new StandardSurveyRequester({
      url: simulator.url,
      secrets: [requestSecret],
      attempts: 3,
      sleep: noWait,
    });
    const failed = await down.requestSurvey({ surveyId: 's.2', ticketId: 't', callee: '+861' });
    expect(failed).toEqual({
      accepted: false,
      via: 'standard-webhook',
      attempts: 3,
      reason: 'HTTP 503',
    });
    simulator.configure({ failFirst: 0 });

    const nobody = new StandardSurveyRequester({
      url: 'http://127.0.0.1:9/closed',
      secrets: [requestSecret],
      attempts: 2,
      sleep: noWait,
    });
    const unreachable = await nobody.requestSurvey({
      surveyId: 's.3',
      ticketId: 't',
      callee: '+861',
    });
    expect(unreachable).toMatchObject({ accepted: false, attempts: 2, reason: 'network error' });
  });
});

describe('ConnectSurveyRequester', () => {
  it('places the call with the survey id as client token and attribute, and remembers the contact', async () => {
    const sent: unknown[] = [];
    const remembered: [string, string][] = [];
    const client = {
      send: async (command: { input: unknown }) => {
        sent.push(command.input);
        return { ContactId: 'contact-1' };
      },
    } as unknown as ConnectClient;
    const requester = new ConnectSurveyRequester(client, {
      instanceId: 'inst',
      contactFlowId: 'flow',
      rememberCall: async (callId, surveyId) => void remembered.push([callId, surveyId]),
    });
    const result = await requester.requestSurvey({
      surveyId: 'T.1',
      ticketId: 'T',
      callee: '+8613800000000',
    });
    expect(result).toEqual({
      accepted: true,
      via: 'amazon-connect',
      attempts: 1,
      callId: 'contact-1',
    });
    expect(sent[0]).toMatchObject({
      InstanceId: 'inst',
      ContactFlowId: 'flow',
      DestinationPhoneNumber: '+8613800000000',
      ClientToken: 'T.1',
      Attributes: { surveyId: 'T.1', ticketId: 'T' },
    });
    expect(remembered).toEqual([['contact-1', 'T.1']]);
  });

  it('reports a refused call by error name only', async () => {
    const client = {
      send: async () => {
        throw Object.assign(new Error('number +8613800000000 bad'), {
          name: 'InvalidParameterException',
        });
      },
    } as unknown as ConnectClient;
    const requester = new ConnectSurveyRequester(client, { instanceId: 'i', contactFlowId: 'f' });
    const result = await requester.requestSurvey({
      surveyId: 'T.2',
      ticketId: 'T',
      callee: '+8613800000000',
    });
    expect(result).toEqual({
      accepted: false,
      via: 'amazon-connect',
      attempts: 1,
      reason: 'InvalidParameterException',
    });
  });
});

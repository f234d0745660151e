import { recordSurveyAnswer, recordSurveyUnreachable } from '#core/tickets';
import { ticketDeps } from '#functions/lib/deps';
import { ROUTES } from '#functions/registry';
import { asFunction, invocationCounts } from '#local/functions';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '#local/stack';
import { type Api, apiClient, assertLoopback, expectStatus, replyIdFrom } from './common.ts';

const API_FUNCTIONS = new Set<string>(ROUTES.map((r) => r.function));

/** Monday 16 November 2026, 10:00 in Qingshan: a plain working week ahead. */
export const MONDAY = new Date('2026-11-16T02:00:00Z');

/**
 * The whole local stack driven as the lifecycle tests drive it: the API over HTTP (127.0.0.1),
 * the survey answered in-process with recordSurveyAnswer, the clock moved by hand.
 */
export class Driver {
  readonly api: Api;
  /** Requests the benchmark sent through the gateway: one API Gateway request and one Lambda each. */
  apiRequests = 0;
  /** The bench's own looks at a ticket (GET /tickets/{id}): not part of any ticket's cost. */
  views = 0;
  /** Survey outcomes recorded in-process: the phone webhook's request and Lambda in AWS. */
  webhookCalls = 0;
  readonly surveys: string[] = [];
  private callers = 0;

  private constructor(readonly stack: LocalStack) {
    for (const url of Object.values(stack.urls)) assertLoopback(url);
    this.api = apiClient(stack.urls.api, () => this.apiRequests++);
    // The phone system is a port: here it notes the request, and the bench answers for the caller.
    // Each function has its own container, so the port is replaced in survey-caller's.
    asFunction('survey-caller', () => {
      ticketDeps().surveys = {
        requestSurvey: async ({ surveyId }) => void this.surveys.push(surveyId),
      };
    });
  }

  static async start(options: LocalStackOptions = {}): Promise<Driver> {
    const stack = await startLocalStack({ start: MONDAY, tokenUnits: [], ...options });
    return new Driver(stack);
  }

  close(): Promise<void> {
    return this.stack.close();
  }

  settle(): Promise<void> {
    return this.stack.sfn.waitForIdle(60_000);
  }

  executionArn(id: string): string {
    return `${this.stack.lifecycleArn.replace(':stateMachine:', ':execution:')}:${id}`;
  }

  stats(id: string) {
    return this.stack.sfn.stats(this.executionArn(id));
  }

  /** Lambda invocations of the API's functions so far (the workflow's are in `stats`). */
  apiLambdaInvocations(): number {
    let total = 0;
    for (const [key, n] of invocationCounts()) if (API_FUNCTIONS.has(key)) total += n;
    return total;
  }

  async file(body: Record<string, unknown> = {}): Promise<{ id: string; status: string }> {
    this.callers++;
    const created = await this.api('POST', '/tickets', {
      token: this.stack.tokens.operator,
      body: {
        caller: { name: '王五', phone: `138${String(30_000_000 + this.callers).slice(-8)}` },
        content: '小区供暖温度不达标，室温不足16度。',
        category: '投诉',
        topic: 'heating',
        place: {
          district: 'qingshan',
          township: 'beiyuan',
          address: `北苑小区${this.callers}号楼`,
        },
        ...body,
      },
    });
    expectStatus(created, 201, 'file a ticket');
    await this.settle();
    return created.body;
  }

  /** GET /tickets/{id} as a supervisor: the bench's own look, left out of the figures by callers. */
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads whatever JSON the API answered
  async view(id: string): Promise<{ ticket: any; history: { event: string }[] }> {
    const response = await this.api('GET', `/tickets/${id}`, {
      token: this.stack.tokens.supervisor,
    });
    this.apiRequests--;
    this.views++;
    expectStatus(response, 200, 'view a ticket');
    return response.body;
  }

  mailsFor(id: string) {
    return this.stack.ses.messages().filter((m) => m.subject.includes(id));
  }

  /** The unit's link from the latest dispatch mail to the ticket's lead unit. */
  linkOf(id: string, unitMail?: string): string {
    const mails = this.mailsFor(id);
    const mail = unitMail ? mails.findLast((m) => m.to.includes(unitMail)) : mails[0];
    return replyIdFrom(mail?.text);
  }

  async act(id: string, body: Record<string, unknown>, unitMail?: string): Promise<void> {
    const response = await this.api('POST', `/replies/${this.linkOf(id, unitMail)}`, { body });
    expectStatus(response, 200, `unit action ${String(body.action)}`);
    await this.settle();
  }

  async decide(
    id: string,
    body: Record<string, unknown>,
    role: 'dispatcher' | 'reviewer' = 'dispatcher',
  ) {
    const response = await this.api('POST', `/tickets/${id}/decisions`, {
      token: this.stack.tokens[role],
      body,
    });
    expectStatus(response, 200, `decision ${String(body.decision)}`);
    await this.settle();
  }

  /** The caller's answer, as the phone system's webhook would record it (one request, one Lambda). */
  async answerSurvey(
    id: string,
    answer: {
      resolved: boolean;
      satisfaction: 'satisfied' | 'basically_satisfied' | 'unsatisfied';
    },
    surveyId?: string,
  ): Promise<void> {
    const sid = surveyId ?? this.surveys.at(-1);
    if (!sid) throw new Error(`no survey was requested for ${id}`);
    this.webhookCalls++;
    const outcome = await recordSurveyAnswer(ticketDeps(), sid, answer);
    if (outcome !== 'recorded') throw new Error(`survey answer for ${id}: ${outcome}`);
    await this.settle();
  }

  async surveyUnreachable(surveyId: string): Promise<void> {
    this.webhookCalls++;
    await recordSurveyUnreachable(ticketDeps(), surveyId, 'no_answer');
    await this.settle();
  }

  async advanceTo(iso: string | undefined): Promise<void> {
    if (!iso) return;
    const ms = Date.parse(iso) - this.stack.clock.nowMs();
    if (ms > 0) this.stack.clock.advance(ms + 1000);
    await this.settle();
  }
}

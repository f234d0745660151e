import { signStandardWebhook } from '#core/phone/standard-webhooks';
import type {
  CallerNotification,
  CallerNotifier,
  SurveyRequest,
  SurveyRequester,
  SurveyRequestResult,
} from '#core/ports';

export interface StandardSurveyRequesterOptions {
  /** The phone system's endpoint for survey requests. */
  url: string;
  /** Signing secrets (whsec_…); several during a rotation, one signature each. */
  secrets: readonly string[];
  /** Tries in all, the first included (default 4). */
  attempts?: number;
  /** First back-off; doubled each retry, with jitter (default 500 ms). */
  backoffMs?: number;
  /** Per attempt (default 5 s). */
  timeoutMs?: number;
  now?: () => Date;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** 408, 425, 429 and 5xx are worth another try; any other refusal will not change. */
const RETRYABLE = (status: number) =>
  status === 408 || status === 425 || status === 429 || status >= 500;

/**
 * The phone system reached by signed Standard Webhooks POSTs: it is asked for callback surveys
 * (`survey.requested`) and to tell callers things (`caller.notification`, e.g. by SMS). Every
 * attempt carries the same webhook-id (`survey_<surveyId>`), so a phone system that got an attempt
 * whose answer was lost sees the retry as a duplicate. The answer comes back later as a
 * `survey.completed` or `survey.unreachable` webhook.
 */
export class StandardSurveyRequester implements SurveyRequester, CallerNotifier {
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => Date;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: StandardSurveyRequesterOptions) {
    this.attempts = options.attempts ?? 4;
    this.backoffMs = options.backoffMs ?? 500;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.now = options.now ?? (() => new Date());
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    if (!Number.isSafeInteger(this.attempts) || this.attempts < 1) {
      throw new TypeError('attempts must be a positive integer');
    }
  }

  requestSurvey(request: SurveyRequest): Promise<SurveyRequestResult> {
    return this.post(`survey_${request.surveyId}`, 'survey.requested', {
      surveyId: request.surveyId,
      ticketId: request.ticketId,
      callee: request.callee,
    });
  }

  notifyCaller(notification: CallerNotification): Promise<SurveyRequestResult> {
    return this.post(`notice_${notification.notificationId}`, 'caller.notification', {
      ticketId: notification.ticketId,
      callee: notification.callee,
      text: notification.text,
    });
  }

  private async post(
    id: string,
    type: string,
    data: Record<string, unknown>,
  ): Promise<SurveyRequestResult> {
    const timestamp = this.now();
    const body = JSON.stringify({ type, timestamp: timestamp.toISOString(), data });
    let reason = 'not attempted';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) {
        const base = this.backoffMs * 2 ** (attempt - 2);
        await this.sleep(base + Math.floor(Math.random() * base * 0.2));
      }
      // Re-signed per attempt: the receiver's 5-minute window counts from the signature.
      const headers = signStandardWebhook({
        id,
        timestamp: attempt === 1 ? timestamp : this.now(),
        body,
        secret: this.options.secrets,
      });
      try {
        const response = await this.fetch(this.options.url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        await response.body?.cancel();
        if (response.ok) return { accepted: true, via: 'standard-webhook', attempts: attempt };
        reason = `HTTP ${response.status}`;
        if (!RETRYABLE(response.status)) {
          return { accepted: false, via: 'standard-webhook', attempts: attempt, reason };
        }
      } catch (error) {
        reason = (error as Error)?.name === 'TimeoutError' ? 'timeout' : 'network error';
      }
    }
    return { accepted: false, via: 'standard-webhook', attempts: this.attempts, reason };
  }
}

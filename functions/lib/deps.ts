import { randomBytes } from 'node:crypto';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoCatalogueStore } from '#adapters/dynamodb/catalogue-store';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { DynamoStallStore } from '#adapters/dynamodb/stall-store';
import { DynamoTicketStore } from '#adapters/dynamodb/ticket-store';
import { env, perContainer, requiredEnv } from '#adapters/function-env';
import { SesMailer } from '#adapters/ses-mailer';
import { StepFunctionsWorkflow } from '#adapters/sfn-workflow';
import { WorkingCalendar } from '#core/calendar';
import { now } from '#core/clock';
import { parseLifecycleConfig } from '#core/config';
import type { CallerNotifier, SurveyRequester, TopicClassifier } from '#core/ports';
import type { StallDeps } from '#core/stalls';
import type { TicketDeps } from '#core/tickets';
import calendarData from '#data/calendar/cn-holidays.json' with { type: 'json' };
import { logger } from './logger.ts';
import { countTransition } from './metrics.ts';

/** The ticket store that also counts the business events (metrics.ts) it stores. */
class CountingTicketStore extends DynamoTicketStore {
  override async save(...args: Parameters<DynamoTicketStore['save']>): Promise<void> {
    await super.save(...args);
    countTransition(args[0]);
  }
}

/** Reply links must be unguessable: 192 random bits, URL-safe. */
export function newReplyId(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * What only some functions carry: the phone system (the Connect client, 200 KiB) and the dispatch
 * model (its 1.2 MB seed). A function that calls one imports `./phone-system.ts` or
 * `./dispatch-model.ts`, which provide it here; the others neither load nor bundle it, and their
 * phone requests are refused as if none were configured (test/infra/bundles.test.ts checks that
 * each function bundles what its registry entry declares).
 */
const optional: {
  phone?: () => Promise<SurveyRequester | undefined>;
  classifier?: () => TopicClassifier;
} = {};

export function provide(part: typeof optional): void {
  Object.assign(optional, part);
}

function addresses(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

/**
 * The phone system as the domain sees it, over the requester `configured` resolves to (read on
 * first use). Without one, a request is refused and the refusal recorded in the ticket's history:
 * an unsurveyed caller ends as unreached, never as satisfied; an uninformed caller is recorded as
 * not informed.
 */
function phoneSystemOf(
  configured: () => Promise<SurveyRequester | undefined>,
): SurveyRequester & CallerNotifier {
  let requester: Promise<SurveyRequester | undefined> | undefined;
  const get = () => {
    requester ??= configured();
    return requester;
  };
  return {
    requestSurvey: async (request) => {
      const phone = await get();
      if (!phone) {
        return {
          accepted: false,
          via: 'none',
          attempts: 0,
          reason: 'no phone system is configured for callback surveys',
        };
      }
      return phone.requestSurvey(request);
    },
    notifyCaller: async (notification) => {
      const phone = await get();
      if (!phone || !('notifyCaller' in phone)) {
        return {
          accepted: false,
          via: phone ? 'connect' : 'none',
          attempts: 0,
          reason: 'the phone system configured cannot send messages to callers',
        };
      }
      return (phone as CallerNotifier).notifyCaller(notification);
    },
  };
}

/**
 * The domain's collaborators, built once per container from the environment. The same code runs
 * in AWS and locally: only the AWS_ENDPOINT_URL_* variables differ.
 */
export const ticketDeps = perContainer((): TicketDeps => {
  const table = tableName();
  const calendar = new WorkingCalendar(calendarData, {
    onWarning: ({ kind, year, message }) =>
      logger.warn('calendar data missing or provisional', { kind, year, detail: message }),
  });
  const publicBaseUrl = requiredEnv('PUBLIC_BASE_URL').replace(/\/$/, '');
  const phone = phoneSystemOf(async () => optional.phone?.());
  return {
    store: new CountingTicketStore(documentClient, table),
    catalogue: new DynamoCatalogueStore(documentClient, table),
    mailer: new SesMailer(
      new SESClient({}),
      requiredEnv('MAIL_FROM'),
      env('SES_CONFIGURATION_SET'),
    ),
    workflow: new StepFunctionsWorkflow(new SFNClient({}), env('LIFECYCLE_STATE_MACHINE_ARN')),
    config: parseLifecycleConfig(JSON.parse(env('LIFECYCLE_CONFIG') || '{}')),
    addDuration: calendar.addDuration,
    now,
    surveys: phone,
    callers: phone,
    replyUrl: (replyId) => `${publicBaseUrl}/replies/${replyId}`,
    ticketUrl: (ticketId) => `${publicBaseUrl}/tickets/${ticketId}`,
    supervisorAddresses: addresses(env('SUPERVISOR_MAIL')),
    centreAddresses: addresses(env('CENTRE_MAIL')),
    newReplyId,
    ...(optional.classifier ? { classifier: optional.classifier() } : {}),
  };
});

/** Stalled tickets: recorded by the workflow's catch, resumed on a schedule, listed for staff. */
export const stallDeps = perContainer((): StallDeps => {
  const tickets = ticketDeps();
  return {
    stalls: new DynamoStallStore(documentClient, tableName()),
    getTicket: (id) => tickets.store.get(id),
    startLifecycle: (id, attempt) => tickets.workflow.startLifecycle(id, attempt),
    now,
  };
});

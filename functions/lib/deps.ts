import { randomBytes } from 'node:crypto';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoCatalogueStore } from '#adapters/dynamodb/catalogue-store';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { DynamoStallStore } from '#adapters/dynamodb/stall-store';
import { DynamoTicketStore } from '#adapters/dynamodb/ticket-store';
import { SesMailer } from '#adapters/ses-mailer';
import { StepFunctionsWorkflow } from '#adapters/sfn-workflow';
import { WorkingCalendar } from '#core/calendar';
import { now } from '#core/clock';
import { parseLifecycleConfig } from '#core/config';
import type { CallerNotifier, SurveyRequester } from '#core/ports';
import type { StallDeps } from '#core/stalls';
import type { TicketDeps } from '#core/tickets';
import calendarData from '#data/calendar/cn-holidays.json' with { type: 'json' };
import { configuredSurveyRequester } from '../phone/surveys.ts';
import { logger } from './logger.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** Reply links must be unguessable: 192 random bits, URL-safe. */
export function newReplyId(): string {
  return randomBytes(24).toString('base64url');
}

let deps: TicketDeps | undefined;

function addresses(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

/**
 * The phone system named in the phone configuration, read on first use. Without one, a request
 * is refused and the refusal recorded in the ticket's history: an unsurveyed caller ends as
 * unreached, never as satisfied; an uninformed caller is recorded as not informed.
 */
function phoneSystem(): SurveyRequester & CallerNotifier {
  let configured: Promise<SurveyRequester | undefined> | undefined;
  const get = () => {
    configured ??= configuredSurveyRequester();
    return configured;
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
export function ticketDeps(): TicketDeps {
  if (deps) return deps;
  const table = tableName();
  const calendar = new WorkingCalendar(calendarData, {
    onWarning: (warning) => logger.warn('calendar data missing or provisional', { ...warning }),
  });
  const publicBaseUrl = required('PUBLIC_BASE_URL').replace(/\/$/, '');
  const phone = phoneSystem();
  deps = {
    store: new DynamoTicketStore(documentClient, table),
    catalogue: new DynamoCatalogueStore(documentClient, table),
    mailer: new SesMailer(
      new SESClient({}),
      required('MAIL_FROM'),
      process.env.SES_CONFIGURATION_SET,
    ),
    workflow: new StepFunctionsWorkflow(new SFNClient({}), process.env.LIFECYCLE_STATE_MACHINE_ARN),
    config: parseLifecycleConfig(JSON.parse(process.env.LIFECYCLE_CONFIG || '{}')),
    addDuration: calendar.addDuration,
    now,
    surveys: phone,
    callers: phone,
    replyUrl: (replyId) => `${publicBaseUrl}/replies/${replyId}`,
    ticketUrl: (ticketId) => `${publicBaseUrl}/tickets/${ticketId}`,
    supervisorAddresses: addresses(process.env.SUPERVISOR_MAIL),
    centreAddresses: addresses(process.env.CENTRE_MAIL),
    newReplyId,
  };
  return deps;
}

let stalls: StallDeps | undefined;

/** Stalled tickets: recorded by the workflow's catch, resumed on a schedule, listed for staff. */
export function stallDeps(): StallDeps {
  if (stalls) return stalls;
  const tickets = ticketDeps();
  stalls = {
    stalls: new DynamoStallStore(documentClient, tableName()),
    getTicket: (id) => tickets.store.get(id),
    startLifecycle: (id, attempt) => tickets.workflow.startLifecycle(id, attempt),
    now,
  };
  return stalls;
}

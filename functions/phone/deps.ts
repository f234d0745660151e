import { now } from '#core/clock';
import type { PhoneIntakeDeps } from '#core/phone-intake';
import {
  checkIntake,
  fileCheckedTicket,
  recordSurveyAnswer,
  recordSurveyUnreachable,
} from '#core/tickets';
import { ticketDeps } from '../lib/deps.ts';
import '../lib/dispatch-model.ts';
import '../lib/phone-system.ts';
import { deliveryStore } from './delivery-store.ts';

/** The use case's collaborators: the delivery store and the ticket use cases of core/tickets.ts. */
export function phoneIntakeDeps(): PhoneIntakeDeps {
  const tickets = ticketDeps();
  return {
    deliveries: deliveryStore(),
    now,
    checkTicket: (intake) => checkIntake(tickets, intake),
    fileTicket: async (checked, provider, alongside) => {
      const actor = { kind: 'phone', id: `phone:${provider}` } as const;
      return (await fileCheckedTicket(tickets, checked, actor, { alongside })).id;
    },
    resumeTicket: async (ticketId) => {
      const ticket = await tickets.store.get(ticketId);
      if (ticket?.status === 'received') await tickets.workflow.startLifecycle(ticketId);
    },
    answerSurvey: (surveyId, answer) => recordSurveyAnswer(tickets, surveyId, answer),
    surveyUnreachable: (surveyId, reason) => recordSurveyUnreachable(tickets, surveyId, reason),
  };
}

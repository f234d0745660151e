/**
 * Every Lambda function and every HTTP route, in one place: the CDK app deploys exactly these and
 * the local gateway serves exactly these, so the two cannot drift apart.
 */
export const FUNCTIONS = {
  'create-ticket': { entry: 'functions/api/create-ticket.ts', mails: false, starts: true },
  'get-ticket': { entry: 'functions/api/get-ticket.ts', mails: false, starts: false },
  'unit-action': { entry: 'functions/api/unit-action.ts', mails: false, starts: false },
  decide: { entry: 'functions/api/decide.ts', mails: false, starts: false },
  metrics: { entry: 'functions/api/metrics.ts', mails: false, starts: false },
  'link-page': { entry: 'functions/api/link-page.ts', mails: false, starts: false },
  'link-action': { entry: 'functions/api/link-action.ts', mails: false, starts: false },
  'next-step': { entry: 'functions/workflow/next-step.ts', mails: false, starts: false },
  'route-ticket': { entry: 'functions/workflow/route-ticket.ts', mails: false, starts: false },
  'await-unit': { entry: 'functions/workflow/await-unit.ts', mails: true, starts: false },
  'await-centre': { entry: 'functions/workflow/await-centre.ts', mails: true, starts: false },
  'survey-caller': { entry: 'functions/workflow/survey-caller.ts', mails: false, starts: false },
  'chase-ticket': { entry: 'functions/workflow/chase-ticket.ts', mails: false, starts: false },
  'close-ticket': { entry: 'functions/workflow/close-ticket.ts', mails: false, starts: false },
} as const;

export type FunctionKey = keyof typeof FUNCTIONS;

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  function: FunctionKey;
  /** `staff` routes need a credential; `link` routes are reached through an unguessable id. */
  auth: 'staff' | 'link';
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/tickets', function: 'create-ticket', auth: 'staff' },
  { method: 'GET', path: '/tickets/{id}', function: 'get-ticket', auth: 'staff' },
  { method: 'POST', path: '/tickets/{id}/actions', function: 'unit-action', auth: 'staff' },
  { method: 'POST', path: '/tickets/{id}/decisions', function: 'decide', auth: 'staff' },
  { method: 'GET', path: '/metrics', function: 'metrics', auth: 'staff' },
  { method: 'GET', path: '/replies/{replyId}', function: 'link-page', auth: 'link' },
  { method: 'POST', path: '/replies/{replyId}', function: 'link-action', auth: 'link' },
];

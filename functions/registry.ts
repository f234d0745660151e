/**
 * Every Lambda function and every HTTP route, in one place: the CDK app deploys exactly these and
 * the local gateway serves exactly these, so the two cannot drift apart.
 */
export const FUNCTIONS = {
  'create-ticket': { entry: 'functions/api/create-ticket.ts', mails: false, starts: true },
  'get-ticket': { entry: 'functions/api/get-ticket.ts', mails: false, starts: false },
  'unit-action': { entry: 'functions/api/unit-action.ts', mails: false, starts: false },
  decide: { entry: 'functions/api/decide.ts', mails: false, starts: false },
  'work-queue': { entry: 'functions/api/work-queue.ts', mails: false, starts: false },
  flags: { entry: 'functions/api/flags.ts', mails: false, starts: false },
  'dead-letters': {
    entry: 'functions/api/dead-letters.ts',
    mails: false,
    starts: false,
    phone: true,
  },
  metrics: { entry: 'functions/api/metrics.ts', mails: false, starts: false },
  'link-page': { entry: 'functions/api/link-page.ts', mails: false, starts: false },
  'link-action': { entry: 'functions/api/link-action.ts', mails: false, starts: false },
  'next-step': { entry: 'functions/workflow/next-step.ts', mails: false, starts: false },
  'route-ticket': { entry: 'functions/workflow/route-ticket.ts', mails: false, starts: false },
  'await-unit': { entry: 'functions/workflow/await-unit.ts', mails: true, starts: false },
  'await-centre': { entry: 'functions/workflow/await-centre.ts', mails: true, starts: false },
  'survey-caller': {
    entry: 'functions/workflow/survey-caller.ts',
    mails: false,
    starts: false,
    phone: true,
  },
  'chase-ticket': { entry: 'functions/workflow/chase-ticket.ts', mails: false, starts: false },
  'close-ticket': { entry: 'functions/workflow/close-ticket.ts', mails: false, starts: false },
  'phone-webhook': {
    entry: 'functions/api/phone-webhook.ts',
    mails: false,
    starts: true,
    phone: true,
  },
  callbacks: { entry: 'functions/api/callbacks.ts', mails: false, starts: false },
  'connect-flow': {
    entry: 'functions/phone/connect-flow.ts',
    mails: false,
    starts: true,
    phone: true,
  },
  'connect-events': {
    entry: 'functions/phone/connect-events.ts',
    mails: false,
    starts: true,
    phone: true,
  },
  // The bulletin run (不合理诉求通报): `bulletin` functions get the bucket and the schedule's grants.
  'bulletin-collect': {
    entry: 'functions/bulletin/collect.ts',
    mails: false,
    starts: false,
    bulletin: true,
  },
  'bulletin-draft': {
    entry: 'functions/bulletin/draft.ts',
    mails: false,
    starts: false,
    bulletin: true,
  },
  'bulletin-check-privacy': {
    entry: 'functions/bulletin/check-privacy.ts',
    mails: false,
    starts: false,
    bulletin: true,
  },
  'bulletin-request-approval': {
    entry: 'functions/bulletin/request-approval.ts',
    mails: true,
    starts: false,
    bulletin: true,
  },
  'bulletin-publish': {
    entry: 'functions/bulletin/publish.ts',
    mails: false,
    starts: false,
    bulletin: true,
  },
  'bulletin-notify': {
    entry: 'functions/bulletin/notify.ts',
    mails: true,
    starts: false,
    bulletin: true,
  },
  'bulletin-draft-page': {
    entry: 'functions/bulletin/draft-page.ts',
    mails: false,
    starts: false,
    bulletin: true,
  },
  'bulletin-decide': {
    entry: 'functions/bulletin/decide-draft.ts',
    mails: false,
    starts: false,
    bulletin: true,
  },
  // Analytics (分析研判, 预警): `analytics` functions get the data set, the engine and the salt.
  'analytics-sink': {
    entry: 'functions/analytics/sink.ts',
    mails: false,
    starts: false,
    analytics: true,
    /** Consumes the table's stream (NEW_AND_OLD_IMAGES, ticket items only). */
    stream: true,
  },
  'analytics-detect': {
    entry: 'functions/analytics/detect.ts',
    mails: false,
    starts: false,
    analytics: true,
  },
  'analytics-notify': {
    entry: 'functions/analytics/notify.ts',
    mails: true,
    starts: false,
    analytics: true,
  },
  'analytics-report': {
    entry: 'functions/analytics/report.ts',
    mails: true,
    starts: false,
    analytics: true,
  },
  'analytics-warnings': {
    entry: 'functions/analytics/warnings.ts',
    mails: false,
    starts: false,
    analytics: true,
  },
  'analytics-hotspots': {
    entry: 'functions/analytics/hotspots.ts',
    mails: false,
    starts: false,
    analytics: true,
  },
  'analytics-clusters': {
    entry: 'functions/analytics/clusters.ts',
    mails: false,
    starts: false,
    analytics: true,
  },
  'analytics-compare': {
    entry: 'functions/analytics/compare.ts',
    mails: false,
    starts: false,
    analytics: true,
  },
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
  { method: 'GET', path: '/work-queue', function: 'work-queue', auth: 'staff' },
  { method: 'GET', path: '/flags', function: 'flags', auth: 'staff' },
  { method: 'GET', path: '/dead-letters', function: 'dead-letters', auth: 'staff' },
  { method: 'GET', path: '/replies/{replyId}', function: 'link-page', auth: 'link' },
  { method: 'POST', path: '/replies/{replyId}', function: 'link-action', auth: 'link' },
  { method: 'GET', path: '/callbacks', function: 'callbacks', auth: 'staff' },
  /** Authenticated by the phone system's signature or credentials, checked by the handler. */
  { method: 'POST', path: '/webhooks/phone/{provider}', function: 'phone-webhook', auth: 'link' },
  {
    method: 'GET',
    path: '/bulletin-drafts/{draftId}',
    function: 'bulletin-draft-page',
    auth: 'link',
  },
  {
    method: 'POST',
    path: '/bulletin-drafts/{draftId}/decision',
    function: 'bulletin-decide',
    auth: 'staff',
  },
  { method: 'GET', path: '/analytics/warnings', function: 'analytics-warnings', auth: 'staff' },
  { method: 'GET', path: '/analytics/hotspots', function: 'analytics-hotspots', auth: 'staff' },
  { method: 'GET', path: '/analytics/clusters', function: 'analytics-clusters', auth: 'staff' },
  { method: 'GET', path: '/analytics/compare', function: 'analytics-compare', auth: 'staff' },
];

/**
 * Every Lambda function and every HTTP route, in one place: the CDK app deploys exactly these and
 * the local gateway serves exactly these, so the two cannot drift apart.
 *
 * An entry also declares what the function reaches, and that one declaration gives it both the
 * environment variable and the IAM grant (infra/access.ts), in the cloud and in the local runtime,
 * which runs each function with exactly its template environment and refuses what its policy
 * does not allow.
 */
export interface FunctionSpec {
  entry: string;
  /** Sends mail through SES (ses:SendEmail on the sender identity). */
  mails: boolean;
  /** Starts ticket lifecycle executions (LIFECYCLE_STATE_MACHINE_ARN, states:StartExecution). */
  starts: boolean;
  /** Reads the phone configuration secret (PHONE_CONFIG_SECRET_ARN, GetSecretValue). */
  phone?: boolean;
  /** Part of the bulletin run: gets the bulletin settings (BULLETIN_*). */
  bulletin?: boolean;
  /** The table: `read` for functions that never write; default `write`. */
  table?: 'read' | 'write';
  /** Wakes waiting tasks of this workflow (states:SendTaskSuccess/SendTaskFailure). */
  wakes?: 'lifecycle' | 'bulletin';
  /** Writes the published bulletin site (s3:PutObject on the bulletin bucket). */
  publishes?: boolean;
  /** Reads the promoted dispatch model (DISPATCH_MODEL_BUCKET, read on the model bucket). */
  dispatchModel?: boolean;
  /** Trains and promotes dispatch models: the model bucket read-write, long timeout, more memory. */
  retrain?: boolean;
  /** Part of analytics (分析研判): the data set, the query engine and the salt (infra/analytics.ts). */
  analytics?: boolean;
  /**
   * Other helpers' options (e.g. `stream` for a table-stream consumer, whose event source mapping
   * brings its own stream grant); infra/access.ts ignores what it does not know.
   */
  readonly [option: string]: unknown;
}

/**
 * A Lambda event source mapping on the table's stream (DynamoDB Streams, new and old images): the
 * CDK app declares it as a `DynamoEventSource` and the local stack runs the same mapping against
 * DynamoDB Local's stream (local/streams.ts). A consumer must be idempotent per record: a batch is
 * retried whole (bisected on error) and a record may arrive twice.
 */
export interface StreamSource {
  /** Lambda event filter patterns; a record matching none of them never reaches the function. */
  filters: readonly Record<string, unknown>[];
  batchSize: number;
  /** How long Lambda gathers records before invoking (locally: how often, at most 2 s, it reads). */
  maxBatchingWindowSeconds?: number;
  /** Retries of a failing batch before its records go to the dead-letter queue. */
  retryAttempts: number;
  /** Older records go to the dead-letter queue unprocessed. */
  maxRecordAgeSeconds: number;
}

/** Any change of a ticket item (not its history, links or counters). */
const TICKET_VERSION = {
  dynamodb: { Keys: { PK: { S: [{ prefix: 'TICKET#' }] }, SK: { S: ['META'] } } },
} as const;

/**
 * A stored ticket version that moved unit counters (adapters/dynamodb/metric-counter.ts): `exists`
 * on a leaf, as Lambda's filters require.
 */
const TICKET_METRICS = {
  dynamodb: {
    Keys: { PK: { S: [{ prefix: 'TICKET#' }] }, SK: { S: ['META'] } },
    NewImage: { lastMetrics: { M: { version: { N: [{ exists: true }] } } } },
  },
} as const;

/** A newly stored ticket that is to run its lifecycle (a merged one never runs). */
const NEW_TICKET = {
  eventName: ['INSERT'],
  dynamodb: {
    Keys: { PK: { S: [{ prefix: 'TICKET#' }] }, SK: { S: ['META'] } },
    NewImage: { status: { S: ['received'] } },
  },
} as const;

export const FUNCTIONS = {
  // Stores the ticket only: stream-workflow starts its lifecycle. `dispatchModel`: files tickets
  // without a topic, so reads the promoted dispatch model.
  'create-ticket': {
    entry: 'functions/api/create-ticket.ts',
    mails: false,
    starts: false,
    dispatchModel: true,
  },
  // 智能派单: reads the promoted dispatch model and nothing else of the table.
  'classify-ticket': {
    entry: 'functions/api/classify-ticket.ts',
    mails: false,
    starts: false,
    table: 'read',
    dispatchModel: true,
  },
  'get-ticket': {
    entry: 'functions/api/get-ticket.ts',
    mails: false,
    starts: false,
    table: 'read',
  },
  'unit-action': {
    entry: 'functions/api/unit-action.ts',
    mails: false,
    starts: false,
    wakes: 'lifecycle',
  },
  decide: {
    entry: 'functions/api/decide.ts',
    mails: false,
    starts: false,
    wakes: 'lifecycle',
    phone: true,
  },
  'work-queue': {
    entry: 'functions/api/work-queue.ts',
    mails: false,
    starts: false,
    table: 'read',
  },
  flags: { entry: 'functions/api/flags.ts', mails: false, starts: false, table: 'read' },
  'dead-letters': {
    entry: 'functions/api/dead-letters.ts',
    mails: false,
    starts: false,
    table: 'read',
  },
  metrics: { entry: 'functions/api/metrics.ts', mails: false, starts: false, table: 'read' },
  'link-page': { entry: 'functions/api/link-page.ts', mails: false, starts: false, table: 'read' },
  'link-action': {
    entry: 'functions/api/link-action.ts',
    mails: false,
    starts: false,
    wakes: 'lifecycle',
  },
  'next-step': { entry: 'functions/workflow/next-step.ts', mails: false, starts: false },
  'route-ticket': { entry: 'functions/workflow/route-ticket.ts', mails: false, starts: false },
  'await-unit': {
    entry: 'functions/workflow/await-unit.ts',
    mails: true,
    starts: false,
    wakes: 'lifecycle',
  },
  'await-centre': {
    entry: 'functions/workflow/await-centre.ts',
    mails: true,
    starts: false,
    wakes: 'lifecycle',
  },
  'survey-caller': {
    entry: 'functions/workflow/survey-caller.ts',
    mails: false,
    starts: false,
    phone: true,
    wakes: 'lifecycle',
  },
  'chase-ticket': { entry: 'functions/workflow/chase-ticket.ts', mails: false, starts: false },
  'close-ticket': { entry: 'functions/workflow/close-ticket.ts', mails: false, starts: false },
  // A failed step stalls the ticket; a schedule resumes it (a fresh execution) and staff see it.
  'stall-ticket': { entry: 'functions/workflow/stall-ticket.ts', mails: false, starts: false },
  'resume-stalled': {
    entry: 'functions/workflow/resume-stalled.ts',
    mails: false,
    starts: true,
    /** An EventBridge Scheduler expression in AWS; the local stack fires it on its clock. */
    schedule: 'rate(5 minutes)',
  },
  stalled: { entry: 'functions/api/stalled.ts', mails: false, starts: false, table: 'read' },
  // Starts the lifecycle of every stored ticket and counts the metrics of every ticket change,
  // off the request path (the table's stream).
  'stream-workflow': {
    entry: 'functions/stream/stream-workflow.ts',
    mails: false,
    starts: true,
    table: 'write',
    stream: {
      filters: [NEW_TICKET, TICKET_METRICS],
      batchSize: 25,
      retryAttempts: 10,
      maxRecordAgeSeconds: 24 * 3600,
    } satisfies StreamSource,
  },
  'phone-webhook': {
    entry: 'functions/api/phone-webhook.ts',
    mails: false,
    starts: true,
    phone: true,
    wakes: 'lifecycle',
    dispatchModel: true,
  },
  callbacks: { entry: 'functions/api/callbacks.ts', mails: false, starts: false, table: 'read' },
  'callback-done': { entry: 'functions/api/callback-done.ts', mails: false, starts: false },
  'connect-flow': {
    entry: 'functions/phone/connect-flow.ts',
    mails: false,
    starts: true,
    phone: true,
    wakes: 'lifecycle',
    dispatchModel: true,
  },
  'connect-events': {
    entry: 'functions/phone/connect-events.ts',
    mails: false,
    starts: true,
    phone: true,
    wakes: 'lifecycle',
    dispatchModel: true,
  },
  // The bulletin run (不合理诉求通报): only `publish` writes the bucket, only `decide` wakes the run.
  'bulletin-collect': {
    entry: 'functions/bulletin/collect.ts',
    mails: false,
    starts: false,
    bulletin: true,
    table: 'read',
  },
  'bulletin-draft': {
    entry: 'functions/bulletin/draft.ts',
    // Mails the reviewers about each case it holds for personal data.
    mails: true,
    starts: false,
    bulletin: true,
  },
  'bulletin-check-privacy': {
    entry: 'functions/bulletin/check-privacy.ts',
    mails: false,
    starts: false,
    bulletin: true,
    table: 'read',
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
    publishes: true,
  },
  'bulletin-notify': {
    entry: 'functions/bulletin/notify.ts',
    mails: true,
    starts: false,
    bulletin: true,
    // Marks the issue announced before mailing, so a retried notify mails nobody twice.
  },
  'bulletin-draft-page': {
    entry: 'functions/bulletin/draft-page.ts',
    mails: false,
    starts: false,
    bulletin: true,
    table: 'read',
  },
  'bulletin-decide': {
    entry: 'functions/bulletin/decide-draft.ts',
    mails: false,
    starts: false,
    bulletin: true,
    wakes: 'bulletin',
  },
  // 智能派单's retraining (`retrain`: the model bucket read-write, long timeout, more memory).
  'dispatch-train': {
    entry: 'functions/dispatch/train.ts',
    mails: false,
    starts: false,
    table: 'read',
    dispatchModel: true,
    retrain: true,
  },
  'dispatch-promote': {
    entry: 'functions/dispatch/promote.ts',
    mails: false,
    starts: false,
    table: 'read',
    dispatchModel: true,
    retrain: true,
  },
  'bulletin-held-case-page': {
    entry: 'functions/bulletin/held-case-page.ts',
    mails: false,
    starts: false,
    bulletin: true,
    table: 'read',
  },
  'bulletin-correct-case': {
    entry: 'functions/bulletin/correct-case.ts',
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
    table: 'read',
    // Every version of every ticket, batched: history, links and counters never reach the sink.
    stream: {
      filters: [TICKET_VERSION],
      batchSize: 1000,
      maxBatchingWindowSeconds: 60,
      retryAttempts: 10,
      maxRecordAgeSeconds: 24 * 3600,
    } satisfies StreamSource,
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
    table: 'read',
    analytics: true,
  },
  'analytics-hotspots': {
    entry: 'functions/analytics/hotspots.ts',
    mails: false,
    starts: false,
    table: 'read',
    analytics: true,
  },
  'analytics-clusters': {
    entry: 'functions/analytics/clusters.ts',
    mails: false,
    starts: false,
    table: 'read',
    analytics: true,
  },
  'analytics-compare': {
    entry: 'functions/analytics/compare.ts',
    mails: false,
    starts: false,
    table: 'read',
    analytics: true,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionKey = keyof typeof FUNCTIONS;

/**
 * Overload levels off instead of collapsing: the HTTP API stage throttles each route (token
 * bucket: steady requests per second and burst) and answers 429 beyond it; each route's function
 * may run at most `concurrency` at once (reserved concurrency in AWS). The CDK app sets both and
 * the local gateway enforces the same numbers, answering 429 with Retry-After.
 */
export const API_LIMITS = {
  default: { rate: 200, burst: 400, concurrency: 50 },
  routes: {
    'POST /tickets': { rate: 40, burst: 80, concurrency: 20 },
  } as Partial<Record<string, { rate: number; burst: number; concurrency: number }>>,
} as const;

export function limitsOf(routeKey: string): { rate: number; burst: number; concurrency: number } {
  return API_LIMITS.routes[routeKey] ?? API_LIMITS.default;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  function: FunctionKey;
  /** `staff` routes need a credential; `link` routes are reached through an unguessable id. */
  auth: 'staff' | 'link';
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/tickets', function: 'create-ticket', auth: 'staff' },
  { method: 'POST', path: '/tickets/classify', function: 'classify-ticket', auth: 'staff' },
  { method: 'GET', path: '/tickets/{id}', function: 'get-ticket', auth: 'staff' },
  { method: 'POST', path: '/tickets/{id}/actions', function: 'unit-action', auth: 'staff' },
  { method: 'POST', path: '/tickets/{id}/decisions', function: 'decide', auth: 'staff' },
  { method: 'GET', path: '/metrics', function: 'metrics', auth: 'staff' },
  { method: 'GET', path: '/work-queue', function: 'work-queue', auth: 'staff' },
  { method: 'GET', path: '/flags', function: 'flags', auth: 'staff' },
  { method: 'GET', path: '/dead-letters', function: 'dead-letters', auth: 'staff' },
  { method: 'GET', path: '/stalled', function: 'stalled', auth: 'staff' },
  { method: 'GET', path: '/replies/{replyId}', function: 'link-page', auth: 'link' },
  { method: 'POST', path: '/replies/{replyId}', function: 'link-action', auth: 'link' },
  { method: 'GET', path: '/callbacks', function: 'callbacks', auth: 'staff' },
  { method: 'POST', path: '/callbacks/{callId}/done', function: 'callback-done', auth: 'staff' },
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
  {
    method: 'GET',
    path: '/bulletin-cases/{ticketId}/review/{holdId}',
    function: 'bulletin-held-case-page',
    auth: 'link',
  },
  {
    method: 'POST',
    path: '/bulletin-cases/{ticketId}/public-text',
    function: 'bulletin-correct-case',
    auth: 'staff',
  },
  { method: 'GET', path: '/analytics/warnings', function: 'analytics-warnings', auth: 'staff' },
  { method: 'GET', path: '/analytics/hotspots', function: 'analytics-hotspots', auth: 'staff' },
  { method: 'GET', path: '/analytics/clusters', function: 'analytics-clusters', auth: 'staff' },
  { method: 'GET', path: '/analytics/compare', function: 'analytics-compare', auth: 'staff' },
];

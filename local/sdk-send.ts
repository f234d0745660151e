import { Client } from '@smithy/core/client';

/**
 * Every AWS SDK request goes through `Client.prototype.send`. The local stack watches and checks
 * requests there, and this is the one place that replaces it: once, the first time a hook is
 * added, with hooks run around the original send in a fixed order. Before this, each module
 * patched `send` itself and their nesting depended on which module happened to patch first.
 */

/** One request, as a hook sees it. */
export interface SendCall {
  /** The client's service, e.g. `DynamoDB`, `DynamoDB Streams`, `SFN`. */
  readonly serviceId: string;
  readonly command: object;
  readonly client: { readonly config: unknown };
}

/** Runs around the rest of the chain: calls `next()` to send on, or rejects to refuse. */
export type SendHook = (call: SendCall, next: () => Promise<unknown>) => Promise<unknown>;

/**
 * The hooks, outermost first; a hook that is not added is skipped.
 * - `count-requests` (`simulate --count-requests`) is outermost: it sees every call, and one the
 *   local IAM check refuses is counted as sent and failed (`AccessDeniedException`), as before.
 * - `table-writes` (the stream runner's count of answered DynamoDB writes) counts a write once it
 *   is answered, success or failure, a refusal included: counting a write that changed nothing
 *   only costs a drain that finds nothing, while missing one would skip a drain that had records.
 * - `iam` (a function's role) is innermost, right before the original send: a call the role does
 *   not allow is refused before anything is sent.
 */
export const SEND_HOOK_ORDER = ['count-requests', 'table-writes', 'iam'] as const;
export type SendHookName = (typeof SEND_HOOK_ORDER)[number];

type Send = (this: { config: unknown }, command: object, ...rest: unknown[]) => Promise<unknown>;

const hooks = new Map<SendHookName, SendHook>();
let chain: SendHook[] = [];
let patched = false;

/** Adds (or replaces) the named hook; the first call replaces `Client.prototype.send`. */
export function addSendHook(name: SendHookName, hook: SendHook): void {
  hooks.set(name, hook);
  chain = SEND_HOOK_ORDER.flatMap((n) => hooks.get(n) ?? []);
  if (patched) return;
  patched = true;
  const prototype = Client.prototype as unknown as { send: Send };
  const send = prototype.send;
  prototype.send = function (command, ...rest) {
    const hooksNow = chain;
    if (hooksNow.length === 0) return send.call(this, command, ...rest);
    const call: SendCall = {
      serviceId: (this.config as { serviceId?: string }).serviceId ?? 'unknown',
      command,
      client: this,
    };
    const run = (i: number): Promise<unknown> => {
      const hook = hooksNow[i];
      if (!hook) return send.call(this, command, ...rest);
      try {
        return hook(call, () => run(i + 1));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return run(0);
  };
}

/** Removes the named hook; `send` stays replaced, and with no hooks calls straight through. */
export function removeSendHook(name: SendHookName): void {
  hooks.delete(name);
  chain = SEND_HOOK_ORDER.flatMap((n) => hooks.get(n) ?? []);
}

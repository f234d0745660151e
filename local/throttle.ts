import { limitsOf } from '#functions/registry';

interface Bucket {
  tokens: number;
  refilledAt: number;
  inFlight: number;
}

/**
 * The HTTP API's stage throttling (a token bucket per route: `rate` per second, `burst` at most)
 * and each route function's reserved concurrency, on the wall clock as in AWS. `admit` answers
 * how many seconds the caller should wait (429 with Retry-After), or undefined to go ahead; a
 * request that went ahead must call the returned `done`.
 */
export class Throttle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly clock: () => number = Date.now) {}

  admit(routeKey: string): { retryAfter: number } | { done: () => void } {
    const limits = limitsOf(routeKey);
    const now = this.clock();
    let bucket = this.buckets.get(routeKey);
    if (!bucket) {
      bucket = { tokens: limits.burst, refilledAt: now, inFlight: 0 };
      this.buckets.set(routeKey, bucket);
    }
    bucket.tokens = Math.min(
      limits.burst,
      bucket.tokens + ((now - bucket.refilledAt) / 1000) * limits.rate,
    );
    bucket.refilledAt = now;
    if (bucket.tokens < 1) {
      return { retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / limits.rate)) };
    }
    if (bucket.inFlight >= limits.concurrency) return { retryAfter: 1 };
    bucket.tokens -= 1;
    bucket.inFlight += 1;
    const held = bucket;
    let released = false;
    return {
      done: () => {
        if (released) return;
        released = true;
        held.inFlight -= 1;
      },
    };
  }
}

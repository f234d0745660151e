/**
 * Where "now" comes from. In AWS it is the system clock; the local stack installs a virtual clock
 * (see local/clock.ts) so that a 72-hour deadline can pass in a test or a simulation without
 * waiting. Handlers and domain code only ever ask `now()`.
 */
export interface Clock {
  now(): Date;
}

const systemClock: Clock = { now: () => new Date() };
let current: Clock = systemClock;

export function now(): Date {
  return current.now();
}

export function useClock(clock: Clock): void {
  current = clock;
}

export function useSystemClock(): void {
  current = systemClock;
}

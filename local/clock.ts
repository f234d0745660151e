import type { Clock } from '#core/clock';

export interface ClockState {
  virtualMs: number;
  realMs: number;
  speed: number;
}

interface Timer {
  dueMs: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A virtual clock for the local stack: time runs `speed` times faster than the wall clock and can
 * be pushed forward with `advance`. Sleepers (task timeouts, Wait states, schedules) wake up when
 * virtual time reaches their due time, whichever of the two moved it there.
 */
export class VirtualClock implements Clock {
  private baseVirtualMs: number;
  private baseRealMs: number;
  private speedFactor: number;
  private timers: Timer[] = [];
  private wakeUp: NodeJS.Timeout | undefined;

  private readonly onChange: ((state: ClockState) => void) | undefined;

  constructor(
    options: { start?: Date; speed?: number; onChange?: (state: ClockState) => void } = {},
  ) {
    this.baseRealMs = Date.now();
    this.baseVirtualMs = options.start?.getTime() ?? this.baseRealMs;
    this.speedFactor = options.speed ?? 1;
    this.onChange = options.onChange;
  }

  /** Where the clock stands, to be saved and resumed after a restart. */
  state(): ClockState {
    return { virtualMs: this.nowMs(), realMs: Date.now(), speed: this.speedFactor };
  }

  /** The virtual time a clock saved as `state` shows now, had it kept running. */
  static resumedAt(state: ClockState, realNowMs = Date.now()): Date {
    return new Date(state.virtualMs + Math.max(0, realNowMs - state.realMs) * state.speed);
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  nowMs(): number {
    return this.baseVirtualMs + (Date.now() - this.baseRealMs) * this.speedFactor;
  }

  get speed(): number {
    return this.speedFactor;
  }

  setSpeed(speed: number): void {
    if (!(speed > 0)) throw new RangeError('speed must be a positive number');
    this.rebase();
    this.speedFactor = speed;
    this.schedule();
    this.onChange?.(this.state());
  }

  /** Moves virtual time forward and fires every sleeper that is now due. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('the clock cannot go backwards');
    this.rebase();
    this.baseVirtualMs += ms;
    this.fireDue();
    this.onChange?.(this.state());
  }

  /** Resolves when virtual time reaches `dueMs`; rejects with the signal's reason if aborted. */
  sleepUntil(dueMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (dueMs <= this.nowMs()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = { dueMs, resolve, reject };
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      timer.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.timers.push(timer);
      this.schedule();
    });
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sleepUntil(this.nowMs() + ms, signal);
  }

  /** Number of sleepers still waiting: lets a test know the engine has reached a wait. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  stop(): void {
    if (this.wakeUp) clearTimeout(this.wakeUp);
    this.wakeUp = undefined;
  }

  private rebase(): void {
    const realNow = Date.now();
    this.baseVirtualMs += (realNow - this.baseRealMs) * this.speedFactor;
    this.baseRealMs = realNow;
  }

  private fireDue(): void {
    const nowMs = this.nowMs();
    const due = this.timers.filter((t) => t.dueMs <= nowMs);
    this.timers = this.timers.filter((t) => t.dueMs > nowMs);
    for (const timer of due) timer.resolve();
    this.schedule();
  }

  private schedule(): void {
    if (this.wakeUp) clearTimeout(this.wakeUp);
    this.wakeUp = undefined;
    if (this.timers.length === 0) return;
    // A loop, not Math.min(...spread): a busy simulation holds more sleepers than a call has arguments.
    let nextDue = Number.POSITIVE_INFINITY;
    for (const timer of this.timers) if (timer.dueMs < nextDue) nextDue = timer.dueMs;
    const realDelay = Math.max(0, (nextDue - this.nowMs()) / this.speedFactor);
    // setTimeout caps at ~24.8 days; a longer wait simply re-arms when it fires.
    this.wakeUp = setTimeout(() => this.fireDue(), Math.min(realDelay, 2 ** 31 - 1));
    this.wakeUp.unref();
  }
}

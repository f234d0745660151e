import type { Clock } from '#core/clock';

export interface ClockState {
  virtualMs: number;
  realMs: number;
  speed: number;
}

interface Timer {
  dueMs: number;
  /** Order of arrival: sleepers due at the same time wake in the order they went to sleep. */
  seq: number;
  resolve: () => void;
  cancelled: boolean;
}

const earlier = (a: Timer, b: Timer) => a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);

/**
 * Sleepers by due time, a binary heap: a simulated city holds tens of thousands (every waiting
 * ticket has one, every running task its timeout), and an array scanned on each new sleeper made
 * a Beijing day's tail quadratic. An aborted sleeper is only marked; it leaves when it reaches
 * the top, or in a rebuild once they outnumber the live ones.
 */
class TimerHeap {
  private heap: Timer[] = [];
  private cancelledCount = 0;

  get size(): number {
    return this.heap.length - this.cancelledCount;
  }

  push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** The earliest live sleeper, left in place. */
  peek(): Timer | undefined {
    while (this.heap[0]?.cancelled) {
      this.pop();
      this.cancelledCount--;
    }
    return this.heap[0];
  }

  /** Removes and returns the earliest live sleeper. */
  take(): Timer | undefined {
    return this.peek() ? this.pop() : undefined;
  }

  cancel(timer: Timer): void {
    if (timer.cancelled) return;
    timer.cancelled = true;
    this.cancelledCount++;
    if (this.cancelledCount > 1024 && this.cancelledCount > this.heap.length / 2) this.rebuild();
  }

  private rebuild(): void {
    const live = this.heap.filter((t) => !t.cancelled);
    this.heap = [];
    this.cancelledCount = 0;
    for (const timer of live) this.push(timer);
  }

  private pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && earlier(heap[left]!, heap[least]!)) least = left;
        if (right < heap.length && earlier(heap[right]!, heap[least]!)) least = right;
        if (least === i) break;
        [heap[i], heap[least]] = [heap[least]!, heap[i]!];
        i = least;
      }
    }
    return top;
  }
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
  private readonly timers = new TimerHeap();
  private timerSeq = 0;
  private wakeUp: NodeJS.Timeout | undefined;
  /** The due time the armed `wakeUp` is for. */
  private armedForMs = Number.POSITIVE_INFINITY;

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
      const timer: Timer = { dueMs, seq: this.timerSeq++, resolve, cancelled: false };
      const onAbort = () => {
        this.timers.cancel(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      timer.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.timers.push(timer);
      // Only a sleeper earlier than the armed wake-up needs the wall-clock timer moved.
      if (dueMs < this.armedForMs) this.schedule();
    });
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sleepUntil(this.nowMs() + ms, signal);
  }

  /** Number of sleepers still waiting: lets a test know the engine has reached a wait. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  stop(): void {
    if (this.wakeUp) clearTimeout(this.wakeUp);
    this.wakeUp = undefined;
    this.armedForMs = Number.POSITIVE_INFINITY;
  }

  private rebase(): void {
    const realNow = Date.now();
    this.baseVirtualMs += (realNow - this.baseRealMs) * this.speedFactor;
    this.baseRealMs = realNow;
  }

  private fireDue(): void {
    const nowMs = this.nowMs();
    const due: Timer[] = [];
    while ((this.timers.peek()?.dueMs ?? Number.POSITIVE_INFINITY) <= nowMs) {
      due.push(this.timers.take()!);
    }
    for (const timer of due) timer.resolve();
    this.schedule();
  }

  private schedule(): void {
    if (this.wakeUp) clearTimeout(this.wakeUp);
    this.wakeUp = undefined;
    this.armedForMs = Number.POSITIVE_INFINITY;
    const next = this.timers.peek();
    if (!next) return;
    const nextDue = next.dueMs;
    this.armedForMs = nextDue;
    const realDelay = Math.max(0, (nextDue - this.nowMs()) / this.speedFactor);
    // setTimeout caps at ~24.8 days; a longer wait simply re-arms when it fires.
    this.wakeUp = setTimeout(() => this.fireDue(), Math.min(realDelay, 2 ** 31 - 1));
    this.wakeUp.unref();
  }
}

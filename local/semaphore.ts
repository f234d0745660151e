/** At most `free` tasks at once; the rest wait their turn, first come first served. */
export class Semaphore {
  private readonly queue: (() => void)[] = [];
  constructor(private free: number) {
    if (!Number.isInteger(free) || free < 1)
      throw new Error(`a semaphore needs ≥ 1 slot, not ${free}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    }
  }
}

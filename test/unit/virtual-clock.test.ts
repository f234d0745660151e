import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '#local/clock';

const START = Date.parse('2026-03-02T01:00:00Z');

type Step =
  | { kind: 'sleep'; afterMs: number }
  | { kind: 'abort'; pick: number }
  | { kind: 'advance'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('sleep' as const), afterMs: fc.integer({ min: 1, max: 5_000 }) }),
  fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
);

describe('VirtualClock', () => {
  // The oracle is the plain definition: after each advance, exactly the sleepers not aborted whose
  // due time has come have woken, earliest due first, and equal due times in the order they slept.
  it('wakes exactly the due sleepers, earliest first, and never an aborted one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 120 }), async (steps) => {
        // Speed 0 is not allowed; a tiny speed keeps the wall clock from moving virtual time.
        const clock = new VirtualClock({ start: new Date(START), speed: 1e-9 });
        const woken: number[] = [];
        const sleepers: { id: number; dueMs: number; aborted: boolean; abort: AbortController }[] =
          [];
        let virtualMs = START;
        try {
          for (const s of steps) {
            if (s.kind === 'sleep') {
              const id = sleepers.length;
              const abort = new AbortController();
              const dueMs = virtualMs + s.afterMs;
              sleepers.push({ id, dueMs, aborted: false, abort });
              clock.sleepUntil(dueMs, abort.signal).then(
                () => woken.push(id),
                () => {},
              );
            } else if (s.kind === 'abort') {
              const waiting = sleepers.filter((x) => !x.aborted && !woken.includes(x.id));
              const victim = waiting[s.pick % Math.max(1, waiting.length)];
              if (victim) {
                victim.aborted = true;
                victim.abort.abort(new Error('stopped'));
              }
            } else {
              clock.advance(s.ms);
              virtualMs += s.ms;
            }
            await new Promise((resolve) => setImmediate(resolve));
            const expected = sleepers
              .filter((x) => x.dueMs <= clock.nowMs() && !x.aborted)
              .sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)
              .map((x) => x.id);
            expect([...woken].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
            expect(clock.pendingTimers).toBe(
              sleepers.filter((x) => !x.aborted && !woken.includes(x.id)).length,
            );
          }
          // Within one advance, sleepers wake earliest due first.
          const dueOf = new Map(sleepers.map((x) => [x.id, x.dueMs]));
          const batches: number[][] = [];
          let last = -1;
          for (const id of woken) {
            if (batches.length === 0 || (dueOf.get(id) ?? 0) < last) batches.push([]);
            batches.at(-1)!.push(id);
            last = dueOf.get(id) ?? 0;
          }
          for (const batch of batches) {
            const sorted = [...batch].sort((a, b) => dueOf.get(a)! - dueOf.get(b)! || a - b);
            expect(batch).toEqual(sorted);
          }
        } finally {
          clock.stop();
        }
      }),
      { numRuns: 200 },
    );
  });

  it('holds many sleepers and lets go of aborted ones', async () => {
    const clock = new VirtualClock({ start: new Date(START), speed: 1e-9 });
    try {
      const controllers = Array.from({ length: 5_000 }, () => new AbortController());
      const done = controllers.map((c, i) =>
        clock.sleepUntil(START + 1_000 + i, c.signal).then(
          () => 'woke',
          () => 'aborted',
        ),
      );
      for (const [i, c] of controllers.entries()) if (i % 3 !== 0) c.abort(new Error('stopped'));
      expect(clock.pendingTimers).toBe(Math.ceil(5_000 / 3));
      clock.advance(10_000);
      const outcomes = await Promise.all(done);
      expect(outcomes.filter((o) => o === 'woke')).toHaveLength(Math.ceil(5_000 / 3));
      expect(clock.pendingTimers).toBe(0);
    } finally {
      clock.stop();
    }
  });
});

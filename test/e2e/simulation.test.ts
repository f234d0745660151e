import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedOutcomes, makePlan } from '../../simulator/plan.ts';
import {
  metricDiscrepancies,
  runSimulation,
  type SimulationResult,
  type TicketOutcome,
} from '../../simulator/run.ts';
import { dynamoEndpoint, uniqueTableName } from '../support/dynamodb.ts';

/**
 * A small simulated day on the local stack, through its public interfaces only, checked on its
 * outcomes (never on times). The same seed is played a second time in a child process, at the
 * same time, on its own stack: the handlers keep their clients per process, as a Lambda
 * container does, so one process cannot host two stacks one after the other.
 */
const SEED = 20261121;
const VOLUME = 200;
let result: SimulationResult;
let replay: { outcomes: TicketOutcome[] };
const out = mkdtempSync(join(tmpdir(), 'simulation-'));

function replayInChild(): Promise<{ outcomes: TicketOutcome[] }> {
  const args = [
    '--import',
    'tsx',
    'simulator/main.ts',
    '--volume',
    String(VOLUME),
    '--seed',
    String(SEED),
    '--dynamodb-endpoint',
    dynamoEndpoint(),
    '--table',
    uniqueTableName('simulation'),
    '--out',
    out,
    '--step-minutes',
    '30',
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('exit', () => {
      try {
        const [dir] = readdirSync(out);
        resolve(JSON.parse(readFileSync(join(out, dir!, 'report.json'), 'utf8')));
      } catch {
        reject(new Error(`the replay wrote no report:\n${output.slice(-3000)}`));
      }
    });
  });
}

beforeAll(async () => {
  const child = replayInChild();
  result = await runSimulation({
    seed: SEED,
    volume: VOLUME,
    days: 1,
    stepMinutes: 30,
    dynamodbEndpoint: dynamoEndpoint(),
    tableName: uniqueTableName('simulation'),
  });
  replay = await child;
}, 300_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

const outcomeKey = (o: TicketOutcome) => (o.status === 'closed' ? `closed:${o.closure}` : o.status);

describe('a simulated day on the local stack', () => {
  it('plans the same calls for the same seed, and a realistic mix', () => {
    const plan = makePlan({ seed: SEED, volume: VOLUME, days: 1 });
    expect(makePlan({ seed: SEED, volume: VOLUME, days: 1 })).toEqual(plan);
    const expected = expectedOutcomes(plan);
    expect(expected['closed:answered_on_the_spot']).toBeGreaterThan(VOLUME * 0.35);
    for (const key of ['merged', 'none', 'closed:callback_done', 'closed:unreached'])
      expect(expected[key], key).toBeGreaterThan(0);
    expect(plan.some((p) => p.kind === 'no_substance' && p.expected.flagged)).toBe(true);
    expect(plan.some((p) => p.burst)).toBe(true);
  });

  it('files every call and brings every ticket to a final state the plan foresaw', () => {
    expect(result.errors).toEqual([]);
    expect(result.outcomes).toHaveLength(result.planned);
    for (const o of result.outcomes) {
      if (o.kind === 'missed') expect(o.ticketId).toBeUndefined();
      else expect(['closed', 'merged'], `#${o.index} ${o.ticketId}`).toContain(o.status);
    }
    expect(result.mismatches).toEqual([]);
    expect(result.actual).toEqual(result.expected);
    expect(result.callbacksListed).toBe(result.expected.none);
  });

  it('keeps each ticket in one consistent state: its history ends where its status is', () => {
    const ids = result.outcomes.flatMap((o) => (o.ticketId ? [o.ticketId] : []));
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of result.outcomes.filter((x) => x.ticketId)) {
      const closedEvents = o.events.filter((e) =>
        ['closed', 'closed_at_intake', 'escalated', 'unreasonable_approved'].includes(e),
      );
      if (o.status === 'closed') expect(closedEvents, o.ticketId).toHaveLength(1);
      if (o.status === 'merged') expect(o.events, o.ticketId).toEqual(['merged']);
      if (o.closure === 'unreached') expect(o.survey).toEqual({ reached: false });
      if (o.closure === 'callback_done') expect(o.survey?.reached).toBe(true);
    }
  });

  it('counts in GET /metrics exactly what the tickets added, unreached callers as unreached', () => {
    expect(metricDiscrepancies(result)).toEqual([]);
    // A correction takes a counter back where it was counted: no month or day goes below zero.
    expect(result.metrics.negative).toEqual([]);
    const unreached = result.outcomes.filter((o) => o.closure === 'unreached').length;
    expect(result.metrics.totals.unreached).toBe(unreached);
    expect(unreached).toBe(result.expected['closed:unreached']);
    const reopened = result.outcomes.reduce((s, o) => s + o.reopenCount, 0);
    expect(result.metrics.totals.reopened).toBe(reopened);
    const reached = result.outcomes.filter(
      (o) => o.survey?.reached && o.closure !== 'unreasonable',
    ).length;
    // Every answered survey counts once as resolved or unresolved, including the ones reopened.
    expect(result.metrics.totals.resolved + result.metrics.totals.unresolved).toBe(
      reached + reopened,
    );
  });

  it('gives the same outcomes for the same seed in another process, at another pace', () => {
    const strip = (o: TicketOutcome) => ({
      index: o.index,
      kind: o.kind,
      outcome: outcomeKey(o),
      flagged: o.flagged,
      reopenCount: o.reopenCount,
      returned: o.returnedBy.length,
      extendedWorkingDays: o.extendedWorkingDays,
      survey: o.survey,
      leadUnit: o.leadUnit,
      events: o.events,
    });
    expect(replay.outcomes.map(strip)).toEqual(result.outcomes.map(strip));
  });
});

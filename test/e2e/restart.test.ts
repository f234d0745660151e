import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#local/ports';
import { eventually } from '../support/local-stack.ts';

/**
 * `npm start` killed hard (SIGKILL) while tickets wait, then started again on the same data:
 * every open ticket continues from the stage stored on it, with its deadlines intact.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hotline-restart-'));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Running {
  output: string;
  token(role: string): string;
}

async function start(ports: Record<string, number>): Promise<Running> {
  const args = [
    '--import',
    'tsx',
    'local/start.ts',
    '--data-dir',
    dataDir,
    '--port',
    String(ports.api),
  ];
  for (const name of ['dynamodb', 'sfn', 'ses', 's3'])
    args.push(`--${name}-port`, String(ports[name]));
  child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 90_000;
  while (!output.includes('Ctrl-C')) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`the stack did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    output,
    token: (role) => new RegExp(`\\n\\s+${role}\\s+(dev\\.\\S+)`).exec(output)![1]!,
  };
}

async function portFree(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const inUse = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!inUse) return;
    if (Date.now() > deadline) throw new Error(`port ${port} stayed in use`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a hard restart of the local stack', () => {
  it('resumes every open ticket at its stage with its deadlines', async () => {
    const ports = {
      api: await freePort(),
      dynamodb: await freePort(),
      sfn: await freePort(),
      ses: await freePort(),
      s3: await freePort(),
    };
    const api = (path: string, init: { method?: string; token?: string; body?: unknown } = {}) =>
      fetch(`http://127.0.0.1:${ports.api}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
        ...(init.body ? { body: JSON.stringify(init.body) } : {}),
        // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const outbox = async () =>
      (await fetch(`http://127.0.0.1:${ports.ses}/outbox/messages.json`)).json() as Promise<
        { subject: string; text: string }[]
      >;
    // The mail comes when the stream has started the lifecycle: polled, not waited for.
    const linkFor = (id: string) =>
      eventually(async () => {
        const mail = (await outbox()).find((m) => m.subject.includes(id));
        expect(mail).toBeDefined();
        return /\/replies\/([A-Za-z0-9_-]{32})/.exec(mail!.text)![1];
      });
    const settle = () => new Promise((r) => setTimeout(r, 1500));

    let stack = await start(ports);
    const operator = stack.token('operator');
    const supervisor = stack.token('supervisor');
    const file = async (address: string) => {
      const created = await api('/tickets', {
        method: 'POST',
        token: operator,
        body: {
          noCallback: true,
          content: '暖气不热',
          category: '投诉',
          topic: 'heating',
          place: { district: 'qingshan', township: 'xicheng', address },
        },
      });
      expect(created.status).toBe(201);
      return created.body.id as string;
    };
    const signed = await file('西城小区1号楼');
    const waiting = await file('西城小区2号楼');
    await settle();
    expect(
      (await api(`/replies/${await linkFor(signed)}`, { method: 'POST', body: { action: 'sign' } }))
        .status,
    ).toBe(200);
    const before = await eventually(async () => {
      const views = await Promise.all(
        [signed, waiting].map((id) => api(`/tickets/${id}`, { token: supervisor })),
      );
      expect(views.map((v) => v.body.ticket.status)).toEqual(['handling', 'dispatched']);
      return views;
    });

    child!.kill('SIGKILL');
    await Promise.all(Object.values(ports).map(portFree));

    stack = await start(ports);
    expect(stack.output).toMatch(/Resumed open tickets\s+2/);
    // Tokens carry an expiry now, so the restart prints fresh ones; those printed before the
    // restart keep working until they expire (the calls below use them).
    expect(stack.token('supervisor')).toMatch(/^dev\./);
    await settle();
    const after = await Promise.all(
      [signed, waiting].map((id) => api(`/tickets/${id}`, { token: supervisor })),
    );
    for (const [i, view] of after.entries()) {
      expect(view.body.ticket.status).toBe(before[i]!.body.ticket.status);
      expect(view.body.ticket.deadlines).toEqual(before[i]!.body.ticket.deadlines);
      expect(view.body.history).toEqual(before[i]!.body.history);
    }

    // The resumed executions keep the deadlines: pushing the clock past the sign-for limit
    // chases the unsigned ticket, and the link mailed before the restart still works.
    const signBy = Date.parse(after[1]!.body.ticket.deadlines.signBy);
    const clock = (await (await fetch(`http://127.0.0.1:${ports.api}/_local/clock`)).json()) as {
      now: string;
    };
    await fetch(`http://127.0.0.1:${ports.api}/_local/clock`, {
      method: 'POST',
      body: JSON.stringify({ advanceMs: signBy - Date.parse(clock.now) + 1000 }),
    });
    await eventually(async () => {
      const chased = await api(`/tickets/${waiting}`, { token: supervisor });
      expect(chased.body.history.map((h: { event: string }) => h.event)).toEqual([
        'received',
        'dispatched',
        // The clock jumped past the reminder's moment: a late reminder is skipped, not sent.
        'sign_overdue',
      ]);
    });

    const reply = await api(`/replies/${await linkFor(signed)}`, {
      method: 'POST',
      body: { action: 'reply', content: '已修复', resolved: true },
    });
    expect(reply.status).toBe(200);
    await eventually(async () =>
      expect((await api(`/tickets/${signed}`, { token: supervisor })).body.ticket.status).toBe(
        'closed',
      ),
    );

    child!.kill('SIGTERM');
  }, 240_000);
});

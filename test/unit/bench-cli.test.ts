import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TSX = 'node_modules/.bin/tsx';

/** Every bench script an npm script runs (package.json), with what its usage must mention. */
const SCRIPTS = [
  ['bench/run.ts', '--only'],
  ['bench/intake.ts', '--concurrency'],
  ['bench/webhooks.ts', '--max-seconds'],
  ['bench/load.ts', '--rates'],
  ['bench/privacy-eval.ts', 'privacy:eval'],
  ['bench/dispatch-train.ts', 'dispatch:train'],
] as const;

async function exitOf(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(TSX, args, { timeout: 60_000 });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

// Issue 12: `npm run bench -- --help` and `npm run bench:intake -- --help` crashed with
// ERR_PARSE_ARGS_UNKNOWN_OPTION; dispatch:train ignored it and overwrote the seed model.
describe('the bench scripts’ command lines', () => {
  it.each(SCRIPTS)(
    '%s --help prints its usage and exits 0, doing nothing',
    async (file, mentions) => {
      const { code, out } = await exitOf([file, '--help']);
      expect(code).toBe(0);
      expect(out).toContain(mentions);
    },
    60_000,
  );

  it('an unknown option is refused with the usage and exit 2, not a stack trace', async () => {
    const { code, out } = await exitOf(['bench/run.ts', '--no-such-option']);
    expect(code).toBe(2);
    expect(out).toContain("Unknown option '--no-such-option'");
    expect(out).toContain('--only');
  }, 60_000);
});

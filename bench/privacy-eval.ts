/**
 * Recall per kind and the false-alarm rate of the bulletin's privacy guard on the privacy corpus
 * (npm run privacy:eval). A planted item counts as found when a finding of its kind covers exactly
 * its span (addresses: ends where it ends, inside it), as the unit tests require. The held-out
 * slice was written with the rest of the corpus and not run while the detector was tuned.
 */

import { findPersonalData, type PersonalDataKind } from '../core/bulletin/privacy.ts';
import {
  CLEAN,
  type CleanCase,
  PLANTED,
  type PlantedCase,
} from '../test/fixtures/privacy-corpus.ts';
import { CLEAN_MORE, PLANTED_MORE } from '../test/fixtures/privacy-corpus-more.ts';
import { HELDOUT_CLEAN, HELDOUT_PLANTED } from '../test/fixtures/privacy-heldout.ts';
import { cli } from './lib/common.ts';

cli(
  `npm run privacy:eval [-- --help]

Recall per kind and the false-alarm rate of the bulletin's privacy guard on the privacy corpus
(test/fixtures/privacy-*.ts), the held-out slice apart. No options.`,
  {},
);

interface Tally {
  planted: number;
  found: number;
}

function evaluate(name: string, planted: PlantedCase[], clean: CleanCase[]): void {
  const perKind = new Map<PersonalDataKind, Tally>();
  const missed: string[] = [];
  let extra = 0;
  for (const c of planted) {
    const findings = findPersonalData(c.text, c.known ?? {});
    const next = new Map<string, number>();
    const spans = c.planted.map((item) => {
      const start = c.text.indexOf(item.value, next.get(item.value) ?? 0);
      next.set(item.value, start + item.value.length);
      return { ...item, start, end: start + item.value.length };
    });
    const covers = (f: (typeof findings)[number], s: (typeof spans)[number]) =>
      f.kind === s.kind &&
      (s.kind === 'address'
        ? f.index + f.length === s.end && f.index >= s.start
        : f.index === s.start && f.index + f.length === s.end);
    for (const s of spans) {
      const t = perKind.get(s.kind) ?? { planted: 0, found: 0 };
      t.planted++;
      if (findings.some((f) => covers(f, s))) t.found++;
      else missed.push(`${c.id} (${s.kind})`);
      perKind.set(s.kind, t);
    }
    extra += findings.filter((f) => !spans.some((s) => covers(f, s))).length;
  }
  const flagged = clean.filter((c) => findPersonalData(c.text, c.known ?? {}).length > 0);
  const items = [...perKind.values()].reduce((a, t) => a + t.planted, 0);
  console.log(
    `\n${name}: ${planted.length} texts with ${items} planted items, ${clean.length} clean texts`,
  );
  for (const [kind, t] of [...perKind.entries()].sort()) {
    const pct = ((100 * t.found) / t.planted).toFixed(1);
    console.log(
      `  ${kind.padEnd(14)} ${String(t.found).padStart(4)}/${String(t.planted).padEnd(4)} recall ${pct}%`,
    );
  }
  console.log(`  missed: ${missed.length}${missed.length ? ` — ${missed.join(', ')}` : ''}`);
  console.log(`  extra findings in planted texts: ${extra}`);
  console.log(
    `  clean texts flagged: ${flagged.length}/${clean.length} (${((100 * flagged.length) / clean.length).toFixed(1)}%)${flagged.length ? ` — ${flagged.map((c) => c.id).join(', ')}` : ''}`,
  );
}

const started = performance.now();
findPersonalData('市民赵建军来电。');
console.log(`first call (loads the segmenter): ${(performance.now() - started).toFixed(0)} ms`);
evaluate('corpus (tuned on)', [...PLANTED, ...PLANTED_MORE], [...CLEAN, ...CLEAN_MORE]);
evaluate('held-out slice', HELDOUT_PLANTED, HELDOUT_CLEAN);

/** The few distributions the detectors need, exactly (no normal approximation at small counts). */

function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/** P(X ≥ x) for X ~ Poisson(λ): the chance of at least x tickets when λ are expected. */
export function poissonUpperTail(x: number, lambda: number): number {
  if (x <= 0) return 1;
  if (lambda <= 0) return 0;
  // 1 − P(X ≤ x − 1), summed in logs so that large λ do not underflow.
  let below = 0;
  for (let k = 0; k < x; k++) below += Math.exp(-lambda + k * Math.log(lambda) - logFactorial(k));
  return Math.max(0, 1 - below);
}

function binomialPmf(k: number, n: number, p: number): number {
  if (p <= 0) return k === 0 ? 1 : 0;
  if (p >= 1) return k === n ? 1 : 0;
  return Math.exp(
    logFactorial(n) -
      logFactorial(k) -
      logFactorial(n - k) +
      k * Math.log(p) +
      (n - k) * Math.log(1 - p),
  );
}

/**
 * Two-sided exact test that two Poisson rates are equal, by conditioning on the total: with a
 * tickets in `da` days and b in `db` days, b ~ Binomial(a + b, db / (da + db)) if nothing changed.
 * The p-value sums the outcomes no more likely than the one seen.
 */
export function rateChangePValue(a: number, da: number, b: number, db: number): number {
  const n = a + b;
  if (n === 0 || da <= 0 || db <= 0) return 1;
  const p = db / (da + db);
  const seen = binomialPmf(b, n, p);
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    const q = binomialPmf(k, n, p);
    if (q <= seen * (1 + 1e-9)) sum += q;
  }
  return Math.min(1, sum);
}

/**
 * Student's t distribution, from the regularized incomplete beta function, for the
 * p-values and confidence intervals of `compare`. Written out here rather than taken
 * from a package: it is fifty lines, and every figure the compare script prints rests on it.
 */

// Lanczos approximation, g = 7, n = 9: about 15 significant digits for x > 0.
const LANCZOS_G = 7;
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
  12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`);
  // The series loses accuracy below 1/2; the reflection formula moves the argument above it.
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** I_x(a, b), the regularized incomplete beta function, for a, b > 0 and x in [0, 1]. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`incomplete beta needs a, b > 0, got a=${a}, b=${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incomplete beta needs x in [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The continued fraction converges fast only left of the mode; right of it, use
  // I_x(a, b) = 1 - I_{1-x}(b, a). Small tails (the p-values that matter) stay on the direct side.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T <= t) for T following Student's t with `df` degrees of freedom (any real df > 0). */
export function studentTCdf(t: number, df: number): number {
  const tail = studentTUpperTail(Math.abs(t), df);
  return t >= 0 ? 1 - tail : tail;
}

/** P(|T| >= |t|): the two-sided p-value of a t statistic, computed without cancellation. */
export function studentTTwoSided(t: number, df: number): number {
  assertDf(df);
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t with P(T <= t) = p. */
export function studentTQuantile(p: number, df: number): number {
  assertDf(df);
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile needs p in (0, 1), got ${p}`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  if (p === 0.5) return 0;
  // Bisection on the upper tail, which is monotone and accurate where p is close to 1.
  const q = 1 - p;
  let low = 0;
  let high = 1;
  while (studentTUpperTail(high, df) > q) {
    low = high;
    high *= 2;
  }
  while (high - low > 1e-14 * high) {
    const mid = (low + high) / 2;
    if (studentTUpperTail(mid, df) > q) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

function studentTUpperTail(t: number, df: number): number {
  return 0.5 * studentTTwoSided(t, df);
}

function assertDf(df: number): void {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0, got ${df}`);
}

// Modified Lentz evaluation of the continued fraction for I_x(a, b) (Numerical Recipes, 6.4).
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const epsilon = 1e-15;
  const maxIterations = 10_000;
  const guard = (v: number): number => (Math.abs(v) < tiny ? tiny : v);
  let c = 1;
  let d = 1 / guard(1 - ((a + b) * x) / (a + 1));
  let h = d;
  for (let m = 1; m <= maxIterations; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 / guard(1 + even * d);
    c = guard(1 + even / c);
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 / guard(1 + odd * d);
    c = guard(1 + odd / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < epsilon) return h;
  }
  throw new RangeError(`incomplete beta did not converge for x=${x}, a=${a}, b=${b}`);
}

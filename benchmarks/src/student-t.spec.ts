import {
  logGamma,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTQuantile,
  studentTTwoSided,
} from './student-t';

// References are closed forms and identities computed independently in the test, or
// published table values; none of them go through the code under test.

function binomialUpperTail(n: number, k: number, p: number): number {
  let sum = 0;
  let choose = 1; // C(n, 0)
  for (let j = 0; j <= n; j++) {
    if (j >= k) sum += choose * p ** j * (1 - p) ** (n - j);
    choose = (choose * (n - j)) / (j + 1);
  }
  return sum;
}

// Closed forms of the t CDF for small integer degrees of freedom.
const closedFormCdf: Record<number, (t: number) => number> = {
  1: (t) => 0.5 + Math.atan(t) / Math.PI,
  2: (t) => 0.5 + t / (2 * Math.sqrt(2 + t * t)),
  3: (t) => 0.5 + (t / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(t / Math.sqrt(3))) / Math.PI,
  4: (t) => {
    const x = t / Math.sqrt(4 + t * t);
    return 0.5 + 0.75 * x * (1 - (x * x) / 3);
  },
};

describe('logGamma', () => {
  it('matches factorials at the integers', () => {
    let factorial = 1;
    for (let n = 1; n <= 30; n++) {
      expect(logGamma(n)).toBeCloseTo(Math.log(factorial), 10);
      factorial *= n;
    }
  });

  it('matches known values at fractions, including below 1/2', () => {
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(logGamma(1.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI) / 2), 13);
    expect(Math.exp(logGamma(0.1))).toBeCloseTo(9.513507698668732, 11);
    expect(logGamma(100)).toBeCloseTo(359.1342053695754, 9);
  });

  it('refuses x <= 0', () => {
    expect(() => logGamma(0)).toThrow(RangeError);
    expect(() => logGamma(-1.5)).toThrow(RangeError);
  });
});

describe('regularizedIncompleteBeta', () => {
  it('equals the binomial upper tail at integer arguments', () => {
    for (const [n, k] of [
      [10, 3],
      [20, 1],
      [20, 20],
      [50, 17],
      [7, 4],
    ]) {
      for (const p of [0.01, 0.3, 0.5, 0.77, 0.99]) {
        expect(regularizedIncompleteBeta(p, k, n - k + 1)).toBeCloseTo(binomialUpperTail(n, k, p), 12);
      }
    }
  });

  it('matches the arcsine law at a = b = 1/2', () => {
    for (const x of [0.001, 0.2, 0.5, 0.9, 0.999]) {
      expect(regularizedIncompleteBeta(x, 0.5, 0.5)).toBeCloseTo((2 / Math.PI) * Math.asin(Math.sqrt(x)), 13);
    }
  });

  it('has the closed forms at a = 1 and b = 1, the symmetry, and the end points', () => {
    expect(regularizedIncompleteBeta(0.3, 2.5, 1)).toBeCloseTo(0.3 ** 2.5, 14);
    expect(regularizedIncompleteBeta(0.3, 1, 4.5)).toBeCloseTo(1 - 0.7 ** 4.5, 14);
    expect(regularizedIncompleteBeta(0.5, 7.3, 7.3)).toBeCloseTo(0.5, 14);
    expect(
      regularizedIncompleteBeta(0.42, 3.7, 11.2) + regularizedIncompleteBeta(0.58, 11.2, 3.7),
    ).toBeCloseTo(1, 14);
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
  });

  it('keeps precision far in the tail', () => {
    // P(Bin(60, 0.5) >= 55) is about 5.2e-12: 1 - (1 - tail) would keep only four digits of it.
    const expected = binomialUpperTail(60, 55, 0.5);
    expect(regularizedIncompleteBeta(0.5, 55, 6) / expected).toBeCloseTo(1, 10);
  });

  it('refuses arguments outside its domain', () => {
    expect(() => regularizedIncompleteBeta(1.2, 1, 1)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(0.5, 0, 1)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(Number.NaN, 1, 1)).toThrow(RangeError);
  });
});

describe('studentTCdf', () => {
  it.each([1, 2, 3, 4])('matches the closed form for %i degrees of freedom', (df) => {
    for (const t of [-30, -4.1, -1, -0.25, 0, 0.25, 1, 2.5, 7, 100]) {
      expect(studentTCdf(t, df)).toBeCloseTo(closedFormCdf[df](t), 13);
    }
  });

  it('tends to the normal distribution for large df', () => {
    expect(studentTCdf(1.959963984540054, 1e7)).toBeCloseTo(0.975, 6);
  });

  it('gives the two-sided tail without cancellation', () => {
    // Cauchy: P(|T| >= t) = 1 - 2 atan(t) / pi = 2 atan(1 / t) / pi.
    expect(studentTTwoSided(1e8, 1) / ((2 * Math.atan(1e-8)) / Math.PI)).toBeCloseTo(1, 10);
    expect(studentTTwoSided(-2.5, 3)).toBeCloseTo(2 * closedFormCdf[3](-2.5), 14);
    expect(studentTTwoSided(Infinity, 5)).toBe(0);
  });
});

describe('studentTQuantile', () => {
  it('matches the closed forms for 1 and 2 degrees of freedom', () => {
    for (const p of [0.001, 0.1, 0.5, 0.9, 0.975, 0.9995]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 9);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) * Math.sqrt(2 / (4 * p * (1 - p))), 11);
    }
  });

  it('matches published table values', () => {
    expect(studentTQuantile(0.95, 5)).toBeCloseTo(2.015048, 6);
    expect(studentTQuantile(0.975, 5)).toBeCloseTo(2.570582, 6);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228139, 6);
    expect(studentTQuantile(0.995, 10)).toBeCloseTo(3.169273, 6);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272, 6);
    expect(studentTQuantile(0.025, 30)).toBeCloseTo(-2.042272, 6);
  });

  it('inverts the CDF at fractional degrees of freedom', () => {
    for (const df of [1.3, 4.7, 17.776, 250.5]) {
      for (const p of [0.01, 0.3, 0.8, 0.975]) {
        expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 12);
      }
    }
  });

  it('refuses p outside (0, 1) and df <= 0', () => {
    expect(() => studentTQuantile(1, 5)).toThrow(RangeError);
    expect(() => studentTQuantile(0, 5)).toThrow(RangeError);
    expect(() => studentTQuantile(0.9, 0)).toThrow(RangeError);
  });
});

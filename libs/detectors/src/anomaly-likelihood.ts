import { type DetectorSnapshot, type Params } from './detector';
import { ParamReader } from './params';
import { SnapshotReader } from './snapshot';

const KIND = 'anomaly-likelihood';
const VERSION = 1;

const N = 0;
const SUM = 1; // sum of the raw scores in the short window
const MEAN = 2; // EW mean of the short-window averages
const VAR = 3; // EW variance of the short-window averages
const LAST_TAIL = 4; // tail probability given to the previous point
const HEAD = 5; // next slot of the ring
const SLOTS = 6;

/** A tail this small is "red"; a run of red points is reported once (NAB's likelihood does the same). */
const RED_TAIL = 1e-5;
const REPEATED_RED_TAIL = 1e-3;
const LOG_EPSILON = 1e-10;

/**
 * Turns a stream of raw anomaly scores into how improbable the recent scores are for
 * this series: Numenta's anomaly likelihood (Ahmad et al. 2017), made O(1).
 *
 * Raw scores mean different things on different series: a noisy metric keeps its
 * detectors at 0.4, a quiet one at 0.05. The likelihood compares the average of the last
 * few raw scores with the distribution of such averages on this series (an exponentially
 * weighted Gaussian fit here, where Numenta refits a window of 8640) and reports the
 * upper tail probability on a log scale: 0.5 is a one-in-100,000 event. One threshold
 * then means the same on every series, which is what a streaming product needs and what
 * NAB's single corpus-wide threshold rewards.
 */
export class AnomalyLikelihood {
  private readonly window: number;
  private readonly rate: number;
  private readonly grace: number;
  private readonly ring: Float64Array;
  private readonly s: Float64Array;

  constructor(
    readonly params: Params = {},
    state?: { ring: Float64Array; s: Float64Array },
  ) {
    const p = new ParamReader(KIND, params);
    this.window = p.integer('likelihoodWindow', 10, 1, 1000);
    const memory = p.number('likelihoodMemory', 3000, { min: 10, max: 1e9 });
    this.grace = p.integer('likelihoodGrace', 300, 1, 1e6);
    p.done();
    this.rate = 1 / memory;
    this.ring = state?.ring ?? new Float64Array(this.window);
    this.s = state?.s ?? new Float64Array(SLOTS);
    if (!state) this.s[LAST_TAIL] = 1;
  }

  static restore(snapshot: DetectorSnapshot): AnomalyLikelihood {
    const r = new SnapshotReader(snapshot, KIND, [VERSION]);
    const window = (snapshot.params.likelihoodWindow as number | undefined) ?? 10;
    return new AnomalyLikelihood(snapshot.params, {
      ring: r.array('ring', Float64Array, window),
      s: r.array('s', Float64Array, SLOTS),
    });
  }

  /** The likelihood score in [0, 1] of `raw` arriving now. Changes nothing. */
  score(raw: number): number {
    const s = this.s;
    if (s[N] < this.grace) return 0;
    const tail = this.tail(this.average(raw));
    // Only the first of a run of red points stays red.
    const reported = tail <= RED_TAIL && s[LAST_TAIL] <= RED_TAIL ? REPEATED_RED_TAIL : tail;
    return Math.log(reported + LOG_EPSILON) / Math.log(LOG_EPSILON);
  }

  learn(raw: number): void {
    const s = this.s;
    const average = this.average(raw);
    s[LAST_TAIL] = s[N] < this.grace ? 1 : this.tail(average);
    const head = s[HEAD];
    s[SUM] += raw - this.ring[head];
    this.ring[head] = raw;
    s[HEAD] = head + 1 === this.window ? 0 : head + 1;
    // Re-add the window every lap so rounding cannot accumulate in the running sum.
    if (s[HEAD] === 0) {
      let sum = 0;
      for (let i = 0; i < this.window; i++) sum += this.ring[i];
      s[SUM] = sum;
    }
    const n = s[N];
    if (n === 0) {
      s[MEAN] = average;
    } else {
      const a = Math.max(this.rate, 1 / (n + 1));
      const diff = average - s[MEAN];
      s[MEAN] += a * diff;
      s[VAR] = (1 - a) * (s[VAR] + a * diff * diff);
    }
    s[N] = n + 1;
  }

  snapshot(): DetectorSnapshot {
    return {
      kind: KIND,
      version: VERSION,
      params: this.params,
      state: { ring: this.ring.slice(), s: this.s.slice() },
    };
  }

  private average(raw: number): number {
    const filled = Math.min(this.s[N] + 1, this.window);
    // The oldest value leaves as the new one enters.
    const leaving = this.s[N] + 1 > this.window ? this.ring[this.s[HEAD]] : 0;
    return (this.s[SUM] - leaving + raw) / filled;
  }

  private tail(average: number): number {
    const mean = Math.max(this.s[MEAN], 0.03);
    const sd = Math.sqrt(Math.max(this.s[VAR], 0.0003));
    return upperTail((average - mean) / sd);
  }
}

/** P(Z > z) for a standard normal, via erfc (Numerical Recipes' erfcc, relative error < 1.2e-7). */
export function upperTail(z: number): number {
  const x = z / Math.SQRT2;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.5 * ax);
  const erfc =
    t *
    Math.exp(
      -ax * ax -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return 0.5 * (x >= 0 ? erfc : 2 - erfc);
}

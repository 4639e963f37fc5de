import { AnomalyLikelihood } from './anomaly-likelihood';
import { BaseDetector } from './base.detector';
import { type Detector, type DetectorSnapshot, type Params } from './detector';
import { EwmaDetector } from './ewma.detector';
import { FlatlineDetector } from './flatline.detector';
import { GapDetector } from './gap.detector';
import { ParamReader } from './params';
import { RobustZScoreDetector } from './robust-zscore.detector';
import { SnapshotReader } from './snapshot';
import { SpikeDetector } from './spike.detector';

const KIND = 'ensemble';
const VERSION = 1;

const SINCE_ALARM = 0; // points since the last alarm
const ALARM_RAW = 1; // combined raw score that raised it
const SLOTS = 2;

interface Member {
  readonly role: string;
  readonly weight: number;
  readonly detector: Detector;
}

type MemberSpec = {
  role: string;
  weightParam: string;
  defaultWeight: number;
  create(): Detector;
  restore(snapshot: DetectorSnapshot): Detector;
};

const MEMBERS: readonly MemberSpec[] = [
  {
    role: 'robust',
    weightParam: 'weightRobust',
    defaultWeight: 1,
    create: () => new RobustZScoreDetector(),
    restore: (s) => RobustZScoreDetector.restore(s),
  },
  {
    role: 'ewma',
    weightParam: 'weightEwma',
    defaultWeight: 1,
    create: () => new EwmaDetector(),
    restore: (s) => EwmaDetector.restore(s),
  },
  {
    role: 'spike',
    weightParam: 'weightSpike',
    defaultWeight: 1,
    create: () => new SpikeDetector(),
    restore: (s) => SpikeDetector.restore(s),
  },
  {
    role: 'flatline',
    weightParam: 'weightFlatline',
    defaultWeight: 0.5,
    create: () => new FlatlineDetector(),
    restore: (s) => FlatlineDetector.restore(s),
  },
  {
    role: 'gap',
    weightParam: 'weightGap',
    defaultWeight: 0.25,
    create: () => new GapDetector(),
    restore: (s) => GapDetector.restore(s),
  },
];

/**
 * The engine's default detector: the members score each point, their weighted mean
 * goes through one anomaly-likelihood stage (so one threshold means the same on every
 * series), and a point far outside the recent range scores high on its own.
 *
 * After an alarm the ensemble stays quiet for a while unless the evidence grows: one
 * incident, one alert, which is what people on call want and what NAB rewards (only
 * the first detection in a window earns anything; every later one outside it costs).
 */
export class EnsembleDetector extends BaseDetector {
  readonly kind = KIND;
  private readonly members: Member[];
  private readonly totalWeight: number;
  private readonly likelihood: AnomalyLikelihood;
  private readonly spatialGain: number;
  private readonly alarmLevel: number;
  private readonly quietPoints: number;
  private readonly quietFactor: number;
  private readonly rearm: number;
  private readonly scores: Float64Array;
  private readonly s: Float64Array;

  constructor(
    readonly params: Params = {},
    restored?: { s: Float64Array; children: Record<string, DetectorSnapshot> },
  ) {
    super();
    const p = new ParamReader(KIND, params);
    const weights = MEMBERS.map((m) => p.number(m.weightParam, m.defaultWeight, { min: 0, max: 100 }));
    this.spatialGain = p.number('spatialGain', 1, { min: 0, max: 1 });
    this.alarmLevel = p.fraction('alarmLevel', 0.5);
    this.quietPoints = p.integer('quietPoints', 100, 0, 1e6);
    this.quietFactor = p.number('quietFactor', 0.5, { min: 0, max: 1 });
    this.rearm = p.number('rearm', 1.2, { min: 1, max: 100 });
    const likelihoodParams: Record<string, number> = {};
    for (const name of ['likelihoodWindow', 'likelihoodMemory', 'likelihoodGrace']) {
      const value = p.number(name, Number.NaN);
      if (!Number.isNaN(value)) likelihoodParams[name] = value;
    }
    p.done();
    this.members = MEMBERS.map((m, i) => ({
      role: m.role,
      weight: weights[i],
      detector: restored ? m.restore(restored.children[m.role]) : m.create(),
    }));
    this.totalWeight = weights.reduce((a, b) => a + b, 0) || 1;
    this.likelihood = restored
      ? AnomalyLikelihood.restore(restored.children.likelihood)
      : new AnomalyLikelihood(likelihoodParams);
    this.scores = new Float64Array(this.members.length);
    this.s = restored?.s ?? new Float64Array(SLOTS);
    if (!restored) this.s[SINCE_ALARM] = Number.MAX_SAFE_INTEGER;
  }

  static restore(snapshot: DetectorSnapshot): EnsembleDetector {
    const r = new SnapshotReader(snapshot, KIND, [VERSION]);
    const children: Record<string, DetectorSnapshot> = {};
    for (const m of MEMBERS) children[m.role] = r.child(m.role);
    children.likelihood = r.child('likelihood');
    return new EnsembleDetector(snapshot.params, { s: r.array('s', Float64Array, SLOTS), children });
  }

  score(value: number, t: number): number {
    for (let i = 0; i < this.members.length; i++) this.scores[i] = this.members[i].detector.score(value, t);
    return this.combine(false);
  }

  learn(value: number, t: number): void {
    for (let i = 0; i < this.members.length; i++) {
      this.scores[i] = this.members[i].detector.step(value, t);
    }
    this.combine(true);
  }

  override step(value: number, t: number): number {
    for (let i = 0; i < this.members.length; i++) {
      this.scores[i] = this.members[i].detector.step(value, t);
    }
    return this.combine(true);
  }

  snapshot(): DetectorSnapshot {
    const children: Record<string, DetectorSnapshot> = { likelihood: this.likelihood.snapshot() };
    for (const m of this.members) children[m.role] = m.detector.snapshot();
    return { kind: KIND, version: VERSION, params: this.params, state: { s: this.s.slice() }, children };
  }

  /** Folds the members' scores (already in `scores`) into the output; updates state when `learn`. */
  private combine(learn: boolean): number {
    let weighted = 0;
    let spatial = 0;
    for (let i = 0; i < this.members.length; i++) {
      weighted += this.members[i].weight * this.scores[i];
      if (this.members[i].role === 'spike') spatial = this.scores[i];
    }
    const raw = weighted / this.totalWeight;
    let out = Math.max(this.likelihood.score(raw), this.spatialGain * spatial);
    const s = this.s;
    const quiet = s[SINCE_ALARM] < this.quietPoints && raw < this.rearm * s[ALARM_RAW];
    if (quiet) out *= this.quietFactor;
    if (learn) {
      this.likelihood.learn(raw);
      if (out >= this.alarmLevel) {
        s[SINCE_ALARM] = 0;
        s[ALARM_RAW] = raw;
      } else if (s[SINCE_ALARM] < Number.MAX_SAFE_INTEGER) {
        s[SINCE_ALARM]++;
      }
    }
    return out;
  }
}

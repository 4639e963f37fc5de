import { AnomalyLikelihood } from './anomaly-likelihood';
import { BaseDetector } from './base.detector';
import { type DetectorSnapshot, type Params } from './detector';
import { EwmaDetector } from './ewma.detector';
import { FlatlineDetector } from './flatline.detector';
import { GapDetector } from './gap.detector';
import { ParamReader } from './params';
import { RobustZScoreDetector } from './robust-zscore.detector';
import { SeasonalDetector } from './seasonal.detector';
import { SnapshotReader } from './snapshot';
import { SpikeDetector } from './spike.detector';
import { WindowedZScoreDetector } from './windowed-zscore.detector';

const KIND = 'ensemble';
const VERSION = 1;

const SINCE_ALARM = 0; // points since the last alarm
const ALARM_RAW = 1; // deviation score that raised it
const ALARM_PATH = 2; // which path raised it: DEVIATION_PATH or EVENT_PATH
const SLOTS = 3;

const DEVIATION_PATH = 0;
const EVENT_PATH = 1;

const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * The engine's default detector, in two paths:
 *
 * - Deviation: members that measure how far a point is from what the series usually
 *   does (robust median, EWMA, a sliding window). Their weighted mean goes through one
 *   anomaly-likelihood stage, which learns how that mean usually behaves on this series,
 *   so one threshold means the same on a noisy metric and a quiet one.
 * - Events: signals that are rare and meaningful on their own (a value beyond the
 *   recently seen range, a stuck sensor, a gap in reporting). Averaging them in would
 *   dilute them and teach the likelihood that they are normal; each acts directly,
 *   scaled by its gain, and the output is the strongest of all.
 *
 * After an alarm the ensemble stays quiet for a while unless the evidence grows: one
 * incident, one alert, which is what people on call want and what NAB rewards (only
 * the first detection in a window earns anything; every later one outside it costs).
 *
 * Members are fields, not an array of interfaces: each call site then sees one class,
 * and V8 inlines it. That is most of the ensemble's speed.
 */
export class EnsembleDetector extends BaseDetector {
  readonly kind = KIND;
  private readonly robust: RobustZScoreDetector;
  private readonly ewma: EwmaDetector;
  private readonly windowed: WindowedZScoreDetector;
  private readonly seasonal: SeasonalDetector;
  private readonly wSeasonal: number;
  private readonly deseasonalise: boolean;
  private readonly spike: SpikeDetector;
  private readonly flatline: FlatlineDetector;
  private readonly gap: GapDetector;
  private readonly likelihood: AnomalyLikelihood;
  private readonly wRobust: number;
  private readonly wEwma: number;
  private readonly wWindowed: number;
  private readonly totalWeight: number;
  private readonly spatialGain: number;
  private readonly flatlineGain: number;
  private readonly gapGain: number;
  private readonly alarmLevel: number;
  private readonly quietPoints: number;
  private readonly quietFactor: number;
  private readonly rearm: number;
  private readonly s: Float64Array;
  /** The path that gave the last output; read by `step` to remember which path raised an alarm. */
  private lastPath = DEVIATION_PATH;

  constructor(
    readonly params: Params = {},
    restored?: { s: Float64Array; reader: SnapshotReader },
  ) {
    super();
    const p = new ParamReader(KIND, params);
    this.wRobust = p.number('weightRobust', 1, { min: 0, max: 100 });
    this.wEwma = p.number('weightEwma', 2, { min: 0, max: 100 });
    this.wWindowed = p.number('weightWindowed', 1, { min: 0, max: 100 });
    this.wSeasonal = p.number('weightSeasonal', 1, { min: 0, max: 100 });
    this.deseasonalise = p.boolean('deseasonalise', true);
    this.spatialGain = p.number('spatialGain', 1, { min: 0, max: 1 });
    this.flatlineGain = p.number('flatlineGain', 0.5, { min: 0, max: 1 });
    this.gapGain = p.number('gapGain', 0.5, { min: 0, max: 1 });
    this.alarmLevel = p.fraction('alarmLevel', 0.5);
    this.quietPoints = p.integer('quietPoints', 300, 0, 1e6);
    this.quietFactor = p.number('quietFactor', 0.5, { min: 0, max: 1 });
    this.rearm = p.number('rearm', 1.2, { min: 1, max: 100 });
    const likelihoodParams = {
      likelihoodWindow: p.integer('likelihoodWindow', 20, 1, 1000),
      likelihoodMemory: p.number('likelihoodMemory', 2000, { min: 10, max: 1e9 }),
      likelihoodGrace: p.integer('likelihoodGrace', 150, 1, 1e6),
    };
    p.done();
    this.totalWeight = this.wRobust + this.wEwma + this.wWindowed + this.wSeasonal;
    if (!(this.totalWeight > 0))
      throw p.invalid('weightEwma', 'and the other weights are all zero: nothing to score');
    const r = restored?.reader;
    this.robust = r ? RobustZScoreDetector.restore(r.child('robust')) : new RobustZScoreDetector();
    this.ewma = r ? EwmaDetector.restore(r.child('ewma')) : new EwmaDetector();
    this.windowed = r ? WindowedZScoreDetector.restore(r.child('windowed')) : new WindowedZScoreDetector();
    this.seasonal = r ? SeasonalDetector.restore(r.child('seasonal')) : new SeasonalDetector();
    this.spike = r ? SpikeDetector.restore(r.child('spike')) : new SpikeDetector();
    this.flatline = r ? FlatlineDetector.restore(r.child('flatline')) : new FlatlineDetector();
    this.gap = r ? GapDetector.restore(r.child('gap')) : new GapDetector();
    this.likelihood = r
      ? AnomalyLikelihood.restore(r.child('likelihood'))
      : new AnomalyLikelihood(likelihoodParams);
    this.s = restored?.s ?? new Float64Array(SLOTS);
    if (!restored) this.s[SINCE_ALARM] = NEVER;
  }

  static restore(snapshot: DetectorSnapshot): EnsembleDetector {
    const reader = new SnapshotReader(snapshot, KIND, [VERSION]);
    return new EnsembleDetector(snapshot.params, { s: reader.array('s', Float64Array, SLOTS), reader });
  }

  score(value: number, t: number): number {
    const adjusted = this.deseasonalise ? value - this.seasonal.seasonalOffset(t) : value;
    const deviation =
      (this.wRobust * this.robust.score(adjusted, t) +
        this.wEwma * this.ewma.score(adjusted, t) +
        this.wWindowed * this.windowed.score(adjusted) +
        this.wSeasonal * this.seasonal.score(value, t)) /
      this.totalWeight;
    const events = this.events(
      this.spike.score(value, t),
      this.flatline.score(value, t),
      this.gap.score(value, t),
    );
    return this.combine(deviation, events);
  }

  learn(value: number, t: number): void {
    this.step(value, t);
  }

  override step(value: number, t: number): number {
    // The offset is read before the seasonal model learns this point: no lookahead.
    const adjusted = this.deseasonalise ? value - this.seasonal.seasonalOffset(t) : value;
    const deviation =
      (this.wRobust * this.robust.step(adjusted, t) +
        this.wEwma * this.ewma.step(adjusted, t) +
        this.wWindowed * this.windowed.step(adjusted, t) +
        this.wSeasonal * this.seasonal.step(value, t)) /
      this.totalWeight;
    const events = this.events(
      this.spike.step(value, t),
      this.flatline.step(value, t),
      this.gap.step(value, t),
    );
    const out = this.combine(deviation, events);
    this.likelihood.learn(deviation);
    const s = this.s;
    if (out >= this.alarmLevel) {
      s[SINCE_ALARM] = 0;
      s[ALARM_RAW] = deviation;
      s[ALARM_PATH] = this.lastPath;
    } else if (s[SINCE_ALARM] < NEVER) {
      s[SINCE_ALARM]++;
    }
    return out;
  }

  snapshot(): DetectorSnapshot {
    return {
      kind: KIND,
      version: VERSION,
      params: this.params,
      state: { s: this.s.slice() },
      children: {
        robust: this.robust.snapshot(),
        ewma: this.ewma.snapshot(),
        windowed: this.windowed.snapshot(),
        seasonal: this.seasonal.snapshot(),
        spike: this.spike.snapshot(),
        flatline: this.flatline.snapshot(),
        gap: this.gap.snapshot(),
        likelihood: this.likelihood.snapshot(),
      },
    };
  }

  private events(spike: number, flatline: number, gap: number): number {
    return Math.max(this.spatialGain * spike, this.flatlineGain * flatline, this.gapGain * gap);
  }

  /** The output for a point, before any state changes: likelihood or event, damped after an alarm. */
  private combine(deviation: number, events: number): number {
    const likely = this.likelihood.score(deviation);
    const out = Math.max(likely, events);
    const s = this.s;
    // The quiet after an alarm silences repeats of that incident: the same path firing
    // again without stronger evidence. The other path firing is another incident (a level
    // shift after a spike), and is reported.
    const path = events >= likely ? EVENT_PATH : DEVIATION_PATH;
    this.lastPath = path;
    const quiet =
      s[SINCE_ALARM] < this.quietPoints && path === s[ALARM_PATH] && deviation < this.rearm * s[ALARM_RAW];
    return quiet ? out * this.quietFactor : out;
  }
}

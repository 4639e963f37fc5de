import { type AlertReplay } from './alert-replay';
import { type LabelWindow } from './scorer';

/** Index of the window holding `ts` (both ends included), -1 when none does. Windows sorted, apart. */
export function windowOf(windows: readonly LabelWindow[], ts: number): number {
  let lo = 0;
  let hi = windows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ts < windows[mid].start) hi = mid - 1;
    else if (ts > windows[mid].end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Alerts of one arm: inside a labelled window (tp) or not (fp), and the windows with one at least. */
export interface ArmCounts {
  alerts: number;
  tp: number;
  fp: number;
  windowsDetected: number;
}

export interface FeedbackArmCounts extends ArmCounts {
  /** Anomalies feedback kept from alerting. */
  suppressed: number;
  labels: { falsePositive: number; truePositive: number };
}

/** The feedback benchmark's figures for a file, or summed over files. */
export interface FeedbackTally {
  windows: number;
  /** Anomalies the engine emitted: the same in both arms, for the detector never hears of feedback. */
  anomalies: number;
  withoutFeedback: ArmCounts;
  withFeedback: FeedbackArmCounts;
  /** False-positive alerts without feedback less those with it. */
  fpRemoved: number;
  /** fpRemoved over the false-positive alerts without feedback, in percent; null when there were none. */
  fpRemovedPercent: number | null;
  tpRemoved: number;
  /** Windows detected without feedback and not with it. */
  windowsLost: number;
  /** Windows detected with feedback and not without it (an incident not held open by a suppressed anomaly). */
  windowsGained: number;
}

export interface FileFeedbackTally extends FeedbackTally {
  readonly name: string;
}

/** Counts one file's two arms: the alert path without feedback, and with the operator's. */
export function tallyFile(
  name: string,
  windows: number,
  anomalies: number,
  without: AlertReplay,
  withFeedback: AlertReplay,
): FileFeedbackTally {
  const before = detected(without);
  const after = detected(withFeedback);
  const a = armCounts(without, before);
  const b = armCounts(withFeedback, after);
  return {
    name,
    ...derived(windows, anomalies, a, {
      ...b,
      suppressed: withFeedback.suppressed,
      labels: { ...withFeedback.labels },
    }),
    windowsLost: [...before].filter((w) => !after.has(w)).length,
    windowsGained: [...after].filter((w) => !before.has(w)).length,
  };
}

/** The files' figures summed, the percentage taken over the sums. */
export function totalOf(files: readonly FeedbackTally[]): FeedbackTally {
  const arm = (): ArmCounts => ({ alerts: 0, tp: 0, fp: 0, windowsDetected: 0 });
  const without = arm();
  const withFeedback: FeedbackArmCounts = {
    ...arm(),
    suppressed: 0,
    labels: { falsePositive: 0, truePositive: 0 },
  };
  let windows = 0;
  let anomalies = 0;
  let windowsLost = 0;
  let windowsGained = 0;
  for (const f of files) {
    windows += f.windows;
    anomalies += f.anomalies;
    windowsLost += f.windowsLost;
    windowsGained += f.windowsGained;
    for (const key of ['alerts', 'tp', 'fp', 'windowsDetected'] as const) {
      without[key] += f.withoutFeedback[key];
      withFeedback[key] += f.withFeedback[key];
    }
    withFeedback.suppressed += f.withFeedback.suppressed;
    withFeedback.labels.falsePositive += f.withFeedback.labels.falsePositive;
    withFeedback.labels.truePositive += f.withFeedback.labels.truePositive;
  }
  return { ...derived(windows, anomalies, without, withFeedback), windowsLost, windowsGained };
}

function detected(replay: AlertReplay): Set<number> {
  return new Set(replay.alerts.filter((a) => a.window >= 0).map((a) => a.window));
}

function armCounts(replay: AlertReplay, windows: ReadonlySet<number>): ArmCounts {
  const tp = replay.alerts.filter((a) => a.window >= 0).length;
  return { alerts: replay.alerts.length, tp, fp: replay.alerts.length - tp, windowsDetected: windows.size };
}

function derived(
  windows: number,
  anomalies: number,
  withoutFeedback: ArmCounts,
  withFeedback: FeedbackArmCounts,
): Omit<FeedbackTally, 'windowsLost' | 'windowsGained'> {
  const fpRemoved = withoutFeedback.fp - withFeedback.fp;
  return {
    windows,
    anomalies,
    withoutFeedback,
    withFeedback,
    fpRemoved,
    fpRemovedPercent: withoutFeedback.fp > 0 ? (100 * fpRemoved) / withoutFeedback.fp : null,
    tpRemoved: withoutFeedback.tp - withFeedback.tp,
  };
}

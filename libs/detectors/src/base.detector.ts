import { type Detector, type DetectorSnapshot } from './detector';

/** Supplies `step` as score-then-learn; detectors that can fuse the two override it. */
export abstract class BaseDetector implements Detector {
  abstract readonly kind: string;
  abstract learn(value: number, t: number): void;
  abstract score(value: number, t: number): number;
  abstract snapshot(): DetectorSnapshot;

  step(value: number, t: number): number {
    const s = this.score(value, t);
    this.learn(value, t);
    return s;
  }
}

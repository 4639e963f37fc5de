import { DetectorError, DetectorErrorCode } from './errors';

/**
 * The gate in front of every detector: detectors assume finite values and times, so
 * NaN and Infinity are refused here, with the field named, before they can poison state.
 */
export function assertFinitePoint(value: number, t: number): void {
  if (!Number.isFinite(value)) {
    throw new DetectorError(DetectorErrorCode.INVALID_POINT, `value must be a finite number, got ${value}`);
  }
  if (!Number.isFinite(t)) {
    throw new DetectorError(DetectorErrorCode.INVALID_POINT, `timestamp must be a finite number, got ${t}`);
  }
}

import { DetectorError, DetectorErrorCode } from './errors';
import { type Params, type ParamValue } from './detector';

/**
 * Parameter validation done once, at construction: a detector reads its options
 * through these helpers and every bad value fails with the parameter's name.
 */
export class ParamReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly kind: string,
    private readonly input: Params,
  ) {}

  number(
    name: string,
    fallback: number,
    range: { min?: number; max?: number; integer?: boolean } = {},
  ): number {
    this.seen.add(name);
    const raw = this.input[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'number' || !Number.isFinite(raw)) {
      throw this.error(name, `must be a finite number, got ${describe(raw)}`);
    }
    if (range.integer && !Number.isInteger(raw)) throw this.error(name, `must be an integer, got ${raw}`);
    if (range.min !== undefined && raw < range.min)
      throw this.error(name, `must be >= ${range.min}, got ${raw}`);
    if (range.max !== undefined && raw > range.max)
      throw this.error(name, `must be <= ${range.max}, got ${raw}`);
    return raw;
  }

  /** A number in an open interval (low, high), for rates and probabilities. */
  fraction(name: string, fallback: number, low = 0, high = 1): number {
    const value = this.number(name, fallback);
    if (!(value > low && value < high)) throw this.error(name, `must be in (${low}, ${high}), got ${value}`);
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    return this.number(name, fallback, { min, max, integer: true });
  }

  boolean(name: string, fallback: boolean): boolean {
    this.seen.add(name);
    const raw = this.input[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'boolean') throw this.error(name, `must be true or false, got ${describe(raw)}`);
    return raw;
  }

  /** Call after reading every parameter: a misspelt option is an error, not a silent default. */
  done(): void {
    for (const name of Object.keys(this.input)) {
      if (!this.seen.has(name)) throw this.error(name, 'is not a parameter of this detector');
    }
  }

  /** For checks across parameters: the error to throw, naming the parameter at fault. */
  invalid(name: string, why: string): DetectorError {
    return this.error(name, why);
  }

  private error(name: string, why: string): DetectorError {
    return new DetectorError(DetectorErrorCode.INVALID_PARAMETER, `${this.kind}: parameter '${name}' ${why}`);
  }
}

function describe(value: ParamValue | undefined): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

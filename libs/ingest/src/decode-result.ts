import { type Point } from './point';

/**
 * One refused input. `index` locates it in the request (a point's index for JSON, a line
 * number for Influx line protocol, a series' index for remote_write) and `error` starts
 * with the field at fault, e.g. `points[3].value: must be a finite number, got "NaN"`.
 */
export interface Rejection {
  readonly index: number;
  readonly error: string;
}

/**
 * What a decoder made of one request body. Its bad parts are in `rejected`, and the
 * points around them are still in `points`. `skipped` counts inputs that are
 * deliberately not points and not errors either: Prometheus' stale markers and Influx
 * string fields.
 */
export interface DecodeResult {
  readonly points: Point[];
  readonly rejected: Rejection[];
  readonly skipped: number;
  /**
   * For each point, the `index` a rejection of it would carry (its place in the JSON
   * array, its Influx line, its remote_write series): so a limit applied after decoding
   * (a tenant's series limit) names the input the user sent.
   */
  readonly origins: number[];
}

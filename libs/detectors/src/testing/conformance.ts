import { type Detector, type DetectorSnapshot, type Params } from '../detector';
import { decodeSnapshot, encodeSnapshot } from '../codec';
import { DetectorError, DetectorErrorCode } from '../errors';
import { constantSeries, extremeSeries, mixedSeries, type TestPoint } from './series';

export interface ConformanceSubject {
  kind: string;
  create(params?: Params): Detector;
  restore(snapshot: DetectorSnapshot): Detector;
  /** Parameter sets that must be refused, each with the parameter the error must name. */
  badParams: Array<{ params: Params; names: string }>;
  /** Snapshots in older layouts that must still load (empty while there is only one version). */
  oldSnapshots?: Array<{ version: number; snapshot: () => DetectorSnapshot }>;
  /** Upper bound on the encoded state, in bytes. */
  maxStateBytes: number;
  /** Points in the conformance series; lower it only for slow detectors. */
  length?: number;
}

function run(detector: Detector, points: TestPoint[]): number[] {
  return points.map((p) => detector.step(p.value, p.t));
}

/**
 * The contract every detector keeps, checked the same way for all of them (the
 * "one shared conformance test" of river): determinism, no lookahead, a pure
 * `score`, snapshot round trips, versioned restore, bounded state, scores in [0, 1],
 * and parameters refused with their name.
 */
export function describeConformance(subject: ConformanceSubject): void {
  const length = subject.length ?? 6000;
  const series = mixedSeries(length, 7);

  describe(`${subject.kind} conformance`, () => {
    it('is deterministic: two fresh instances give identical scores', () => {
      expect(run(subject.create(), series)).toEqual(run(subject.create(), series));
    });

    it('never looks ahead: appending points does not change earlier scores', () => {
      const full = run(subject.create(), series);
      const prefix = run(subject.create(), series.slice(0, Math.floor(length / 3)));
      expect(full.slice(0, prefix.length)).toEqual(prefix);
    });

    it('scores without learning: score is pure and step equals score then learn', () => {
      const a = subject.create();
      const b = subject.create();
      const first: number[] = [];
      const again: number[] = [];
      const stepped: number[] = [];
      for (const p of series.slice(0, Math.min(length, 3000))) {
        first.push(a.score(p.value, p.t));
        again.push(a.score(p.value, p.t));
        a.learn(p.value, p.t);
        stepped.push(b.step(p.value, p.t));
      }
      expect(again).toEqual(first);
      expect(stepped).toEqual(first);
    });

    it('round-trips a snapshot, in memory and through the binary codec', () => {
      const cut = Math.floor(length / 2);
      const original = subject.create();
      run(original, series.slice(0, cut));
      const snapshot = original.snapshot();
      const fromObject = subject.restore(snapshot);
      const fromBytes = subject.restore(decodeSnapshot(encodeSnapshot(snapshot)));
      const rest = series.slice(cut);
      const expected = run(original, rest);
      expect(run(fromObject, rest)).toEqual(expected);
      expect(run(fromBytes, rest)).toEqual(expected);
      // The snapshot is a copy: the live detector moving on did not change it.
      expect(encodeSnapshot(snapshot)).toEqual(encodeSnapshot(subject.restore(snapshot).snapshot()));
    });

    it('refuses snapshots of an unknown version or another kind, clearly', () => {
      const snapshot = subject.create().snapshot();
      expect(() => subject.restore({ ...snapshot, version: snapshot.version + 1000 })).toThrow(
        expect.objectContaining({ code: DetectorErrorCode.UNSUPPORTED_SNAPSHOT }),
      );
      expect(() => subject.restore({ ...snapshot, kind: `${snapshot.kind}-other` })).toThrow(DetectorError);
    });

    for (const old of subject.oldSnapshots ?? []) {
      it(`loads snapshots of version ${old.version}`, () => {
        const restored = subject.restore(old.snapshot());
        const scores = run(restored, series.slice(0, 200));
        for (const s of scores) expect(s).toBeGreaterThanOrEqual(0);
      });
    }

    it('keeps its state bounded and independent of how many points it saw', () => {
      const a = subject.create();
      run(a, series.slice(0, Math.floor(length / 3)));
      const early = encodeSnapshot(a.snapshot()).byteLength;
      run(a, series.slice(Math.floor(length / 3)));
      run(a, series);
      const late = encodeSnapshot(a.snapshot()).byteLength;
      expect(late).toBe(early);
      expect(late).toBeLessThanOrEqual(subject.maxStateBytes);
    });

    it('scores every point in [0, 1], on ordinary, constant and extreme input', () => {
      for (const points of [series, constantSeries(2000), extremeSeries()]) {
        const outside = run(subject.create(), points).filter((s) => !(s >= 0 && s <= 1));
        expect(outside).toEqual([]);
      }
    });

    it('refuses bad parameters at construction, naming the parameter', () => {
      const cases = [...subject.badParams, { params: { noSuchParameter: 1 }, names: 'noSuchParameter' }];
      for (const { params, names } of cases) {
        let error: unknown;
        try {
          subject.create(params);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DetectorError);
        expect((error as DetectorError).code).toBe(DetectorErrorCode.INVALID_PARAMETER);
        expect((error as DetectorError).message).toContain(`'${names}'`);
      }
    });
  });
}

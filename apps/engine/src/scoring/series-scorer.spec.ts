import { createDetector, DetectorError } from '@seismo/detectors';
import { CONTEXT_POINTS, SeriesScorer, SeriesScorerError } from './series-scorer';

describe('SeriesScorer', () => {
  it('keeps one detector per series, so interleaved series score as if each were alone', () => {
    const scorer = new SeriesScorer();
    const alone = { a: createDetector(), b: createDetector() };
    for (let i = 0; i < 2000; i++) {
      const t = i * 60_000;
      const a = 10 + Math.sin(i / 10) + (i === 1500 ? 30 : 0);
      const b = 1000 - i;
      expect(scorer.score('cpu{host="a"}', a, t)).toBe(alone.a.step(a, t));
      expect(scorer.score('queue{host="b"}', b, t)).toBe(alone.b.step(b, t));
    }
    expect(scorer.seriesCount).toBe(2);
    // Fixed-size states: the count times one, which is the sum of every encoding.
    const encoded = scorer.takeChanged(true).reduce((sum, s) => sum + s.state.byteLength, 0);
    expect(scorer.stateBytes()).toBe(encoded);
    expect(new SeriesScorer().stateBytes()).toBe(0);
  });

  it('refuses new series beyond the limit while known ones keep flowing', () => {
    const scorer = new SeriesScorer({ maxSeries: 2 });
    scorer.score('a', 1, 0);
    scorer.score('b', 1, 0);
    expect(() => scorer.score('c', 1, 0)).toThrow(SeriesScorerError);
    expect(() => scorer.score('a', 2, 1)).not.toThrow();
  });

  it('refuses NaN and Infinity before they reach a detector', () => {
    const scorer = new SeriesScorer();
    expect(() => scorer.score('a', Number.NaN, 0)).toThrow(/value/);
    expect(() => scorer.score('a', 1, Number.POSITIVE_INFINITY)).toThrow(/timestamp/);
    expect(scorer.seriesCount).toBe(0);
  });

  it('keeps the last points of each series as its context, the latest last', () => {
    const scorer = new SeriesScorer();
    expect(scorer.context('cpu')).toEqual({ ts: [], values: [] });
    for (let i = 0; i < 3; i++) scorer.score('cpu', i * 10, i);
    expect(scorer.context('cpu')).toEqual({ ts: [0, 1, 2], values: [0, 10, 20] });
    for (let i = 3; i < 40; i++) scorer.score('cpu', i * 10, i);
    const context = scorer.context('cpu');
    expect(context.ts).toEqual(Array.from({ length: CONTEXT_POINTS }, (_, k) => 40 - CONTEXT_POINTS + k));
    expect(context.values).toEqual(context.ts.map((t) => t * 10));
  });

  it('hands out the state of the series changed since the last time, and all of them when asked', () => {
    const scorer = new SeriesScorer();
    scorer.score('a', 1, 0);
    scorer.score('b', 1, 0);
    expect(names(scorer.takeChanged())).toEqual(['a', 'b']);
    expect(scorer.takeChanged()).toEqual([]);
    scorer.score('b', 2, 1);
    expect(names(scorer.takeChanged())).toEqual(['b']);
    expect(names(scorer.takeChanged(true))).toEqual(['a', 'b']);
  });

  it('restores a series so that it scores the next points exactly as if it had never stopped', () => {
    const original = new SeriesScorer();
    const value = (i: number) => 50 + 10 * Math.sin(i / 12) + (i === 700 ? 40 : 0);
    for (let i = 0; i < 500; i++) original.score('cpu', value(i), i * 60_000);
    const restored = new SeriesScorer();
    for (const { series, state } of original.takeChanged()) restored.restore(series, state);
    expect(restored.context('cpu')).toEqual(original.context('cpu'));
    for (let i = 500; i < 800; i++) {
      expect(restored.score('cpu', value(i), i * 60_000)).toBe(original.score('cpu', value(i), i * 60_000));
    }
  });

  it('refuses a corrupt checkpoint, naming the series', () => {
    const scorer = new SeriesScorer();
    expect(() => scorer.restore('cpu', new Uint8Array([1, 2, 3]))).toThrow(/series 'cpu'/);
    const other = new SeriesScorer();
    other.score('x', 1, 0);
    const [{ state }] = other.takeChanged();
    expect(() => scorer.restore('cpu', state.subarray(0, state.length - 8))).toThrow(SeriesScorerError);
  });

  it('fails at construction on an unknown detector', () => {
    expect(() => new SeriesScorer({ detector: 'nope' })).toThrow(DetectorError);
  });
});

function names(states: ReadonlyArray<{ series: string }>): string[] {
  return states.map((s) => s.series).sort();
}

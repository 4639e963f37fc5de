import { createDetector, DetectorError } from '@seismo/detectors';
import { SeriesScorer, SeriesScorerError } from './series-scorer';

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
    expect(scorer.stateBytes()).toBeGreaterThan(0);
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

  it('fails at construction on an unknown detector', () => {
    expect(() => new SeriesScorer({ detector: 'nope' })).toThrow(DetectorError);
  });
});

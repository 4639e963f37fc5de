import { checkedPolicy, DEFAULT_OPERATOR_POLICY, SimulatedOperator } from './feedback-operator';

describe('SimulatedOperator', () => {
  it('labels the first K false positives of each series, and every true positive', () => {
    const operator = new SimulatedOperator({ falsePositiveLabels: 2, labelTruePositives: true, delayMs: 0 });
    const fp = (series: string, at: number) => operator.judge({ series, at, inWindow: false })?.label;
    expect([fp('a', 1), fp('a', 2), fp('a', 3), fp('b', 4), fp('a', 5)]).toEqual([
      'false_positive',
      'false_positive',
      undefined,
      'false_positive',
      undefined,
    ]);
    for (let at = 10; at < 15; at++) {
      expect(operator.judge({ series: 'a', at, inWindow: true })).toEqual({ label: 'true_positive', at });
    }
  });

  it('gives each label delayMs after its alert', () => {
    const operator = new SimulatedOperator({ ...DEFAULT_OPERATOR_POLICY, delayMs: 60_000 });
    expect(operator.judge({ series: 'a', at: 1000, inWindow: false })).toEqual({
      label: 'false_positive',
      at: 61_000,
    });
  });

  it('labels every false positive with Infinity, none with 0, and no true positive when told not to', () => {
    const all = new SimulatedOperator({
      falsePositiveLabels: Infinity,
      labelTruePositives: false,
      delayMs: 0,
    });
    const none = new SimulatedOperator({ falsePositiveLabels: 0, labelTruePositives: false, delayMs: 0 });
    for (let at = 0; at < 100; at++) {
      expect(all.judge({ series: 'a', at, inWindow: false })?.label).toBe('false_positive');
      expect(none.judge({ series: 'a', at, inWindow: false })).toBeUndefined();
      expect(all.judge({ series: 'a', at, inWindow: true })).toBeUndefined();
    }
  });

  it('refuses a policy it cannot follow, naming the field', () => {
    expect(() => checkedPolicy({ ...DEFAULT_OPERATOR_POLICY, falsePositiveLabels: 1.5 })).toThrow(
      /falsePositiveLabels/,
    );
    expect(() => checkedPolicy({ ...DEFAULT_OPERATOR_POLICY, falsePositiveLabels: -1 })).toThrow(
      /falsePositiveLabels/,
    );
    expect(() => checkedPolicy({ ...DEFAULT_OPERATOR_POLICY, delayMs: Number.NaN })).toThrow(/delayMs/);
  });
});

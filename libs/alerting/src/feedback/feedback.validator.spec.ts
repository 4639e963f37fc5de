import { validateFeedback } from './feedback.validator';

function fieldOf(input: unknown): string | undefined {
  try {
    validateFeedback(input);
  } catch (error) {
    return (error as { field?: string }).field;
  }
  return undefined;
}

describe('validateFeedback', () => {
  it('takes a label and an optional note', () => {
    expect(validateFeedback({ label: 'expected', note: 'deploy' })).toEqual({
      label: 'expected',
      note: 'deploy',
    });
    expect(validateFeedback({ label: 'true_positive' })).toEqual({ label: 'true_positive' });
  });

  it('names the field at fault', () => {
    expect(fieldOf({ label: 'maybe' })).toBe('label');
    expect(fieldOf({})).toBe('label');
    expect(fieldOf({ label: 'expected', extra: 1 })).toBe('extra');
    expect(fieldOf({ label: 'expected', note: 'x'.repeat(1001) })).toBe('note');
    expect(fieldOf({ label: 'expected', note: 3 })).toBe('note');
    expect(fieldOf([])).toBe('body');
    expect(fieldOf({ label: 'expected', note: 'x'.repeat(1000) })).toBeUndefined();
  });
});

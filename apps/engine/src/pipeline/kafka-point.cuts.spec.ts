import { cutAt, decodeCuts, encodeCuts, MAX_PENDING_CUTS } from './kafka-point.cuts';

describe('Kafka batch cuts', () => {
  it('cuts full blocks at multiples of maxBatchMessages, whatever the fetch returned', () => {
    expect(cutAt(0, 100, [], 4)).toEqual({ kind: 'deliver', end: 3, record: false });
    expect(cutAt(5, 100, [], 4)).toEqual({ kind: 'deliver', end: 7, record: false });
    expect(cutAt(8, 11, [], 4)).toEqual({ kind: 'deliver', end: 11, record: false });
  });

  it('records a batch that ends inside its block, and cuts there again on a replay', () => {
    expect(cutAt(4, 5, [], 4)).toEqual({ kind: 'deliver', end: 5, record: true });
    // The replay finds more messages (up to 9) and still ends at the recorded 5.
    expect(cutAt(4, 9, [5], 4)).toEqual({ kind: 'deliver', end: 5, record: false });
    // Then the rest of the block, aligned again.
    expect(cutAt(6, 9, [5], 4)).toEqual({ kind: 'deliver', end: 7, record: false });
  });

  it('waits for messages up to a recorded cut rather than cut short of it', () => {
    expect(cutAt(4, 4, [5], 4)).toEqual({ kind: 'wait' });
  });

  it('ignores a recorded cut of a later block', () => {
    expect(cutAt(0, 2, [9], 4)).toEqual({ kind: 'deliver', end: 2, record: true });
  });

  it('stops adding partial cuts once too many are pending', () => {
    const cuts = Array.from({ length: MAX_PENDING_CUTS }, (_, i) => i * 4);
    const start = MAX_PENDING_CUTS * 4;
    expect(cutAt(start, start + 1, cuts, 4)).toEqual({ kind: 'wait' });
    expect(cutAt(start, start + 3, cuts, 4)).toEqual({ kind: 'deliver', end: start + 3, record: false });
  });

  it('round-trips through commit metadata, which other writers may have filled', () => {
    expect(decodeCuts(encodeCuts([3, 17]))).toEqual([3, 17]);
    expect(decodeCuts(encodeCuts([]))).toEqual([]);
    expect(decodeCuts(null)).toEqual([]);
    expect(decodeCuts('')).toEqual([]);
    expect(decodeCuts('written by some tool')).toEqual([]);
    expect(() => decodeCuts('seismo-cuts/1:3,x')).toThrow(/other than offsets/);
    expect(encodeCuts(Array.from({ length: MAX_PENDING_CUTS }, () => 2 ** 53 - 1)).length).toBeLessThan(4096);
  });
});

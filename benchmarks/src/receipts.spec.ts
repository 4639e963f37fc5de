import { type Injection, matchAlertReceipts, matchDeliveryReceipts } from './receipts';

describe('matchDeliveryReceipts', () => {
  const enqueued = new Map([
    ['dlv_a', 100],
    ['dlv_b', 100],
    ['dlv_c', 130],
  ]);

  it('times each delivery from its enqueue to its first receipt, in enqueue order', () => {
    const match = matchDeliveryReceipts(enqueued, [
      { deliveryId: 'dlv_c', at: 140 },
      { deliveryId: 'dlv_a', at: 112 },
      { deliveryId: 'dlv_b', at: 160 },
    ]);
    expect(match).toEqual({
      latencies: [12, 60, 10],
      received: 3,
      missing: 0,
      duplicates: 0,
      unknown: 0,
      lastAt: 160,
    });
  });

  it('counts a delivery received twice once, with its first receipt, and the second as a duplicate', () => {
    const match = matchDeliveryReceipts(enqueued, [
      { deliveryId: 'dlv_a', at: 110 },
      { deliveryId: 'dlv_a', at: 500 },
    ]);
    expect(match).toMatchObject({ latencies: [10], received: 1, missing: 2, duplicates: 1, lastAt: 110 });
  });

  it('leaves out receipts of deliveries nobody enqueued, and has no last receipt when none arrived', () => {
    const match = matchDeliveryReceipts(enqueued, [{ deliveryId: 'dlv_z', at: 120 }]);
    expect(match).toEqual({
      latencies: [],
      received: 0,
      missing: 3,
      duplicates: 0,
      unknown: 1,
      lastAt: undefined,
    });
  });
});

describe('matchAlertReceipts', () => {
  const SPIKE = Date.parse('2026-12-06T10:00:00.000Z');
  const injections: Injection[] = [
    { series: 'probe{probe="00000"}', ts: SPIKE, sentAt: 1000 },
    { series: 'probe{probe="00001"}', ts: SPIKE, sentAt: 1100 },
  ];
  const body = (series: string, ts: number, kind = 'anomaly'): string =>
    JSON.stringify({
      v: 1,
      kind,
      state: 'opened',
      series: [{ series, metric: 'probe', labels: {}, ts: new Date(ts).toISOString(), value: 2, score: 1 }],
      anomaly_ids: ['an_1'],
    });

  it('times each injection from its request to the first receipt naming its series at its point', () => {
    const match = matchAlertReceipts(injections, [
      { at: 1250, body: body('probe{probe="00001"}', SPIKE) },
      { at: 1080, body: body('probe{probe="00000"}', SPIKE) },
    ]);
    expect(match).toEqual({
      latencies: [80, 150],
      received: 2,
      missing: 0,
      repeats: 0,
      others: 0,
      unreadable: 0,
    });
  });

  it('does not take another point of the series, another series or a no_data incident for it', () => {
    const match = matchAlertReceipts(injections, [
      { at: 1010, body: body('probe{probe="00000"}', SPIKE - 1000) },
      { at: 1020, body: body('cpu{host="a"}', SPIKE) },
      { at: 1030, body: body('probe{probe="00000"}', SPIKE, 'no_data') },
    ]);
    expect(match).toMatchObject({ received: 0, missing: 2, others: 3 });
  });

  it('counts later receipts naming an injection as repeats, and finds it among several series', () => {
    const both = JSON.stringify({
      kind: 'anomaly',
      series: [
        { series: 'cpu{host="a"}', ts: new Date(SPIKE).toISOString() },
        { series: 'probe{probe="00001"}', ts: new Date(SPIKE).toISOString() },
      ],
    });
    const match = matchAlertReceipts(injections, [
      { at: 1200, body: both },
      { at: 1900, body: body('probe{probe="00001"}', SPIKE) },
    ]);
    expect(match).toMatchObject({ latencies: [100], received: 1, missing: 1, repeats: 1, others: 0 });
  });

  it('counts a body that is not a webhook body as unreadable', () => {
    const match = matchAlertReceipts(injections, [
      { at: 1, body: 'not json' },
      { at: 2, body: '{"kind":"anomaly"}' },
      { at: 3, body: 'null' },
    ]);
    expect(match).toMatchObject({ received: 0, unreadable: 3, others: 0 });
  });
});

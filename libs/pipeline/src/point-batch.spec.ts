import fc from 'fast-check';
import { type PointBatch, PointBatchBuilder, splitByPartition } from './point-batch';

/** The reference: one builder per partition, fed point by point. */
function splitByBuilders(
  batch: PointBatch,
  partitionOfSeries: readonly number[],
  skip: ReadonlySet<number>,
): Array<{ partition: number; batch: PointBatch }> {
  const builders = new Map<number, PointBatchBuilder>();
  for (let i = 0; i < batch.t.length; i++) {
    if (skip.has(i)) continue;
    const s = batch.seriesIndex[i];
    const partition = partitionOfSeries[s];
    let builder = builders.get(partition);
    if (!builder) {
      builder = new PointBatchBuilder(batch.tenant);
      builders.set(partition, builder);
    }
    builder.add(batch.series[s], batch.t[i], batch.value[i]);
  }
  return [...builders].map(([partition, builder]) => ({ partition, batch: builder.build() }));
}

function plain(shares: ReadonlyArray<{ partition: number; batch: PointBatch }>): unknown {
  return shares.map(({ partition, batch }) => ({
    partition,
    tenant: batch.tenant,
    series: batch.series,
    t: Array.from(batch.t),
    value: Array.from(batch.value),
    seriesIndex: Array.from(batch.seriesIndex),
  }));
}

describe('splitByPartition', () => {
  it('cuts a batch exactly as one builder per partition fed point by point would', () => {
    const input = fc.integer({ min: 1, max: 12 }).chain((seriesCount) =>
      fc.record({
        partitions: fc.array(fc.integer({ min: 0, max: 5 }), {
          minLength: seriesCount,
          maxLength: seriesCount,
        }),
        points: fc.array(fc.tuple(fc.nat(seriesCount - 1), fc.integer(), fc.double()), { maxLength: 80 }),
        skip: fc.array(fc.nat(79), { maxLength: 10 }),
      }),
    );
    fc.assert(
      fc.property(input, ({ partitions, points, skip }) => {
        const builder = new PointBatchBuilder('acme');
        for (let s = 0; s < partitions.length; s++) builder.add(`s${s}`, 0, 0);
        const names = builder.build().series;
        const batch: PointBatch = {
          tenant: 'acme',
          series: names,
          t: Float64Array.from(points, ([, t]) => t),
          value: Float64Array.from(points, ([, , v]) => v),
          seriesIndex: Uint32Array.from(points, ([s]) => s),
        };
        const skipped = new Set(skip);
        expect(plain(splitByPartition(batch, partitions, skipped))).toEqual(
          plain(splitByBuilders(batch, partitions, skipped)),
        );
      }),
    );
  });

  it('refuses partitions that do not match the series', () => {
    const batch: PointBatch = {
      tenant: 'acme',
      series: ['a', 'b'],
      t: new Float64Array(0),
      value: new Float64Array(0),
      seriesIndex: new Uint32Array(0),
    };
    expect(() => splitByPartition(batch, [0])).toThrow('1 partitions for 2 series');
  });
});

import { figure, type ComparableResult } from './result';
import {
  jobFigureName,
  jobsBetween,
  LLM_JOB_OUTCOMES,
  llmJobCounts,
  SPIKE_FACTOR,
  SpikedWorkload,
  summarizeTriage,
  triageOrder,
} from './triage';
import { METRIC, Workload } from './workload';

describe('triageOrder', () => {
  it('interleaves the arms, alternating which goes first in a pair', () => {
    expect(triageOrder(3)).toEqual(['off', 'on', 'on', 'off', 'off', 'on']);
  });

  it('refuses a count of pairs that is not a positive integer', () => {
    expect(() => triageOrder(0)).toThrow('pairs must be a positive integer, got 0');
    expect(() => triageOrder(2.5)).toThrow(RangeError);
  });
});

describe('SpikedWorkload', () => {
  const workload = new Workload(10, 1_700_000_000_000, 10_000);

  it('spikes one point in every block of `every`, none before `spikesFrom`', () => {
    const spiked = new SpikedWorkload(workload, 10, 20);
    for (let block = 0; block < 50; block++) {
      const inBlock = Array.from({ length: 10 }, (_, i) => block * 10 + i).filter((k) => spiked.isSpike(k));
      expect(inBlock).toHaveLength(block < 2 ? 0 : 1);
    }
    expect(spiked.spikesIn(0, 500)).toBe(48);
  });

  it('with as many series as `every`, spikes each series once before any twice', () => {
    const spiked = new SpikedWorkload(workload, 10);
    const series: number[] = [];
    for (let k = 0; k < 200; k++) if (spiked.isSpike(k)) series.push(workload.point(k).series);
    for (let round = 0; round < 2; round++) {
      expect(new Set(series.slice(round * 10, round * 10 + 10)).size).toBe(10);
    }
    // Scattered, not one series after the next.
    expect(series.slice(0, 3)).not.toEqual([0, 1, 2]);
  });

  it('finds a stride for any block size, even one sharing factors with its golden section', () => {
    for (const every of [1, 2, 8, 100, 1000, 1024]) {
      const spiked = new SpikedWorkload(workload, every);
      const offsets = new Set<number>();
      for (let k = 0; k < every * every; k++) if (spiked.isSpike(k)) offsets.add(k % every);
      expect(offsets.size).toBe(every);
    }
  });

  it('writes the workload body with the spikes multiplied, the rest as Workload writes it', () => {
    const spiked = new SpikedWorkload(workload, 4);
    const points = (JSON.parse(spiked.jsonBody(0, 12)) as { points: Array<Record<string, unknown>> }).points;
    const plain = (JSON.parse(workload.jsonBody(0, 12)) as { points: Array<Record<string, unknown>> }).points;
    expect(points).toHaveLength(12);
    points.forEach((point, k) => {
      expect(point.series).toBe(METRIC);
      expect(point.labels).toEqual(plain[k].labels);
      expect(point.ts).toBe(plain[k].ts);
      const factor = spiked.isSpike(k) ? SPIKE_FACTOR : 1;
      expect(point.value).toBeCloseTo((plain[k].value as number) * factor, 12);
    });
  });

  it('refuses a block size or start that is not an integer', () => {
    expect(() => new SpikedWorkload(workload, 0)).toThrow('every must be a positive integer, got 0');
    expect(() => new SpikedWorkload(workload, 10, -1)).toThrow('spikesFrom must be an integer >= 0');
  });
});

describe('llmJobCounts', () => {
  const exposition = `# HELP seismo_llm_jobs LLM triage and profiling jobs since start
# TYPE seismo_llm_jobs gauge
seismo_llm_jobs{outcome="done"} 12
seismo_llm_jobs{outcome="queue_full"} 3
seismo_llm_jobs{outcome="waited_too_long"} 40
seismo_llm_jobs{outcome="something_new"} 9
seismo_llm_queue{state="queued"} 1000
`;

  it('reads every outcome, zero for those the exposition lacks, and ignores unknown ones', () => {
    const counts = llmJobCounts(exposition)!;
    expect(counts.done).toBe(12);
    expect(counts.queue_full).toBe(3);
    expect(counts.waited_too_long).toBe(40);
    expect(counts.cached).toBe(0);
    expect(Object.keys(counts).sort()).toEqual([...LLM_JOB_OUTCOMES].sort());
  });

  it('is undefined when the server has no LLM gauges', () => {
    expect(llmJobCounts('seismo_engine_points_stored_total 5\n')).toBeUndefined();
  });

  it('subtracts two scrapes outcome by outcome', () => {
    const before = llmJobCounts(exposition)!;
    const after = { ...before, done: 20, waited_too_long: 41 };
    expect(jobsBetween(before, after)).toMatchObject({ done: 8, waited_too_long: 1, queue_full: 0 });
  });
});

describe('jobFigureName', () => {
  it('camel-cases the outcome after llmJobs', () => {
    expect(jobFigureName('done')).toBe('llmJobsDone');
    expect(jobFigureName('queue_full')).toBe('llmJobsQueueFull');
    expect(jobFigureName('waited_too_long')).toBe('llmJobsWaitedTooLong');
  });
});

describe('summarizeTriage', () => {
  function line(arm: string, stored: number[], counts: { calls: number; backlog: number }): ComparableResult {
    return {
      benchmark: 'triage',
      detector: 'ensemble',
      params: { arm, points: 1000, runs: stored.length, series: 10, spikeEvery: 100 },
      figures: {
        storedPointsPerSecond: figure('points/s', stored),
        acceptedPointsPerSecond: figure(
          'points/s',
          stored.map((x) => 2 * x),
        ),
        anomalies: figure('anomalies', [10]),
        triageCalls: figure('calls', [counts.calls]),
        llmJobsQueueFull: figure('jobs', [counts.calls * 3]),
        triageBacklogAtEnd: figure('anomalies waiting', [counts.backlog]),
      },
    };
  }

  it('takes one sample per process, judges stored points/s, and adds up the counts per arm', () => {
    const summary = summarizeTriage([
      line('off', [100_000, 100_200], { calls: 0, backlog: 0 }),
      line('on', [97_000, 97_200], { calls: 20, backlog: 300 }),
      line('on', [96_800, 97_000], { calls: 22, backlog: 500 }),
      line('off', [99_800, 100_000], { calls: 0, backlog: 0 }),
      { ...line('on', [1], { calls: 1, backlog: 1 }), benchmark: 'overhead' },
    ]);
    expect(summary.samples).toEqual({ off: [100_100, 99_900], on: [97_100, 96_900] });
    expect(summary.stored.share).toBeCloseTo(0.03, 10);
    expect(summary.accepted.share).toBeCloseTo(0.03, 10);
    expect(summary.verdict).toBe(summary.stored.verdict);
    expect(summary.counts.on).toEqual({ anomalies: 20, triageCalls: 42, llmJobsQueueFull: 126 });
    expect(summary.counts.off).toEqual({ anomalies: 20, triageCalls: 0, llmJobsQueueFull: 0 });
    expect(summary.atEnd.on).toEqual({ triageBacklogAtEnd: 400 });
  });

  it('fails when the whole interval of the slowdown lies over the target', () => {
    const summary = summarizeTriage([
      line('off', [100_000], { calls: 0, backlog: 0 }),
      line('off', [100_500], { calls: 0, backlog: 0 }),
      line('on', [60_000], { calls: 1, backlog: 0 }),
      line('on', [60_500], { calls: 1, backlog: 0 }),
    ]);
    expect(summary.stored.share).toBeCloseTo(0.4, 2);
    expect(summary.verdict).toBe('fail');
  });

  it('needs two processes of each arm', () => {
    expect(() =>
      summarizeTriage([
        line('off', [1], { calls: 0, backlog: 0 }),
        line('off', [2], { calls: 0, backlog: 0 }),
        line('on', [1], { calls: 0, backlog: 0 }),
      ]),
    ).toThrow('each arm needs at least 2 samples, got 1 and 2');
  });
});

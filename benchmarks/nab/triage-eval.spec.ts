import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LlmProvider, type LlmRequest, LlmError } from '@seismo/llm';
import { NO_PROVIDER_MESSAGE, planFiles, runTriageEval, summaryOf } from './triage-eval';

const STEP = 300_000;
const T0 = Date.UTC(2014, 0, 1);
const ENV = {
  SEISMO_LLM_PROVIDER: 'openai-compatible',
  SEISMO_LLM_BASE_URL: 'http://127.0.0.1:9/v1',
  SEISMO_LLM_MODEL: 'stub',
  SEISMO_LLM_PRICE_IN: '1',
  SEISMO_LLM_PRICE_OUT: '2',
};

function nabTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A seeded noisy level of 100 with one spike to 400 at `spikeAt`, as NAB CSV. */
function spikeCsv(spikeAt: number, rows = 1000): string {
  let seed = 7;
  const lines = ['timestamp,value'];
  for (let i = 0; i < rows; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const value = i === spikeAt ? 400 : 100 + 4 * (seed / 2_147_483_648 - 0.5);
    lines.push(`${nabTime(T0 + i * STEP)},${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Two files with a spike each: one inside its labelled window, one outside. */
async function writeCorpus(root: string): Promise<void> {
  await mkdir(path.join(root, 'data', 'art'), { recursive: true });
  await writeFile(path.join(root, 'data', 'art', 'inside.csv'), spikeCsv(800));
  await writeFile(path.join(root, 'data', 'art', 'outside.csv'), spikeCsv(700));
  await mkdir(path.join(root, 'labels'), { recursive: true });
  const window = [`${nabTime(T0 + 790 * STEP)}.000000`, `${nabTime(T0 + 810 * STEP)}.000000`];
  await writeFile(
    path.join(root, 'labels', 'combined_windows.json'),
    JSON.stringify({ 'art/inside.csv': [window], 'art/outside.csv': [window] }),
  );
}

class StubProvider implements LlmProvider {
  readonly name = 'openai-compatible';
  readonly model = 'stub';
  readonly requests: LlmRequest[] = [];
  constructor(private readonly answer: (request: LlmRequest) => ReturnType<LlmProvider['complete']>) {}
  complete(request: LlmRequest) {
    this.requests.push(request);
    return this.answer(request);
  }
}

describe('runTriageEval', () => {
  it('without a provider resolves with the line saying how to configure one, reading nothing', async () => {
    const missing = path.join(tmpdir(), 'seismo-triage-eval-no-such-dir', 'nab');
    const createProvider = jest.fn();
    const outcome = await runTriageEval(
      { data: missing, maxCandidates: 10 },
      { PATH: '/usr/bin' },
      {
        createProvider,
      },
    );
    expect(outcome).toEqual({ status: 'no-provider', message: NO_PROVIDER_MESSAGE });
    expect(NO_PROVIDER_MESSAGE).toMatch(/no LLM provider is configured/);
    expect(NO_PROVIDER_MESSAGE).toMatch(/SEISMO_LLM_PROVIDER=/);
    expect(NO_PROVIDER_MESSAGE).not.toMatch(/\n/);
    expect(createProvider).not.toHaveBeenCalled();
    expect(existsSync(missing)).toBe(false);
  });

  describe('on a corpus', () => {
    let root: string;
    beforeEach(async () => {
      root = await mkdtemp(path.join(tmpdir(), 'nab-triage-'));
      await writeCorpus(root);
    });
    afterEach(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('survives a provider that fails every call, reporting why each triage was skipped', async () => {
      const provider = new StubProvider(() => Promise.reject(new LlmError('server', 'scripted 503')));
      const outcome = await runTriageEval({ data: root, maxCandidates: 100, concurrency: 2 }, ENV, {
        createProvider: () => provider,
        warn: () => undefined,
      });
      if (outcome.status !== 'done') throw new Error('expected a report');
      const { total, usage } = outcome.report;
      expect(total.candidates).toBeGreaterThan(0);
      expect(total.verdicts).toMatchObject({ anomaly: 0, expected: 0, uncertain: 0 });
      expect(total.verdicts.skipped).toBe(total.candidates);
      const reasons = Object.entries(total.verdicts.skippedBy).filter(([, n]) => n > 0);
      expect(reasons.reduce((a, [, n]) => a + n, 0)).toBe(total.candidates);
      for (const [reason] of reasons) expect(['failed', 'circuit_open']).toContain(reason);
      // No verdict changes no alert.
      expect(total.withTriage.suppress).toMatchObject({ ...total.withoutTriage, quiet: 0, lowered: 0 });
      expect(total.withTriage.downgrade).toMatchObject({ ...total.withoutTriage, quiet: 0, lowered: 0 });
      expect(usage).toMatchObject({ tokensIn: 0, tokensOut: 0, costUsd: 0 });
      expect(summaryOf(outcome.report)).toMatch(/skipped \d+ \((failed|circuit_open) \d+/);
    });

    it('asks about every candidate with its rows up to the anomaly, and scores what the verdicts do', async () => {
      const provider = new StubProvider(async () => ({
        output: {
          verdict: 'expected',
          severity: 'info',
          explanation: 'A routine spike.',
          likely_cause: 'a batch job',
          confidence: 0.7,
        },
        usage: { inputTokens: 1000, outputTokens: 50 },
        model: 'stub',
      }));
      const outcome = await runTriageEval({ data: root, maxCandidates: 100 }, ENV, {
        createProvider: () => provider,
        warn: () => undefined,
      });
      if (outcome.status !== 'done') throw new Error('expected a report');
      const { report } = outcome;
      const { total } = report;
      expect(report).toMatchObject({ benchmark: 'nab-triage', provider: 'openai-compatible', model: 'stub' });
      expect(report.files.map((f) => f.name)).toEqual(['art/inside.csv', 'art/outside.csv']);
      expect(report.filesNotReached).toEqual([]);
      expect(total.verdicts.expected).toBe(total.candidates);
      expect(total.withoutTriage.tp).toBeGreaterThan(0);
      expect(total.withTriage.suppress).toMatchObject({
        alerts: 0,
        quiet: total.candidates,
        windowsDetected: 0,
      });
      expect(total.withTriage.downgrade.quiet).toBe(0);
      expect(total.withTriage.downgrade.windowsDetected).toBe(total.withoutTriage.windowsDetected);

      const calls = provider.requests.length;
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThanOrEqual(total.candidates);
      expect(total.verdicts.cached).toBe(total.candidates - calls);
      for (const request of provider.requests) {
        const data = JSON.parse(request.prompt) as {
          metric: string;
          labels: object;
          point: { ts: string };
          recent_window: Array<[string, number]>;
          labelled_past_anomalies: unknown[];
        };
        expect(['art/inside.csv', 'art/outside.csv']).toContain(data.metric);
        expect(data.labels).toEqual({});
        expect(data.labelled_past_anomalies).toEqual([]);
        expect(data.recent_window[data.recent_window.length - 1][0]).toBe(data.point.ts);
      }
      expect(report.usage).toMatchObject({
        tokensIn: 1000 * calls,
        tokensOut: 50 * calls,
        prices: { inPerMillion: 1, outPerMillion: 2 },
      });
      expect(report.usage.costUsd).toBeCloseTo((1000 * calls + 100 * calls) / 1e6, 9);
    });

    it('leaves out whole the files past --max-candidates', async () => {
      const provider = new StubProvider(() => Promise.reject(new LlmError('client', 'no')));
      const warnings: string[] = [];
      const outcome = await runTriageEval({ data: root, maxCandidates: 1 }, ENV, {
        createProvider: () => provider,
        warn: (line) => warnings.push(line),
      });
      if (outcome.status !== 'done') throw new Error('expected a report');
      const { report } = outcome;
      expect(report.files.length + report.filesNotReached.length).toBe(2);
      expect(report.total.candidates).toBeLessThanOrEqual(1);
      expect(report.candidatesNotReached).toBeGreaterThan(0);
      expect(warnings.join('\n')).toMatch(/--max-candidates 1 stops before/);
    });
  });
});

describe('planFiles', () => {
  it('takes files in order while all their candidates fit', () => {
    expect(planFiles([3, 4, 2], 10)).toBe(3);
    expect(planFiles([3, 4, 2], 7)).toBe(2);
    expect(planFiles([3, 4, 2], 6)).toBe(1);
    expect(planFiles([3, 4, 2], 2)).toBe(0);
    expect(planFiles([0, 5], 1)).toBe(1);
  });
});

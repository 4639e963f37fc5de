import { type DedupToken, parseTenantId, type UsageRecord } from '@seismo/storage';
import { LlmTokenMeter } from './llm-token.meter';

const ACME = parseTenantId('acme');
const GLOBEX = parseTenantId('globex');
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 7, 10);

/** A usage table that records each write, and fails the writes it is told to. */
function table() {
  const writes: Array<{ rows: readonly UsageRecord[]; token: DedupToken }> = [];
  let failNext = 0;
  return {
    writes,
    failNext: (n: number) => {
      failNext = n;
    },
    insertBatch: (rows: readonly UsageRecord[], token: DedupToken) => {
      writes.push({ rows, token });
      if (failNext > 0) {
        failNext--;
        return Promise.reject(new Error('ClickHouse is down'));
      }
      return Promise.resolve();
    },
  };
}

describe('LlmTokenMeter', () => {
  it('writes the calls counted, summed per tenant and hour, in one INSERT per flush', async () => {
    let now = T0 + 10;
    const usage = table();
    const meter = new LlmTokenMeter(usage, { clock: () => now, logger: { error: () => undefined } });
    meter.add(ACME, { inputTokens: 100, outputTokens: 10 }, 'triage/an_1');
    meter.add(ACME, { inputTokens: 50, outputTokens: 5 }, 'triage/an_2');
    meter.add(GLOBEX, { inputTokens: 7, outputTokens: 1 }, 'profile/globex/cpu');
    now = T0 + HOUR + 1;
    meter.add(ACME, { inputTokens: 1, outputTokens: 1 }, 'triage/an_3');
    expect(usage.writes).toHaveLength(0);
    await meter.flush();
    expect(usage.writes).toHaveLength(1);
    const rows = usage.writes[0].rows.map((r) => [
      r.tenantId,
      r.hour,
      r.llmTokensIn,
      r.llmTokensOut,
      r.pointsIngested,
    ]);
    expect(rows).toEqual([
      [ACME, T0, 150, 15, 0],
      [GLOBEX, T0, 7, 1, 0],
      [ACME, T0 + HOUR, 1, 1, 0],
    ]);
    // Nothing new: nothing written.
    await meter.flush();
    expect(usage.writes).toHaveLength(1);
  });

  it('names the calls in its token, and tries a failed write again under the same token before the next', async () => {
    const usage = table();
    const errors: string[] = [];
    const meter = new LlmTokenMeter(usage, {
      clock: () => T0,
      logger: { error: (m: string) => errors.push(m) },
    });
    meter.add(ACME, { inputTokens: 100, outputTokens: 10 }, 'triage/an_1');
    usage.failNext(1);
    await meter.flush();
    expect(errors).toEqual([expect.stringContaining('1 calls failed')]);
    meter.add(ACME, { inputTokens: 5, outputTokens: 5 }, 'triage/an_2');
    await meter.flush();
    expect(usage.writes.map((w) => w.token)).toEqual([
      usage.writes[0].token,
      usage.writes[0].token,
      expect.not.stringMatching(usage.writes[0].token),
    ]);
    expect(usage.writes[1].rows[0].llmTokensIn).toBe(100);
    expect(usage.writes[2].rows[0].llmTokensIn).toBe(5);
    // The same calls counted again (a meter of another life) make the same token: ClickHouse keeps one.
    const again = new LlmTokenMeter(table(), { clock: () => T0 });
    const other = table();
    const twin = new LlmTokenMeter(other, { clock: () => T0 });
    again.add(ACME, { inputTokens: 100, outputTokens: 10 }, 'triage/an_1');
    twin.add(ACME, { inputTokens: 100, outputTokens: 10 }, 'triage/an_1');
    await Promise.all([again.flush(), twin.flush()]);
    expect(other.writes[0].token).toBe(usage.writes[0].token);
  });

  it('writes on its own once the interval passed', async () => {
    const usage = table();
    const meter = new LlmTokenMeter(usage, { flushMs: 20 });
    meter.add(ACME, { inputTokens: 1, outputTokens: 1 }, 'triage/an_1');
    for (let i = 0; i < 100 && usage.writes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(usage.writes).toHaveLength(1);
  });
});

import { parseTenantId } from '@seismo/storage';
import { AlertingException, AlertingExceptionCode } from '../alerting.exception';
import { type Channel, type Delivery, type SendOutcome } from '../channel';
import { type IncidentState, type Notification } from '../notification';
import { MemoryDeliveryStore } from '../testing';
import { backoffDelay, DEFAULT_BACKOFF, seededRandom } from './backoff';
import { deliveriesOf, deliveryOf, type NewDelivery } from './delivery';
import {
  type AttemptResult,
  DeliveryDispatcher,
  type DeliveryDispatcherOptions,
} from './delivery.dispatcher';

const T0 = Date.UTC(2026, 11, 1);
const tenant = parseTenantId('acme');
const quiet = { warn: () => undefined, error: () => undefined };

function notification(incident: string, state: IncidentState, sequence = 0): Notification {
  return {
    id: `${incident}:${state}:${sequence}`,
    tenantId: tenant,
    incidentId: incident,
    kind: 'anomaly',
    state,
    severity: 'critical',
    title: `cpu anomalous (${incident})`,
    summary: 'cpu went up',
    openedAt: T0,
    at: T0,
    series: [],
    anomalyIds: [],
    links: {},
  };
}

function delivery(
  subscription: string,
  incident: string,
  state: IncidentState = 'opened',
  seq = 0,
): NewDelivery {
  return deliveryOf(notification(incident, state, seq), {
    id: subscription,
    target: { kind: 'webhook', url: `http://receiver.test/${subscription}`, secret: 's3cret' },
  });
}

interface Call {
  readonly subscription: string;
  readonly notification: string;
  readonly attempt: number;
  readonly at: number;
  readonly signal: AbortSignal;
}

/** A webhook channel whose answer each test scripts, per call; it records every call. */
class ScriptedChannel implements Channel {
  readonly kind = 'webhook';
  readonly calls: Call[] = [];

  constructor(private readonly answer: (delivery: Delivery, signal: AbortSignal) => Promise<SendOutcome>) {}

  send(delivery: Delivery, signal: AbortSignal): Promise<SendOutcome> {
    this.calls.push({
      subscription: delivery.subscriptionId,
      notification: delivery.notification.id,
      attempt: delivery.attempt,
      at: Date.now(),
      signal,
    });
    return this.answer(delivery, signal);
  }

  of(subscription: string): Call[] {
    return this.calls.filter((c) => c.subscription === subscription);
  }
}

const sent: SendOutcome = { ok: true, status: 200 };
const failure = (status = 503, more: Partial<SendOutcome & { ok: false }> = {}): SendOutcome => ({
  ok: false,
  retryable: true,
  error: `HTTP ${status}`,
  status,
  ...more,
});
const never = () => new Promise<SendOutcome>(() => undefined);

let store: MemoryDeliveryStore;
let dispatcher: DeliveryDispatcher | undefined;

function dispatch(channel: Channel, options: Partial<DeliveryDispatcherOptions> = {}): DeliveryDispatcher {
  dispatcher = new DeliveryDispatcher(store, {
    channelFor: () => channel,
    random: seededRandom(7),
    logger: quiet,
    ...options,
  });
  return dispatcher;
}

beforeEach(() => {
  jest.useFakeTimers({ now: T0 });
  store = new MemoryDeliveryStore();
});
afterEach(async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
  jest.useRealTimers();
});

const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

describe('DeliveryDispatcher', () => {
  it('stores a delivery before its first attempt, then records it sent', async () => {
    let storedAtSend: string | undefined;
    const channel = new ScriptedChannel(async (d) => {
      storedAtSend = store.rows.get(d.id)?.status;
      return sent;
    });
    const observed: AttemptResult[] = [];
    const delivered: [string, number, string][] = [];
    const d = dispatch(channel, {
      observe: (result) => observed.push(result),
      delivered: (t, n, batch) => delivered.push([t, n, batch]),
    });
    await d.start();
    await d.enqueue([delivery('sub-1', 'inc-1')]);
    expect(store.rows.size).toBe(1);
    await advance(100);

    expect(storedAtSend).toBe('pending');
    const [row] = store.rows.values();
    expect(row).toMatchObject({ status: 'sent', attempts: 1, lastStatus: 200, lastError: '', sentAt: T0 });
    expect(observed).toEqual(['sent']);
    // The batch's name is a usage dedup token: letters, digits and '/' only.
    expect(delivered).toEqual([['acme', 1, expect.stringMatching(/^alerts\/[0-9a-f]{32}$/)]]);
  });

  it('retries with exponential backoff and full jitter, then gives up after maxAttempts', async () => {
    const channel = new ScriptedChannel(async () => failure(503));
    const d = dispatch(channel, { maxAttempts: 5 });
    await d.start();
    await d.enqueue([delivery('sub-1', 'inc-1')]);
    await advance(60_000);

    const jitter = seededRandom(7);
    const expected = [T0];
    for (let n = 1; n < 5; n++) expected.push(expected[n - 1] + backoffDelay(DEFAULT_BACKOFF, n, jitter));
    expect(channel.calls.map((c) => c.at)).toEqual(expected);
    expect(channel.calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4, 5]);
    // Each wait is within its ceiling (1 s, 2 s, 4 s, 8 s): the jitter never stretches it.
    expected.slice(1).forEach((at, i) => expect(at - expected[i]).toBeLessThan(1000 * 2 ** i));
    const [row] = store.rows.values();
    expect(row).toMatchObject({ status: 'dead', attempts: 5, lastError: 'HTTP 503', lastStatus: 503 });
  });

  it("records each retry's next attempt and error as it goes", async () => {
    const channel = new ScriptedChannel(async () => failure(500));
    const d = dispatch(channel, { random: () => 0.5 });
    await d.start();
    await d.enqueue([delivery('sub-1', 'inc-1')]);
    await advance(100);
    const [row] = store.rows.values();
    expect(row).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: T0 + 500, lastStatus: 500 });
    expect(row.lastError).toBe('HTTP 500');
  });

  it("honours a receiver's Retry-After", async () => {
    let calls = 0;
    const channel = new ScriptedChannel(async () =>
      ++calls === 1 ? failure(429, { retryAfterMs: 30_000 }) : sent,
    );
    const d = dispatch(channel);
    await d.start();
    await d.enqueue([delivery('sub-1', 'inc-1')]);
    await advance(29_999);
    expect(channel.calls).toHaveLength(1);
    await advance(200);
    expect(channel.calls.map((c) => c.at)).toEqual([T0, T0 + 30_000]);
    expect([...store.rows.values()][0].status).toBe('sent');
  });

  it('ends a delivery at once on a failure that is not retryable', async () => {
    const channel = new ScriptedChannel(async () =>
      failure(400, { retryable: false, error: 'HTTP 400: bad' }),
    );
    const observed: string[] = [];
    const d = dispatch(channel, { observe: (result, kind) => observed.push(`${result}/${kind}`) });
    await d.start();
    await d.enqueue([delivery('sub-1', 'inc-1')]);
    await advance(600_000);
    expect(channel.calls).toHaveLength(1);
    expect([...store.rows.values()][0]).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastError: 'HTTP 400: bad',
    });
    expect(observed).toEqual(['dead/webhook']);
  });

  it('reports a receiver that is gone, and ends its delivery', async () => {
    const channel = new ScriptedChannel(async () =>
      failure(410, { retryable: true, gone: true, error: 'HTTP 410' }),
    );
    const gone: Delivery[] = [];
    const d = dispatch(channel, { onGone: (x) => gone.push(x) });
    await d.start();
    await d.enqueue([delivery('sub-1', 'inc-1')]);
    await advance(600_000);
    expect(channel.calls).toHaveLength(1);
    expect(gone.map((x) => [x.subscriptionId, x.attempt])).toEqual([['sub-1', 1]]);
    expect([...store.rows.values()][0]).toMatchObject({ status: 'dead', lastStatus: 410 });
  });

  it("keeps one incident's changes in order to a subscription, while its other incidents go on", async () => {
    let failedOnce = false;
    const channel = new ScriptedChannel(async (d) => {
      if (d.notification.id === 'A:opened:0' && !failedOnce) {
        failedOnce = true;
        return failure(503);
      }
      return sent;
    });
    const d = dispatch(channel, { perSubscriptionConcurrency: 4 });
    await d.start();
    await d.enqueue([delivery('sub-1', 'A', 'opened'), delivery('sub-1', 'B', 'opened')]);
    await d.enqueue([delivery('sub-1', 'A', 'resolved', 1), delivery('sub-1', 'B', 'resolved', 1)]);
    await advance(0);
    expect(channel.calls.map((c) => c.notification)).toEqual(['A:opened:0', 'B:opened:0', 'B:resolved:1']);
    await advance(2000);
    expect(channel.calls.map((c) => c.notification)).toEqual([
      'A:opened:0',
      'B:opened:0',
      'B:resolved:1',
      'A:opened:0',
      'A:resolved:1',
    ]);
  });

  it("keeps an incident's order per email recipient: a deferred recipient holds up none of the others", async () => {
    const email = (state: IncidentState, seq: number) =>
      deliveriesOf(notification('A', state, seq), {
        id: 'sub-mail',
        target: { kind: 'email', to: ['busy@x.example', 'ok@x.example'] },
      });
    const to: string[] = [];
    let deferred = false;
    const channel = new ScriptedChannel(async (d) => {
      const [recipient] = d.target.kind === 'email' ? d.target.to : [];
      to.push(`${recipient} ${d.notification.id}`);
      if (recipient === 'busy@x.example' && !deferred) {
        deferred = true;
        return failure(450, { error: 'SMTP 450: 450 Mailbox busy' });
      }
      return sent;
    });
    const d = dispatch(channel, { perSubscriptionConcurrency: 4 });
    await d.start();
    await d.enqueue(email('opened', 0));
    await d.enqueue(email('resolved', 1));
    await advance(0);
    expect(to).toEqual(['busy@x.example A:opened:0', 'ok@x.example A:opened:0', 'ok@x.example A:resolved:1']);
    await advance(2000);
    expect(to.slice(3)).toEqual(['busy@x.example A:opened:0', 'busy@x.example A:resolved:1']);
    expect(store.withStatus('sent')).toHaveLength(4);
  });

  it("lets a hanging receiver delay only its own subscription's deliveries", async () => {
    const channel = new ScriptedChannel((d) =>
      d.subscriptionId === 'hangs' ? never() : Promise.resolve(sent),
    );
    const d = dispatch(channel, { concurrency: 4, perSubscriptionConcurrency: 2, attemptTimeoutMs: 10_000 });
    await d.start();
    await d.enqueue(Array.from({ length: 10 }, (_, i) => delivery('hangs', `h${i}`)));
    await d.enqueue(Array.from({ length: 10 }, (_, i) => delivery('fast', `f${i}`)));
    await advance(100);
    expect(channel.of('fast')).toHaveLength(10);
    expect(channel.of('hangs')).toHaveLength(2);
    expect(store.withStatus('sent')).toHaveLength(10);

    // Past the timeout the hanging attempts are aborted, counted as failed, and retried later.
    await advance(10_000);
    expect(
      channel
        .of('hangs')
        .slice(0, 2)
        .every((c) => c.signal.aborted),
    ).toBe(true);
    const retried = store.withStatus('pending').filter((r) => r.attempts === 1);
    expect(retried).toHaveLength(2);
    expect(retried[0].lastError).toBe('no answer within 10000 ms');
  });

  it('holds at most maxHeld deliveries, leaves the rest in the table and sweeps them in order', async () => {
    const release: (() => void)[] = [];
    const channel = new ScriptedChannel(() => new Promise((resolve) => release.push(() => resolve(sent))));
    const d = dispatch(channel, {
      maxHeld: 4,
      maxHeldPerSubscription: 2,
      perSubscriptionConcurrency: 1,
      sweepMs: 1000,
    });
    await d.start();
    const all = Array.from({ length: 11 }, (_, i) => delivery('sub-1', `inc-${i}`));
    await d.enqueue(all.slice(0, 5));
    await d.enqueue(all.slice(5, 10));
    await d.enqueue([delivery('sub-2', 'other')]);
    expect(store.rows.size).toBe(11);
    expect(d.heldCount).toBe(3);
    // One comes in once there is room again, while older ones wait in the table: it waits its turn.
    release.shift()?.();
    await advance(0);
    expect(d.heldCount).toBeLessThan(4);
    await d.enqueue([all[10]]);

    let peak = 0;
    while (store.withStatus('pending').length > 0) {
      peak = Math.max(peak, d.heldCount);
      release.shift()?.();
      await advance(1000);
    }
    expect(peak).toBeLessThanOrEqual(4);
    expect(channel.of('sub-1').map((c) => c.notification)).toEqual(all.map((x) => x.notification.id));
    expect(channel.of('sub-1').every((c) => c.attempt === 1)).toBe(true);
    expect(store.withStatus('sent')).toHaveLength(12);
  });

  it('sends a pending row another process stored, at its next idle sweep', async () => {
    const channel = new ScriptedChannel(async () => sent);
    const d = dispatch(channel, { sweepMs: 1000, idleSweepMs: 5000 });
    await d.start();
    // Another API process (one that does not alert) stores a delivery; this one knew of no row.
    const other = new DeliveryDispatcher(store, { channelFor: () => channel, logger: quiet });
    await other.enqueue([delivery('sub-1', 'revived')]);
    await advance(3000);
    expect(channel.calls).toHaveLength(0);
    await advance(3000);
    expect(channel.calls.map((c) => c.notification)).toEqual(['revived:opened:0']);
    await advance(1000);
    expect(store.withStatus('sent')).toHaveLength(1);
  });

  it('does not send again a delivery whose outcome was stored while a sweep read it as pending', async () => {
    const channel = new ScriptedChannel(async () => sent);
    const d = dispatch(channel, { sweepMs: 1000, idleSweepMs: 1000 });
    await d.start();
    // The sweep's read is slow, and answers the table as it was when it began.
    const pending = store.pending.bind(store);
    let release: () => void = () => undefined;
    store.pending = async (query) => {
      store.pending = pending; // the next sweeps read as usual
      const before = await pending(query);
      const stale = before.map((row) => ({ ...row }));
      await new Promise<void>((resolve) => (release = resolve));
      return stale;
    };
    const other = new DeliveryDispatcher(store, { channelFor: () => channel, logger: quiet });
    await other.enqueue([delivery('sub-1', 'late')]);
    await advance(1000); // a sweep begins, and reads the row as pending
    d.resend([...store.rows.values()]).catch(() => undefined); // it is sent and settled meanwhile
    await advance(100);
    expect(channel.calls).toHaveLength(1);
    expect(store.withStatus('sent')).toHaveLength(1);
    release();
    await advance(2000);
    expect(channel.calls).toHaveLength(1);
  });

  it('resumes the pending deliveries a predecessor left, when they are due', async () => {
    const first = new ScriptedChannel(async () => failure(503, { retryAfterMs: 5000 }));
    const one = dispatch(first);
    await one.start();
    await one.enqueue([delivery('sub-1', 'inc-1'), delivery('sub-1', 'inc-2')]);
    await advance(100);
    await one.stop();
    expect(store.withStatus('pending').map((r) => r.attempts)).toEqual([1, 1]);

    const second = new ScriptedChannel(async () => sent);
    const two = dispatch(second);
    await two.start();
    await advance(4000);
    expect(second.calls).toHaveLength(0);
    await advance(1000);
    expect(second.calls.map((c) => [c.notification, c.attempt])).toEqual([
      ['inc-1:opened:0', 2],
      ['inc-2:opened:0', 2],
    ]);
    await advance(100);
    expect(store.withStatus('sent')).toHaveLength(2);
  });

  it('sends a delivery enqueued twice once', async () => {
    const channel = new ScriptedChannel(async () => sent);
    const d = dispatch(channel);
    await d.start();
    await d.enqueue([delivery('sub-1', 'inc-1')]);
    await advance(100);
    await d.enqueue([delivery('sub-1', 'inc-1'), delivery('sub-1', 'inc-1')]);
    await advance(100);
    expect(channel.calls).toHaveLength(1);
    expect(store.rows.size).toBe(1);
    expect([...store.rows.values()][0].status).toBe('sent');
  });

  it('writes outcomes together, not one write per send', async () => {
    const channel = new ScriptedChannel(async () => sent);
    const d = dispatch(channel, { concurrency: 1000, perSubscriptionConcurrency: 1000, flushRows: 300 });
    await d.start();
    await d.enqueue(Array.from({ length: 1000 }, (_, i) => delivery(`sub-${i % 10}`, `inc-${i}`)));
    await advance(100);
    expect(store.withStatus('sent')).toHaveLength(1000);
    expect(store.recorded.length).toBeLessThanOrEqual(5);
    expect(store.recorded.every((batch) => batch.length <= 300)).toBe(true);
  });

  it('counts deliveries as delivered only once their outcome is stored, and writes it again after a failure', async () => {
    const channel = new ScriptedChannel(async () => sent);
    const delivered: number[] = [];
    const d = dispatch(channel, { delivered: (_, n) => delivered.push(n) });
    await d.start();
    store.failRecords = new Error('ClickHouse is down');
    await d.enqueue([delivery('sub-1', 'inc-1'), delivery('sub-1', 'inc-2')]);
    await advance(100);
    expect(delivered).toEqual([]);
    expect(store.withStatus('pending')).toHaveLength(2);
    store.failRecords = undefined;
    await advance(1000);
    expect(delivered).toEqual([2]);
    expect(store.withStatus('sent')).toHaveLength(2);
  });

  it('stop() aborts the attempts in flight and leaves their deliveries pending', async () => {
    const channel = new ScriptedChannel(never);
    const d = dispatch(channel);
    await d.start();
    await d.enqueue([delivery('sub-1', 'inc-1'), delivery('sub-2', 'inc-2')]);
    await advance(10);
    expect(channel.calls).toHaveLength(2);
    await d.stop();
    expect(channel.calls.every((c) => c.signal.aborted)).toBe(true);
    expect(store.withStatus('pending').map((r) => r.attempts)).toEqual([0, 0]);
    await advance(60_000);
    expect(channel.calls).toHaveLength(2);
    const error = await d.enqueue([delivery('sub-1', 'inc-3')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlertingException);
    expect((error as AlertingException).code).toBe(AlertingExceptionCode.DISPATCHER_STOPPED);
  });

  it('takes a send that throws as a retryable failure, never as an error of the caller', async () => {
    let calls = 0;
    const channel = new ScriptedChannel(async () => {
      if (++calls === 1) throw new Error('socket hang up');
      return sent;
    });
    const d = dispatch(channel);
    await d.start();
    await expect(d.enqueue([delivery('sub-1', 'inc-1')])).resolves.toBeUndefined();
    await advance(1100);
    expect(channel.calls).toHaveLength(2);
    expect([...store.rows.values()][0]).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('refuses options out of range, naming the option', () => {
    for (const [options, field] of [
      [{ concurrency: 0 }, 'concurrency'],
      [{ maxAttempts: 1.5 }, 'maxAttempts'],
      [{ backoff: { baseMs: -1 } }, 'backoff.baseMs'],
      [{ backoff: { factor: 0.5 } }, 'backoff.factor'],
      [{ maxHeld: 10, maxHeldPerSubscription: 11 }, 'maxHeldPerSubscription'],
    ] as const) {
      let error: unknown;
      try {
        new DeliveryDispatcher(store, { channelFor: () => new ScriptedChannel(never), ...options });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AlertingException);
      expect(error).toMatchObject({ code: AlertingExceptionCode.INVALID_DISPATCHER_OPTIONS, field });
    }
  });
});

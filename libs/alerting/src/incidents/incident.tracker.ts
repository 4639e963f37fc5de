import { createHash } from 'node:crypto';
import { parseSeriesKey } from '@seismo/ingest';
import { type AnomalyTriage } from '@seismo/llm/verdict';
import { type TenantId } from '@seismo/storage';
import {
  type IncidentKind,
  type IncidentState,
  type Notification,
  type NotificationLinks,
  type NotifiedSeries,
  SEVERITIES,
  type Severity,
} from '../notification';
import { type SilentSeries } from './silence.watch';

/** One anomaly the engine stored, as the tracker needs it. */
export interface ObservedAnomaly {
  readonly tenantId: TenantId;
  readonly id: string;
  /** The canonical series key. */
  readonly series: string;
  /** Epoch milliseconds of the anomalous point. */
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  readonly severity: Severity;
  readonly detectors: readonly string[];
  /** LLM triage's verdict, when the tenant has triage. */
  readonly triage?: AnomalyTriage;
}

/** How anomalies fold into incidents and when an incident speaks. One policy for the deployment. */
export interface IncidentPolicy {
  /**
   * Labels that make series one problem: anomalous series sharing the first of these they
   * carry (same host, else same service) fold into one incident. A series with none of them
   * is an incident of its own.
   */
  readonly groupBy: readonly string[];
  /** An open incident is told again after this long without a notification. */
  readonly renotifyAfterMs: number;
  /** An incident resolves once none of its series was anomalous for this long. */
  readonly resolveAfterMs: number;
  /** Most open incidents per tenant; the anomalies that would open more are counted in `dropped`. */
  readonly maxOpenPerTenant: number;
  /** Most series listed in an incident; more are counted in its summary, not listed. */
  readonly maxSeriesPerIncident: number;
}

export const DEFAULT_INCIDENT_POLICY: IncidentPolicy = {
  groupBy: ['host', 'service'],
  renotifyAfterMs: 4 * 3_600_000,
  resolveAfterMs: 10 * 60_000,
  maxOpenPerTenant: 10_000,
  maxSeriesPerIncident: 100,
};

export interface IncidentTrackerOptions {
  readonly policy?: Partial<IncidentPolicy>;
  /** The chart and feedback links of a notification, from its latest anomaly. */
  readonly linksFor?: (tenant: TenantId, anomalyId: string, series: string, ts: number) => NotificationLinks;
  /**
   * Keeps the incidents changed since the last `changes()`, for a store to write (the API
   * process does, so its open incidents survive a restart). Off, `changes()` is empty and
   * nothing is kept.
   */
  readonly recordChanges?: boolean;
}

/** An open incident, as the API shows it. */
export interface IncidentView {
  readonly id: string;
  readonly tenantId: TenantId;
  readonly kind: IncidentKind;
  readonly group: string;
  readonly severity: Severity;
  readonly openedAt: number;
  readonly lastAnomalyAt: number;
  readonly series: readonly NotifiedSeries[];
  /** Series beyond `maxSeriesPerIncident`, counted and not listed. */
  readonly unlistedSeries: number;
}

/** One series of an incident, at its latest anomalous point, with that anomaly's id. */
export interface TrackedSeries extends NotifiedSeries {
  readonly anomalyId: string;
}

/** The version of IncidentSnapshot this code writes and reads. */
export const INCIDENT_SNAPSHOT_VERSION = 1;

/**
 * An incident as it stands, to store and restore after a restart (`changes`, `restore`):
 * everything that decides what it says next and when. JSON-safe.
 */
export interface IncidentSnapshot {
  readonly version: typeof INCIDENT_SNAPSHOT_VERSION;
  readonly id: string;
  readonly tenantId: TenantId;
  readonly kind: IncidentKind;
  readonly group: string;
  /** False once resolved: the last snapshot of it. */
  readonly open: boolean;
  readonly openedAt: number;
  readonly severity: Severity;
  readonly toldSeverity: Severity;
  /** The listed series, in the order they joined. */
  readonly series: readonly TrackedSeries[];
  readonly unlistedSeries: number;
  readonly latest: TrackedSeries;
  /** Clock time of its latest anomaly (of its opening, for no_data). */
  readonly lastAnomalyAt: number;
  /** Clock time of its latest notification. */
  readonly lastToldAt: number;
  /** Notifications so far: the next one's id carries `sequence + 1`. */
  readonly sequence: number;
  readonly usualGapMs?: number;
  readonly forgotten?: boolean;
}

interface OpenIncident {
  readonly id: string;
  readonly tenantId: TenantId;
  readonly kind: IncidentKind;
  readonly group: string;
  /** Epoch milliseconds of its first anomalous point. */
  readonly openedAt: number;
  severity: Severity;
  /** The severity last told; an incident that gets worse is told at once. */
  toldSeverity: Severity;
  readonly series: Map<string, TrackedSeries>;
  unlistedSeries: number;
  /** The latest anomaly folded in, for the links. */
  latest: TrackedSeries;
  /** Clock time of the latest anomaly: quiet since then resolves it. */
  lastAnomalyAt: number;
  lastToldAt: number;
  sequence: number;
  /** For no_data: the series' usual gap between arrivals. */
  readonly usualGapMs?: number;
  /** For no_data: resolved because the watch gave the series up, not because it reported. */
  forgotten?: boolean;
}

const PRESENTED_SERIES = 3;
/** A silent series is a warning: something stopped, nothing is known to be wrong yet. */
const NO_DATA_SEVERITY: Severity = 'warning';
/** What a subscription's `detectors` filter names to hear of silent series (or not). */
export const NO_DATA_DETECTOR = 'no_data';

/**
 * Folds the anomalies of a tenant into incidents and says when each one should notify.
 *
 * An anomaly joins the open incident of its group (its series alone, or every series on the
 * same host or service); otherwise it opens one. An incident notifies when it opens, when it
 * gets worse (a higher severity, a series joining), every `renotifyAfterMs` while it stays
 * open, and once when it resolves, `resolveAfterMs` after its last anomaly. How often one
 * subscription hears of one incident is the router's to decide (AlertRouter), for a
 * subscription may first want an incident when a series it matches joins it. Quiet time runs on the process clock,
 * not on point timestamps, so a backfill of old points does not resolve what it opens.
 *
 * A series that stopped reporting (SilenceWatch) is a `no_data` incident of its own: it
 * opens when the series goes silent, is told again while it stays silent, and resolves
 * when the series reports again (or is forgotten after a long silence); quiet never
 * resolves it, for quiet is what it is about.
 *
 * Ids are deterministic: an incident's id comes from its tenant, its group and its first
 * anomaly, a notification's from its incident, its change and its sequence, so the same
 * anomalies observed again after a restart yield the same notifications, which the outbox
 * keeps once. The tracker does no I/O: with `recordChanges`, `changes()` hands over a
 * snapshot of each incident changed since the last call (resolved ones too, as not open),
 * for a store to write, and `restore` takes the open ones back at start, so a restarted
 * process carries them on with their ids, sequences and clocks. Memory is bounded by
 * `maxOpenPerTenant` x `maxSeriesPerIncident`, and the changes kept by what changed
 * between two calls.
 */
export class IncidentTracker {
  private readonly policy: IncidentPolicy;
  private readonly linksFor: IncidentTrackerOptions['linksFor'];
  /** `<tenant>\0<group>` -> the open incident. */
  private readonly incidents = new Map<string, OpenIncident>();
  private readonly openPerTenant = new Map<TenantId, number>();
  /** Incident id -> the incident changed since the last `changes()` (open or just resolved); only with recordChanges. */
  private readonly changed: Map<string, OpenIncident> | undefined;
  /** Anomalies that would have opened an incident over a tenant's `maxOpenPerTenant`. */
  dropped = 0;

  constructor(options: IncidentTrackerOptions = {}) {
    this.policy = validatePolicy({ ...DEFAULT_INCIDENT_POLICY, ...options.policy });
    this.linksFor = options.linksFor;
    this.changed = options.recordChanges ? new Map() : undefined;
  }

  /** Whether `changes()` reports anything (the `recordChanges` option). */
  get recordsChanges(): boolean {
    return this.changed !== undefined;
  }

  /** Whether `changes()` would answer anything now. */
  get hasChanges(): boolean {
    return (this.changed?.size ?? 0) > 0;
  }

  /** Folds one anomaly in; the notifications it causes, in order. */
  observe(anomaly: ObservedAnomaly, now: number): Notification[] {
    const group = this.groupOf(anomaly.series);
    const key = keyOf(anomaly.tenantId, group);
    const tracked = trackedOf(anomaly);
    const incident = this.incidents.get(key);
    if (!incident) return this.openIncident(key, group, anomaly, tracked, now);

    incident.lastAnomalyAt = now;
    incident.latest = tracked;
    this.changed?.set(incident.id, incident);
    const joined = !incident.series.has(anomaly.series);
    if (joined && incident.series.size >= this.policy.maxSeriesPerIncident) incident.unlistedSeries++;
    else incident.series.set(anomaly.series, tracked);
    if (rank(anomaly.severity) > rank(incident.severity)) incident.severity = anomaly.severity;

    const worse = rank(incident.severity) > rank(incident.toldSeverity);
    return worse || joined ? [this.tell(incident, 'updated', now)] : [];
  }

  /** What time alone changes: re-notifications and resolutions. */
  tick(now: number): Notification[] {
    const out: Notification[] = [];
    for (const [key, incident] of this.incidents) {
      if (incident.kind === 'anomaly' && now - incident.lastAnomalyAt >= this.policy.resolveAfterMs) {
        this.incidents.delete(key);
        this.countOpen(incident.tenantId, -1);
        out.push(this.tell(incident, 'resolved', now));
      } else if (now - incident.lastToldAt >= this.policy.renotifyAfterMs) {
        out.push(this.tell(incident, 'renotified', now));
      }
    }
    return out;
  }

  /** The tenant's open incidents, most recently anomalous first. */
  open(tenant: TenantId): IncidentView[] {
    const views: IncidentView[] = [];
    for (const incident of this.incidents.values()) {
      if (incident.tenantId !== tenant) continue;
      views.push({
        id: incident.id,
        tenantId: incident.tenantId,
        kind: incident.kind,
        group: incident.group,
        severity: incident.severity,
        openedAt: incident.openedAt,
        lastAnomalyAt: incident.lastAnomalyAt,
        series: [...incident.series.values()].map(notifiedOf),
        unlistedSeries: incident.unlistedSeries,
      });
    }
    return views.sort((a, b) => b.lastAnomalyAt - a.lastAnomalyAt);
  }

  /** A series went silent: opens its no_data incident (nothing when one is open). */
  silent(series: SilentSeries, now: number): Notification[] {
    const group = `no_data:${series.series}`;
    const key = keyOf(series.tenantId, group);
    if (this.incidents.has(key)) return [];
    if ((this.openPerTenant.get(series.tenantId) ?? 0) >= this.policy.maxOpenPerTenant) {
      this.dropped++;
      return [];
    }
    const identity = parseSeriesKey(series.series);
    const tracked: TrackedSeries = {
      series: series.series,
      metric: identity?.metric ?? series.series,
      labels: identity?.labels ?? {},
      ts: series.lastTs,
      value: series.lastValue,
      score: 1,
      detectors: [NO_DATA_DETECTOR],
      anomalyId: '',
    };
    const incident: OpenIncident = {
      id: incidentIdOf(series.tenantId, group, `${series.lastArrivalAt}`),
      tenantId: series.tenantId,
      kind: 'no_data',
      group,
      openedAt: series.lastArrivalAt,
      severity: NO_DATA_SEVERITY,
      toldSeverity: NO_DATA_SEVERITY,
      series: new Map([[series.series, tracked]]),
      unlistedSeries: 0,
      latest: tracked,
      lastAnomalyAt: now,
      lastToldAt: now,
      sequence: 0,
      usualGapMs: series.usualGapMs,
    };
    this.incidents.set(key, incident);
    this.countOpen(series.tenantId, 1);
    return [this.tell(incident, 'opened', now)];
  }

  /**
   * A silent series reports again, or (`forgotten`) was silent so long it is no longer
   * watched: resolves its no_data incident.
   */
  resumed(series: Pick<SilentSeries, 'tenantId' | 'series'>, now: number, forgotten = false): Notification[] {
    const key = keyOf(series.tenantId, `no_data:${series.series}`);
    const incident = this.incidents.get(key);
    if (!incident) return [];
    incident.forgotten = forgotten;
    this.incidents.delete(key);
    this.countOpen(incident.tenantId, -1);
    return [this.tell(incident, 'resolved', now)];
  }

  /** Forgets a tenant's open incidents without telling anyone (its data was erased); none of them is a change to write. */
  forgetTenant(tenant: TenantId): void {
    for (const [key, incident] of this.incidents)
      if (incident.tenantId === tenant) this.incidents.delete(key);
    this.openPerTenant.delete(tenant);
    if (this.changed) {
      for (const [id, incident] of this.changed) if (incident.tenantId === tenant) this.changed.delete(id);
    }
  }

  /**
   * The incidents changed since the last call (opened, joined, told, resolved), each once,
   * as they stand now; a resolved one is `open: false`. Empty without `recordChanges`.
   */
  changes(): IncidentSnapshot[] {
    if (!this.changed || this.changed.size === 0) return [];
    const snapshots: IncidentSnapshot[] = [];
    for (const incident of this.changed.values()) {
      const open = this.incidents.get(keyOf(incident.tenantId, incident.group)) === incident;
      snapshots.push(snapshotOf(incident, open));
    }
    this.changed.clear();
    return snapshots;
  }

  /**
   * Takes back open incidents a previous process snapshotted (`changes`), at start: each
   * goes on where it was (same id, group, series, severities, clocks and sequence), so its
   * next anomaly joins it and quiet resolves it on time. Resolved ones, ones whose group
   * already has an open incident, and ones over the tenant's `maxOpenPerTenant` are
   * skipped. Returns the ones restored. An unknown snapshot version is an error.
   */
  restore(snapshots: Iterable<IncidentSnapshot>): IncidentSnapshot[] {
    const restored: IncidentSnapshot[] = [];
    for (const snapshot of snapshots) {
      if (snapshot.version !== INCIDENT_SNAPSHOT_VERSION) {
        throw new RangeError(
          `incident ${snapshot.id} is snapshot version ${String(snapshot.version)}; this build reads version ${INCIDENT_SNAPSHOT_VERSION}`,
        );
      }
      if (!snapshot.open) continue;
      const key = keyOf(snapshot.tenantId, snapshot.group);
      if (this.incidents.has(key)) continue;
      if ((this.openPerTenant.get(snapshot.tenantId) ?? 0) >= this.policy.maxOpenPerTenant) {
        this.dropped++;
        continue;
      }
      this.incidents.set(key, incidentOf(snapshot));
      this.countOpen(snapshot.tenantId, 1);
      restored.push(snapshot);
    }
    return restored;
  }

  private openIncident(
    key: string,
    group: string,
    anomaly: ObservedAnomaly,
    tracked: TrackedSeries,
    now: number,
  ): Notification[] {
    if ((this.openPerTenant.get(anomaly.tenantId) ?? 0) >= this.policy.maxOpenPerTenant) {
      this.dropped++;
      return [];
    }
    const incident: OpenIncident = {
      id: incidentIdOf(anomaly.tenantId, group, anomaly.id),
      tenantId: anomaly.tenantId,
      kind: 'anomaly',
      group,
      openedAt: anomaly.ts,
      severity: anomaly.severity,
      toldSeverity: anomaly.severity,
      series: new Map([[anomaly.series, tracked]]),
      unlistedSeries: 0,
      latest: tracked,
      lastAnomalyAt: now,
      lastToldAt: now,
      sequence: 0,
    };
    this.incidents.set(key, incident);
    this.countOpen(anomaly.tenantId, 1);
    return [this.tell(incident, 'opened', now)];
  }

  private tell(incident: OpenIncident, state: IncidentState, now: number): Notification {
    incident.sequence++;
    incident.lastToldAt = now;
    incident.toldSeverity = incident.severity;
    this.changed?.set(incident.id, incident);
    const listed = [...incident.series.values()];
    const title = titleOf(incident, listed);
    const noData = incident.kind === 'no_data';
    return {
      id: `${incident.id}:${state}:${incident.sequence}`,
      tenantId: incident.tenantId,
      incidentId: incident.id,
      kind: incident.kind,
      state,
      severity: incident.severity,
      title: state === 'resolved' ? `Resolved: ${title}` : title,
      summary: noData ? noDataSummaryOf(incident, state, now) : summaryOf(incident, listed, state, now),
      openedAt: incident.openedAt,
      at: now,
      ...(state === 'resolved' ? { resolvedAt: now } : {}),
      series: listed.map(notifiedOf),
      anomalyIds: noData ? [] : listed.map((series) => series.anomalyId),
      links: noData
        ? {}
        : (this.linksFor?.(
            incident.tenantId,
            incident.latest.anomalyId,
            incident.latest.series,
            incident.latest.ts,
          ) ?? {}),
    };
  }

  private groupOf(series: string): string {
    const labels = parseSeriesKey(series)?.labels;
    if (labels) {
      for (const name of this.policy.groupBy) {
        const value = labels[name];
        if (value !== undefined) return `${name}=${value}`;
      }
    }
    return `series:${series}`;
  }

  private countOpen(tenant: TenantId, delta: number): void {
    const count = (this.openPerTenant.get(tenant) ?? 0) + delta;
    if (count > 0) this.openPerTenant.set(tenant, count);
    else this.openPerTenant.delete(tenant);
  }
}

function validatePolicy(policy: IncidentPolicy): IncidentPolicy {
  const durations = ['renotifyAfterMs', 'resolveAfterMs'] as const;
  for (const name of durations) {
    if (!(Number.isInteger(policy[name]) && policy[name] > 0)) {
      throw new RangeError(
        `incident policy ${name} must be a positive integer of milliseconds, got ${policy[name]}`,
      );
    }
  }
  for (const name of ['maxOpenPerTenant', 'maxSeriesPerIncident'] as const) {
    if (!(Number.isInteger(policy[name]) && policy[name] >= 1)) {
      throw new RangeError(`incident policy ${name} must be an integer of at least 1, got ${policy[name]}`);
    }
  }
  if (!policy.groupBy.every((label) => typeof label === 'string' && label.length > 0)) {
    throw new RangeError('incident policy groupBy must hold label names');
  }
  return { ...policy, groupBy: [...policy.groupBy] };
}

function keyOf(tenant: TenantId, group: string): string {
  return `${tenant}\u0000${group}`;
}

function snapshotOf(incident: OpenIncident, open: boolean): IncidentSnapshot {
  return {
    version: INCIDENT_SNAPSHOT_VERSION,
    id: incident.id,
    tenantId: incident.tenantId,
    kind: incident.kind,
    group: incident.group,
    open,
    openedAt: incident.openedAt,
    severity: incident.severity,
    toldSeverity: incident.toldSeverity,
    series: [...incident.series.values()],
    unlistedSeries: incident.unlistedSeries,
    latest: incident.latest,
    lastAnomalyAt: incident.lastAnomalyAt,
    lastToldAt: incident.lastToldAt,
    sequence: incident.sequence,
    ...(incident.usualGapMs !== undefined ? { usualGapMs: incident.usualGapMs } : {}),
    ...(incident.forgotten !== undefined ? { forgotten: incident.forgotten } : {}),
  };
}

function incidentOf(snapshot: IncidentSnapshot): OpenIncident {
  return {
    id: snapshot.id,
    tenantId: snapshot.tenantId,
    kind: snapshot.kind,
    group: snapshot.group,
    openedAt: snapshot.openedAt,
    severity: snapshot.severity,
    toldSeverity: snapshot.toldSeverity,
    series: new Map(snapshot.series.map((s) => [s.series, s])),
    unlistedSeries: snapshot.unlistedSeries,
    latest: snapshot.latest,
    lastAnomalyAt: snapshot.lastAnomalyAt,
    lastToldAt: snapshot.lastToldAt,
    sequence: snapshot.sequence,
    ...(snapshot.usualGapMs !== undefined ? { usualGapMs: snapshot.usualGapMs } : {}),
    ...(snapshot.forgotten !== undefined ? { forgotten: snapshot.forgotten } : {}),
  };
}

function incidentIdOf(tenant: TenantId, group: string, firstAnomaly: string): string {
  const digest = createHash('sha256').update(`${tenant}\u0000${group}\u0000${firstAnomaly}`).digest('hex');
  return `inc_${digest.slice(0, 20)}`;
}

function trackedOf(anomaly: ObservedAnomaly): TrackedSeries {
  const identity = parseSeriesKey(anomaly.series);
  return {
    series: anomaly.series,
    metric: identity?.metric ?? anomaly.series,
    labels: identity?.labels ?? {},
    ts: anomaly.ts,
    value: anomaly.value,
    score: anomaly.score,
    detectors: anomaly.detectors,
    ...(anomaly.triage ? { triage: anomaly.triage } : {}),
    anomalyId: anomaly.id,
  };
}

function notifiedOf(series: TrackedSeries): NotifiedSeries {
  const { anomalyId: _, ...notified } = series;
  return notified;
}

function rank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

function titleOf(incident: OpenIncident, listed: readonly TrackedSeries[]): string {
  if (incident.kind === 'no_data') return `${listed[0].series} stopped reporting`;
  const count = listed.length + incident.unlistedSeries;
  if (count === 1) return `${listed[0].series} anomalous (${incident.severity})`;
  return `${count} series anomalous on ${incident.group} (${incident.severity})`;
}

function summaryOf(
  incident: OpenIncident,
  listed: readonly TrackedSeries[],
  state: IncidentState,
  now: number,
): string {
  const since = new Date(incident.openedAt).toISOString();
  if (state === 'resolved') {
    const quiet = Math.round((now - incident.lastAnomalyAt) / 60_000);
    return `No anomaly for ${quiet} min; the incident was open since ${since}.`;
  }
  if (listed.length + incident.unlistedSeries === 1) {
    const s = listed[0];
    const said = s.triage?.status === 'done' ? ` ${s.triage.explanation}` : '';
    return `Value ${formatNumber(s.value)} at ${new Date(s.ts).toISOString()}, score ${s.score.toFixed(2)}; anomalous since ${since}.${said}`;
  }
  const named = listed.slice(0, PRESENTED_SERIES).map((s) => s.series);
  const more = listed.length + incident.unlistedSeries - named.length;
  return `${named.join(', ')}${more > 0 ? ` and ${more} more` : ''} went anomalous together since ${since}.`;
}

function noDataSummaryOf(incident: OpenIncident, state: IncidentState, now: number): string {
  const silentMin = Math.round((now - incident.openedAt) / 60_000);
  const since = new Date(incident.openedAt).toISOString();
  if (state === 'resolved' && incident.forgotten) {
    return `Silent for ${silentMin} min since ${since}: the series is no longer watched until it reports again.`;
  }
  if (state === 'resolved') return `Reporting again after ${silentMin} min of silence (since ${since}).`;
  const last = incident.latest;
  const gap = Math.max(1, Math.round((incident.usualGapMs ?? 0) / 1000));
  return `No point for ${silentMin} min (it reported about every ${gap} s); last value ${formatNumber(last.value)} at ${new Date(last.ts).toISOString()}.`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, '');
}

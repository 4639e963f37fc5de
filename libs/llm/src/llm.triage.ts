import { Logger, type LoggerService } from '@nestjs/common';
import { type WindowPoint } from './baseline';
import { LruCache } from './lru-cache';
import {
  buildProfilePrompt,
  parseProfile,
  PROFILE_MAX_OUTPUT_TOKENS,
  PROFILE_SCHEMA,
  PROFILE_SCHEMA_NAME,
  type SeriesProfile,
  seriesPattern,
} from './profile';
import { type ProfileRepository } from './profile.repository';
import { type JsonSchema, type LlmAnswer, type LlmProvider, type LlmUsage } from './provider';
import { type TriageOutcome, type TriageScheduler } from './triage.scheduler';
import {
  buildTriagePrompt,
  MAX_OUTPUT_TOKENS,
  MAX_TRIAGE_TOKENS,
  type TriageCandidate,
  triageCacheKey,
} from './triage.prompt';
import { type AnomalyTriage, parseVerdict, VERDICT_SCHEMA, VERDICT_SCHEMA_NAME } from './verdict';

/** What a tenant chose for what is sent (its LLM settings). */
export interface TriagePrivacy {
  /** Label names (globs) whose values are never sent. */
  readonly redactLabels: readonly string[];
  /** Zero retention: prompts are built and dropped in memory, never logged. */
  readonly zeroRetention: boolean;
}

/** Tokens a call cost, for the usage counters: `key` identifies the work, so a retried meter write counts once. */
export type TriageMeter = (tenantId: string, usage: LlmUsage, key: string) => void;

export interface LlmTriageOptions {
  readonly meter?: TriageMeter;
  /** Stored profiles: a restart or another process does not profile a pattern again. */
  readonly profiles?: ProfileRepository;
  /** Log prompts and answers (debug; never for zero-retention tenants). */
  readonly logPrompts?: boolean;
  readonly logger?: Pick<LoggerService, 'log' | 'warn' | 'debug'>;
  readonly clock?: () => number;
  /** Profiles held in memory (default 100 000 patterns). */
  readonly profileCacheSize?: number;
}

/** A candidate known by what costs nothing to know; what the LLM is shown is read later (`gather`). */
export interface TriageRequest {
  readonly tenantId: string;
  readonly anomalyId: string;
  /** The queue's priority: the most severe first, the least severe dropped. */
  readonly score: number;
  /** The candidate's features (triageCacheKey): candidates alike get one answer. */
  readonly cacheKey: string;
  /** Reads what the LLM is shown; called once, in the scheduler's slot. */
  gather(): Promise<TriageCandidate>;
}

/** Counts of what triage did, beyond the scheduler's: for /metrics and the tests. */
export interface LlmTriageCounts {
  profiled: number;
  profilesFromStore: number;
  profileFailures: number;
}

/**
 * Triage and profiling of candidate anomalies by the deployment's LLM, through one
 * scheduler (one queue, one budget, one breaker for both kinds of call). Nothing here is
 * awaited by scoring: the alert path asks, and gets an answer within its wait or a skip.
 */
export class LlmTriage {
  private readonly meter: TriageMeter;
  private readonly profiles: ProfileRepository | undefined;
  private readonly logPrompts: boolean;
  private readonly logger: Pick<LoggerService, 'log' | 'warn' | 'debug'>;
  private readonly clock: () => number;
  /** Profile of each tenant's pattern; `null` while none could be had (asked again after the TTL). */
  private readonly profileCache: LruCache<SeriesProfile | null>;
  private readonly profiling = new Map<string, Promise<SeriesProfile | undefined>>();
  readonly counts: LlmTriageCounts = { profiled: 0, profilesFromStore: 0, profileFailures: 0 };

  constructor(
    private readonly provider: LlmProvider,
    private readonly scheduler: TriageScheduler<unknown>,
    options: LlmTriageOptions = {},
  ) {
    this.meter = options.meter ?? (() => undefined);
    this.profiles = options.profiles;
    this.logPrompts = options.logPrompts ?? false;
    this.logger = options.logger ?? new Logger(LlmTriage.name);
    this.clock = options.clock ?? Date.now;
    this.profileCache = new LruCache({
      maxEntries: options.profileCacheSize ?? 100_000,
      ttlMs: 24 * 3_600_000,
      clock: this.clock,
    });
  }

  get model(): string {
    return this.provider.model;
  }

  /**
   * The verdict on one candidate, or why there is none: resolves within `waitMs` (the
   * scheduler's deadline), never rejects. Tokens spent are metered, skipped calls included.
   */
  triage(candidate: TriageCandidate, privacy: TriagePrivacy, waitMs: number): Promise<AnomalyTriage> {
    return this.triageLazily(
      {
        tenantId: candidate.tenantId,
        anomalyId: candidate.anomalyId,
        score: candidate.score,
        cacheKey: triageCacheKey(candidate, privacy.redactLabels),
        gather: () => Promise.resolve(candidate),
      },
      privacy,
      waitMs,
    );
  }

  /**
   * `triage` of a candidate whose data is read only when its call is about to be made: in
   * the scheduler's slot, so what the reads cost is bounded by its concurrency, and a
   * candidate dropped from a full queue, skipped by the breaker or over budget reads
   * nothing. Read once, whatever the retries.
   */
  async triageLazily(request: TriageRequest, privacy: TriagePrivacy, waitMs: number): Promise<AnomalyTriage> {
    let gathered: Promise<TriageCandidate> | undefined;
    const outcome = await this.scheduler.submit(
      {
        tenantId: request.tenantId,
        cacheKey: `triage:${request.cacheKey}`,
        priority: request.score,
        estimatedTokens: MAX_TRIAGE_TOKENS,
        run: async (signal) => {
          gathered ??= request.gather();
          const built = buildTriagePrompt(await gathered, privacy.redactLabels);
          const answer = await this.ask(
            built,
            VERDICT_SCHEMA_NAME,
            VERDICT_SCHEMA,
            MAX_OUTPUT_TOKENS,
            signal,
          );
          const verdict = parseVerdict(answer.output, answer.usage);
          if (this.logPrompts && !privacy.zeroRetention) {
            this.logger.debug?.(
              `triage of ${request.anomalyId}: ${built.prompt} -> ${JSON.stringify(answer.output)}`,
            );
          }
          return { value: { ...verdict, model: answer.model }, usage: answer.usage };
        },
      },
      { deadlineMs: waitMs },
    );
    this.meterOutcome(request.tenantId, outcome, `triage/${request.anomalyId}`);
    if (outcome.status === 'skipped') return { status: 'skipped', reason: outcome.reason };
    const value = outcome.value as Omit<Extract<AnomalyTriage, { status: 'done' }>, 'status' | 'cached'>;
    return { status: 'done', ...value, cached: outcome.cached };
  }

  /**
   * The profile of a series' pattern: from memory, from the store, or (the first time the
   * pattern is a candidate) from one call; undefined when none could be had in `waitMs`.
   * Concurrent asks for one pattern share one call.
   */
  async profile(
    tenantId: string,
    metric: string,
    labels: Readonly<Record<string, string>>,
    firstPoints: readonly WindowPoint[],
    privacy: TriagePrivacy,
    waitMs: number,
  ): Promise<SeriesProfile | undefined> {
    const pattern = seriesPattern(metric, labels);
    const key = `${tenantId}\u0000${pattern}`;
    const cached = this.profileCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const running = this.profiling.get(key);
    if (running) return running;
    const asked = this.askProfile(tenantId, pattern, metric, labels, firstPoints, privacy, waitMs).finally(
      () => this.profiling.delete(key),
    );
    this.profiling.set(key, asked);
    return asked;
  }

  /** Forgets a tenant's profiles held in memory (an erased tenant; its stored rows go with its data). */
  forgetTenant(tenantId: string): void {
    this.profileCache.deleteWhere((key) => key.startsWith(`${tenantId}\u0000`));
  }

  private async askProfile(
    tenantId: string,
    pattern: string,
    metric: string,
    labels: Readonly<Record<string, string>>,
    firstPoints: readonly WindowPoint[],
    privacy: TriagePrivacy,
    waitMs: number,
  ): Promise<SeriesProfile | undefined> {
    const key = `${tenantId}\u0000${pattern}`;
    if (this.profiles) {
      try {
        const stored = await this.profiles.read(tenantId, pattern);
        if (stored) {
          this.counts.profilesFromStore++;
          this.profileCache.set(key, stored);
          return stored;
        }
      } catch (error) {
        this.logger.warn(`reading the profile of ${pattern} failed: ${messageOf(error)}`);
      }
    }
    const built = buildProfilePrompt(metric, labels, firstPoints, privacy.redactLabels);
    const outcome = await this.scheduler.submit(
      {
        tenantId,
        cacheKey: `profile:${key}`,
        // Below every candidate: a profile is worth less than a verdict on a live anomaly.
        priority: -1,
        estimatedTokens: built.estimatedTokens,
        run: async (signal) => {
          const answer = await this.ask(
            built,
            PROFILE_SCHEMA_NAME,
            PROFILE_SCHEMA,
            PROFILE_MAX_OUTPUT_TOKENS,
            signal,
          );
          return { value: parseProfile(answer.output, answer.usage), usage: answer.usage };
        },
      },
      { deadlineMs: waitMs },
    );
    this.meterOutcome(tenantId, outcome, `profile/${tenantId}/${pattern}`);
    if (outcome.status === 'skipped') {
      this.counts.profileFailures++;
      // An answer that could not be used is not asked for again today; a busy or broken provider is.
      if (UNUSABLE.has(outcome.reason)) this.profileCache.set(key, null);
      return undefined;
    }
    const profile = outcome.value as SeriesProfile;
    this.counts.profiled++;
    this.profileCache.set(key, profile);
    if (this.profiles && !outcome.cached) {
      await this.profiles
        .write(tenantId, pattern, profile, this.provider.model, this.clock())
        .catch((error: unknown) =>
          this.logger.warn(`storing the profile of ${pattern} failed: ${messageOf(error)}`),
        );
    }
    return profile;
  }

  private ask(
    built: { readonly system: string; readonly prompt: string },
    schemaName: string,
    schema: JsonSchema,
    maxOutputTokens: number,
    signal: AbortSignal,
  ): Promise<LlmAnswer> {
    return this.provider.complete({
      system: built.system,
      prompt: built.prompt,
      schemaName,
      schema,
      maxOutputTokens,
      signal,
    });
  }

  /** Meters what a call cost; a meter that fails is logged, never the triage's failure. */
  private meterOutcome(tenantId: string, outcome: TriageOutcome<unknown>, key: string): void {
    const { usage } = outcome;
    if (usage.inputTokens === 0 && usage.outputTokens === 0) return;
    try {
      this.meter(tenantId, usage, key);
    } catch (error) {
      this.logger.warn(`metering ${key} failed: ${messageOf(error)}`);
    }
  }
}

// Not 'failed': that is the provider's failure (5xx, 429 after the retries), which says nothing of the series.
const UNUSABLE: ReadonlySet<string> = new Set(['malformed', 'refused']);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

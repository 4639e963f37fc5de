import { Logger, type LoggerService } from '@nestjs/common';
import {
  type ClickHouseAccess,
  DAY_MS,
  describeCause,
  RetentionRepository,
  type TenantId,
} from '@seismo/storage';
import { type Role, roleAllows, SCOPES } from './access';
import { type ApiKeyHash, generateApiKey, hashApiKey, isWellFormedApiKey, newApiKeyId } from './api-key';
import { type NewApiKey, validateNewApiKey } from './api-key.validator';
import { type AuditContext } from './audit';
import { type AuditRecord, AuditLogRepository } from './audit-log.repository';
import { type KeyIdentity } from './identity';
import {
  LIMIT_FIELDS,
  LIMIT_NAMES,
  type LimitName,
  type LimitOverrides,
  resolveLimits,
  type TenantLimits,
} from './limits';
import { type Member, newMemberId, type NewMember } from './member';
import { checkRole, normalizeEmail, validateNewMember } from './member.validator';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import {
  MAX_GRACE_DAYS,
  type NewTenant,
  newTenantId,
  type Tenant,
  TENANT_LLM_FIELDS,
  type TenantChanges,
  type TenantLlmSettings,
  tenantRetention,
  type TenantRetention,
} from './tenant';
import {
  type ApiKeyInfo,
  type ApiKeyUsage,
  type StoredApiKey,
  type StoredMember,
  type StoredTenant,
  TenantRepository,
} from './tenant.repository';
import { validateNewTenant } from './tenant.validator';

export interface TenantDirectoryOptions {
  /** How often to re-read the tables, picking up other processes' changes (default 5000 ms). */
  readonly reloadMs?: number;
  /** How often to store when keys were last used (default 60000 ms). */
  readonly usageFlushMs?: number;
  readonly logger?: Pick<LoggerService, 'warn'>;
}

/** A tenant to create, and optionally its first admin, who then holds its first key. */
export interface NewTenantWithAdmin extends NewTenant {
  readonly adminEmail?: string;
}

/** A tenant just created, with its first API key: the only time the key is seen. */
export interface CreatedTenant {
  readonly tenant: Tenant;
  readonly apiKey: string;
  readonly key: ApiKeyInfo;
  /** The first admin, when an email was given; the key is then theirs. */
  readonly admin?: Member;
}

/** A key just made: the only time its secret is seen. */
export interface CreatedApiKey {
  readonly key: ApiKeyInfo;
  readonly apiKey: string;
}

/** A key as listings show it. */
export interface ListedApiKey extends ApiKeyInfo {
  /** Epoch milliseconds, to about a minute (see `identify`); absent if never used. */
  readonly lastUsedAt?: number;
}

export const DEFAULT_RELOAD_MS = 5000;
export const DEFAULT_USAGE_FLUSH_MS = 60_000;

interface CachedTenant extends StoredTenant {
  /** Computed once: the engine asks for it for every batch. */
  readonly retention: TenantRetention;
  /** Computed once: ingest asks for them on every request. */
  readonly limits: TenantLimits;
}

/**
 * A change of a tenant's limits: a number sets one, null puts it back to the plan's.
 * Only a deployment admin may make one (the HTTP layer checks; the audit log shows who).
 */
export type LimitChanges = Partial<Record<LimitName, number | null>>;

/** What PATCH /v1/tenants/{id} may change. */
export interface TenantUpdate extends Omit<TenantChanges, 'limitOverrides'> {
  readonly limits?: LimitChanges;
}

/**
 * Every tenant, member and API key, in memory. Requests and batches are authenticated
 * and scoped from here synchronously, without a query; the tables are re-read every few
 * seconds, so a change made by another process applies here within `reloadMs`, and one
 * made here applies here at once (a revoked key or a removed member's keys stop working
 * on the next request to this process).
 *
 * Every change an admin makes goes through here with an AuditContext, and resolves only
 * once both the change and its audit entry are stored: the HTTP layer cannot answer
 * before the action is recorded, nor forget to record it.
 *
 * A failed reload keeps the last snapshot (and logs): an unreachable ClickHouse should
 * not lock every tenant out.
 */
/** Least time between two reads of the tables for one id `find` did not find. */
export const UNKNOWN_RECHECK_MS = 10_000;
const MAX_UNKNOWN_IDS = 10_000;

export class TenantDirectory {
  private tenants = new Map<TenantId, CachedTenant>();
  private keys = new Map<ApiKeyHash, StoredApiKey>();
  private keysById = new Map<string, StoredApiKey>();
  private members = new Map<string, StoredMember>();
  /** Key id to its last use (epoch ms): what is stored, and newer uses seen here. */
  private readonly lastUsed = new Map<string, number>();
  /** Keys used here since the last flush, with their tenant. */
  private unsavedUsage = new Map<string, TenantId>();
  /** Ids `find` looked for in vain, with when. */
  private readonly unknownLookedAt = new Map<TenantId, number>();
  /** The reload in flight, if any; later ones queue behind it. */
  private reloading: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** Second passes of retention changes, pending (see `updateTenant`). */
  private readonly retentionFollowUps = new Set<NodeJS.Timeout>();
  /** Re-read period, so that a retention change can wait out every process's stale copy. */
  private reloadMs = DEFAULT_RELOAD_MS;
  /** Told of every tenant that stopped existing (erased), here or, at a reload, by another process. */
  private readonly goneListeners: Array<(tenant: TenantId) => void> = [];

  private constructor(
    private readonly repository: TenantRepository,
    private readonly retentionRepository: RetentionRepository,
    /** Where admin actions are recorded; GET /v1/audit reads it. */
    readonly auditLog: AuditLogRepository,
    private readonly logger: Pick<LoggerService, 'warn'>,
  ) {}

  /** Loads everything (failing if it cannot), then keeps reloading until `close`. */
  static async open(
    access: ClickHouseAccess,
    options: TenantDirectoryOptions = {},
  ): Promise<TenantDirectory> {
    const reloadMs = positiveInteger(options.reloadMs ?? DEFAULT_RELOAD_MS, 'reloadMs');
    const usageFlushMs = positiveInteger(options.usageFlushMs ?? DEFAULT_USAGE_FLUSH_MS, 'usageFlushMs');
    const directory = new TenantDirectory(
      new TenantRepository(access),
      new RetentionRepository(access),
      new AuditLogRepository(access),
      options.logger ?? new Logger(TenantDirectory.name),
    );
    directory.reloadMs = reloadMs;
    await directory.reload();
    // unref: the timers alone must not keep a finished process alive.
    directory.timers = [
      setInterval(() => directory.reloadInBackground(), reloadMs).unref(),
      setInterval(() => directory.flushUsageInBackground(), usageFlushMs).unref(),
    ];
    return directory;
  }

  /**
   * Stops reloading and stores the last uses not yet stored (a failure is logged: a
   * last-used time is not worth failing a shutdown for). The cache stays readable.
   */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const timer of this.retentionFollowUps) clearTimeout(timer);
    this.retentionFollowUps.clear();
    this.timers = [];
    await this.flushUsage().catch((error: unknown) => {
      this.logger.warn(`storing when API keys were last used failed: ${describeCause(error)}`);
    });
  }

  /**
   * Re-reads the tables now; resolves once a read that began after this call has been
   * applied, so it sees everything stored before it was called.
   */
  reload(): Promise<void> {
    const previous = this.reloading ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => this.load())
      .finally(() => {
        if (this.reloading === next) this.reloading = undefined;
      });
    this.reloading = next;
    return next;
  }

  /**
   * Creates a tenant and its first API key: with `adminEmail`, the tenant's first admin
   * member and a key of theirs with every scope; without, a service key with every
   * scope. Resolves once everything and its audit entries are stored, and the key
   * authenticates here from then on; another process knows it after its next reload.
   * Written tenant, member, key: were a later write to fail, what remains authenticates
   * nobody.
   */
  async create(input: NewTenantWithAdmin, by: AuditContext): Promise<CreatedTenant> {
    const { adminEmail, ...fields } = input;
    const tenant: Tenant = { id: newTenantId(), ...validateNewTenant(fields) };
    const email = adminEmail === undefined ? undefined : adminEmailOf(adminEmail);
    const storedTenant = await this.repository.insertTenant(tenant);
    const storedMember =
      email === undefined
        ? undefined
        : await this.repository.writeMember({
            id: newMemberId(),
            tenantId: tenant.id,
            email,
            role: 'admin',
            createdAt: Date.now(),
          });
    const apiKey = generateApiKey();
    const storedKey = await this.repository.insertApiKey(hashApiKey(apiKey), {
      id: newApiKeyId(),
      tenantId: tenant.id,
      name: 'initial key',
      scopes: SCOPES,
      ...(storedMember ? { memberId: storedMember.member.id } : {}),
    });
    const records: AuditRecord[] = [
      { tenantId: tenant.id, action: 'tenant.created', target: tenant.id, details: tenantDetails(tenant) },
    ];
    if (storedMember) records.push(memberAdded(storedMember.member));
    records.push(keyCreated(storedKey));
    await this.auditLog.append(by, records);
    await this.settled();
    this.rememberTenant(storedTenant);
    if (storedMember) this.rememberMember(storedMember);
    this.rememberKey(storedKey);
    return {
      tenant,
      apiKey,
      key: info(storedKey),
      ...(storedMember ? { admin: storedMember.member } : {}),
    };
  }

  /**
   * Changes a tenant's name, retention, plan, limits or LLM settings. A change of retention applies to
   * the rows already stored too: the tables' TTL reads each row's `retention_days`, so
   * the tenant's rows are rewritten with the new value (RetentionRepository: a mutation
   * that also re-evaluates the TTL, which drops what the shorter retention no longer
   * keeps at once). Rows written by an engine that had not yet re-read the tenant (up to
   * `reloadMs` after the change, plus a batch in flight) still carry the old value: one
   * second pass, three reload periods later, rewrites those.
   */
  async updateTenant(id: TenantId, changes: TenantUpdate, by: AuditContext): Promise<Tenant> {
    const current = await this.fresh(() => this.tenants.get(id));
    if (!current) throw new TenancyException(TenancyExceptionCode.UNKNOWN_TENANT, `no tenant ${id}`);
    const before = current.tenant;
    const { limits: limitChanges, llm: llmChanges, ...fields } = changes;
    const defined = definedOnly(fields);
    const limitOverrides = limitChanges ? applyLimitChanges(before.limitOverrides, limitChanges) : undefined;
    const tenant: Tenant = {
      id,
      ...validateNewTenant({
        ...before,
        ...defined,
        ...(limitOverrides ? { limitOverrides } : {}),
        // Merged into the current settings; a null dailyTokens stays null, which validation reads as the default.
        llm: { ...before.llm, ...definedOnly(llmChanges ?? {}) },
      }),
      ...(before.closure ? { closure: before.closure } : {}),
    };
    const changed: Record<string, { from: unknown; to: unknown }> = Object.fromEntries(
      (['name', 'pointsDays', 'anomaliesDays', 'zeroRetention', 'plan'] as const)
        .filter((field) => before[field] !== tenant[field])
        .map((field) => [snake(field), { from: before[field], to: tenant[field] }]),
    );
    for (const name of LIMIT_NAMES) {
      const [from, to] = [before.limitOverrides[name] ?? null, tenant.limitOverrides[name] ?? null];
      if (from !== to) changed[`limits.${LIMIT_FIELDS[name]}`] = { from, to };
    }
    for (const name of TENANT_LLM_FIELDS) {
      const [from, to] = [before.llm[name] ?? null, tenant.llm[name] ?? null];
      // redactLabels is an array: compared by content, order included.
      if (JSON.stringify(from) !== JSON.stringify(to)) changed[`llm.${snake(name)}`] = { from, to };
    }
    const stored = await this.repository.updateTenant(tenant);
    await this.auditLog.append(by, [
      { tenantId: id, action: 'tenant.updated', target: id, details: { changes: changed } },
    ]);
    await this.settled();
    this.rememberTenant(stored);
    const retention = tenantRetention(tenant);
    if (
      retention.pointsDays !== current.retention.pointsDays ||
      retention.anomaliesDays !== current.retention.anomaliesDays
    ) {
      // The second pass is scheduled first: if the first fails (the answer is then an
      // error), the stored rows still get the new retention a few seconds later.
      this.followUpRetention(id, retention);
      await this.retentionRepository.apply(id, retention);
    }
    return tenant;
  }

  /**
   * Closes a tenant (offboarding): from then on its keys authenticate nobody, here at once
   * and in other processes at their next reload, and its data is erased once `graceDays`
   * have passed (TenantPurger), unless a deployment admin reopens it first. Closing a
   * closed tenant again sets a new grace period from the same closing instant.
   */
  async closeTenant(id: TenantId, graceDays: number, by: AuditContext, now = Date.now()): Promise<Tenant> {
    if (!Number.isInteger(graceDays) || graceDays < 0 || graceDays > MAX_GRACE_DAYS) {
      throw new TenancyException(
        TenancyExceptionCode.INVALID_TENANT,
        `graceDays must be an integer number of days in 0..${MAX_GRACE_DAYS}, got ${graceDays}`,
        'graceDays',
      );
    }
    const before = await this.requireTenant(id);
    const closedAt = before.closure?.closedAt ?? now;
    const tenant: Tenant = { ...before, closure: { closedAt, purgeAfter: closedAt + graceDays * DAY_MS } };
    await this.storeTenant(tenant, by, 'tenant.closed', {
      grace_days: graceDays,
      purge_after: new Date(tenant.closure!.purgeAfter).toISOString(),
    });
    return tenant;
  }

  /** Reopens a closed tenant before its data is erased: its keys work again. */
  async reopenTenant(id: TenantId, by: AuditContext): Promise<Tenant> {
    const before = await this.requireTenant(id);
    if (!before.closure) return before;
    const { closure, ...tenant } = before;
    await this.storeTenant(tenant, by, 'tenant.reopened', {
      closed_at: new Date(closure.closedAt).toISOString(),
    });
    return tenant;
  }

  /** Closed tenants whose grace period is over at `now`: what the purge erases. */
  closedDue(now = Date.now()): Tenant[] {
    return [...this.tenants.values()]
      .map((cached) => cached.tenant)
      .filter((tenant) => tenant.closure !== undefined && tenant.closure.purgeAfter <= now);
  }

  /**
   * Drops a tenant, its members and keys from this process's memory at once (its rows
   * are being erased: TenantEraser), and tells the `onGone` listeners.
   */
  forget(id: TenantId): void {
    this.tenants.delete(id);
    for (const [memberId, stored] of [...this.members]) {
      if (stored.member.tenantId === id) this.members.delete(memberId);
    }
    for (const key of [...this.keysById.values()]) if (key.tenantId === id) this.forgetKey(key);
    this.gone(id);
  }

  /**
   * Calls `listener` with each tenant that stops existing: forgotten here, or gone from the
   * tables at a reload (erased by another process). The engine drops its detector state.
   * Returns what stops the calls (a service that stops before the directory does).
   */
  onGone(listener: (tenant: TenantId) => void): () => void {
    const entry = (tenant: TenantId): void => listener(tenant);
    this.goneListeners.push(entry);
    return () => {
      const at = this.goneListeners.indexOf(entry);
      if (at >= 0) this.goneListeners.splice(at, 1);
    };
  }

  /** How often the tables are re-read: how long another process may still hold a change's old copy. */
  get reloadPeriodMs(): number {
    return this.reloadMs;
  }

  /** The limits in force for a tenant: its plan's with its overrides. UNKNOWN_TENANT if none. */
  limitsOf(id: TenantId): TenantLimits {
    const cached = this.tenants.get(id);
    if (!cached) throw new TenancyException(TenancyExceptionCode.UNKNOWN_TENANT, `no tenant ${id}`);
    return cached.limits;
  }

  /**
   * The second pass of a retention change, if the retention is still the one changed
   * to. Best effort: a failure is logged, and a process stopped before it runs leaves
   * the few rows of that window with the old retention (documented in the README).
   */
  private followUpRetention(id: TenantId, retention: TenantRetention): void {
    const timer = setTimeout(() => {
      this.retentionFollowUps.delete(timer);
      const now = this.tenants.get(id)?.retention;
      if (!now || now.pointsDays !== retention.pointsDays || now.anomaliesDays !== retention.anomaliesDays)
        return;
      this.retentionRepository.apply(id, retention).catch((error: unknown) => {
        this.logger.warn(
          `second pass of the retention change of tenant ${id} failed: ${describeCause(error)}`,
        );
      });
    }, 3 * this.reloadMs).unref();
    this.retentionFollowUps.add(timer);
  }

  /**
   * Who an API key speaks for, or undefined for a key that is unknown, revoked, not a
   * key at all, or whose member was removed. Looked up by the key's sha256 in a Map:
   * the lookup compares hashes, not secrets, so its timing can only tell an attacker
   * about hashes of what they sent, which says nothing about any stored key; a
   * timingSafeEqual here would protect nothing (the admin token, compared directly,
   * uses one: admin-token.ts).
   *
   * Notes the key's use in memory; the last uses are stored about once a minute
   * (`usageFlushMs`), in one write for all keys, never one per request.
   */
  identify(apiKey: string): KeyIdentity | undefined {
    if (!isWellFormedApiKey(apiKey)) return undefined;
    const key = this.keys.get(hashApiKey(apiKey));
    if (!key) return undefined;
    const tenant = this.tenants.get(key.tenantId)?.tenant;
    // A closed tenant's keys stop at once; reopening it brings them back.
    if (!tenant || tenant.closure) return undefined;
    let member: Member | undefined;
    if (key.memberId !== undefined) {
      member = this.memberOf(key.tenantId, key.memberId);
      // A removed member's keys stop at once, before their revocation is even stored.
      if (!member) return undefined;
    }
    this.lastUsed.set(key.id, Date.now());
    this.unsavedUsage.set(key.id, key.tenantId);
    return member ? { tenant, key, member } : { tenant, key };
  }

  /** The tenant of a valid key (see `identify`), or undefined. */
  authenticate(apiKey: string): Tenant | undefined {
    return this.identify(apiKey)?.tenant;
  }

  get(id: TenantId): Tenant | undefined {
    return this.tenants.get(id)?.tenant;
  }

  /**
   * The tenant, reading the tables again first when this process does not know it: one
   * made a moment ago on another process is found before the next periodic reload. An
   * id still unknown after a read is not read for again within UNKNOWN_RECHECK_MS, so a
   * stream of a deleted tenant's points costs one read, not one per batch.
   */
  async find(id: TenantId, now = Date.now()): Promise<Tenant | undefined> {
    const known = this.get(id);
    if (known) return known;
    const lookedAt = this.unknownLookedAt.get(id);
    if (lookedAt !== undefined && now - lookedAt < UNKNOWN_RECHECK_MS) return undefined;
    await this.reload();
    const found = this.get(id);
    if (found) this.unknownLookedAt.delete(id);
    else {
      // Bounded: ids are checked before they get here, yet a flood of distinct ones must not grow it without end.
      if (this.unknownLookedAt.size >= MAX_UNKNOWN_IDS) this.unknownLookedAt.clear();
      this.unknownLookedAt.set(id, now);
    }
    return found;
  }

  /**
   * What to write into a tenant's rows now (pointsDays 0 under zero retention). Throws
   * UNKNOWN_TENANT for a tenant that does not exist (a Kafka topic of a deleted one).
   */
  retentionOf(id: TenantId): TenantRetention {
    const cached = this.tenants.get(id);
    if (!cached) {
      throw new TenancyException(TenancyExceptionCode.UNKNOWN_TENANT, `no tenant ${id}`);
    }
    return cached.retention;
  }

  /** A tenant's members, oldest first. */
  membersOf(tenant: TenantId): Member[] {
    return [...this.members.values()]
      .map((stored) => stored.member)
      .filter((member) => member.tenantId === tenant)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /**
   * Adds a member; MEMBER_EXISTS if the tenant has one with this email. The check reads
   * the tables first, so it sees members other processes added; two processes adding
   * the same email in the same instant could still both succeed (ClickHouse has no
   * unique constraint), which leaves two rows an admin can see and remove.
   */
  async addMember(tenant: TenantId, input: NewMember, by: AuditContext): Promise<Member> {
    const valid = validateNewMember(input);
    await this.reload();
    if (this.membersOf(tenant).some((member) => member.email === valid.email)) {
      throw new TenancyException(
        TenancyExceptionCode.MEMBER_EXISTS,
        `the tenant already has a member with the email ${valid.email}`,
        'email',
      );
    }
    const stored = await this.repository.writeMember({
      id: newMemberId(),
      tenantId: tenant,
      ...valid,
      createdAt: Date.now(),
    });
    await this.auditLog.append(by, [memberAdded(stored.member)]);
    await this.settled();
    this.rememberMember(stored);
    return stored.member;
  }

  /**
   * Gives a member another role. Their keys keep their scopes, and may use only those
   * the new role allows: a demoted admin's admin key stops doing admin work at once.
   */
  async changeRole(tenant: TenantId, memberId: string, role: Role, by: AuditContext): Promise<Member> {
    const newRole = checkRole(role);
    const member = await this.requireMember(tenant, memberId);
    if (member.role === newRole) return member;
    if (member.role === 'admin') this.keepAnAdmin(tenant, member, 'demote');
    const stored = await this.repository.writeMember({ ...member, role: newRole });
    await this.auditLog.append(by, [
      {
        tenantId: tenant,
        action: 'member.role_changed',
        target: member.id,
        details: { email: member.email, from: member.role, to: newRole },
      },
    ]);
    await this.settled();
    this.rememberMember(stored);
    return stored.member;
  }

  /**
   * Removes a member and revokes every key of theirs. Their keys stop working here once
   * the removal is stored and recorded (identify needs the member), and in other
   * processes at their next reload.
   */
  async removeMember(tenant: TenantId, memberId: string, by: AuditContext): Promise<Member> {
    const member = await this.requireMember(tenant, memberId);
    if (member.role === 'admin') this.keepAnAdmin(tenant, member, 'remove');
    const stored = await this.repository.writeMember(member, true);
    await this.repository.revokeMemberKeys(tenant, member.id);
    await this.auditLog.append(by, [
      {
        tenantId: tenant,
        action: 'member.removed',
        target: member.id,
        details: { email: member.email, role: member.role },
      },
    ]);
    await this.settled();
    const current = this.members.get(member.id);
    if (!current || current.version <= stored.version) this.members.delete(member.id);
    for (const key of [...this.keysById.values()]) {
      if (key.tenantId === tenant && key.memberId === member.id) this.forgetKey(key);
    }
    return member;
  }

  /** A tenant's active keys, oldest first, with when each was last used. */
  keysOf(tenant: TenantId): ListedApiKey[] {
    return [...this.keysById.values()]
      .filter((key) => key.tenantId === tenant)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      .map((key) => {
        const lastUsedAt = this.lastUsed.get(key.id);
        return { ...info(key), ...(lastUsedAt !== undefined ? { lastUsedAt } : {}) };
      });
  }

  /**
   * Makes a key, shown once. A member's key may not carry a scope the member's role does
   * not allow (a member-role person cannot hold an admin key): refused naming `scopes`.
   * Any number of keys may be active at once, which is what rotation needs: make the new
   * key, move clients to it, revoke the old one.
   */
  async createKey(tenant: TenantId, input: NewApiKey, by: AuditContext): Promise<CreatedApiKey> {
    const valid = validateNewApiKey(input);
    if (valid.memberId !== undefined) {
      const member = await this.fresh(() => this.memberOf(tenant, valid.memberId!));
      if (!member) {
        throw new TenancyException(
          TenancyExceptionCode.INVALID_API_KEY,
          `member_id: the tenant has no member ${valid.memberId}`,
          'member_id',
        );
      }
      const refused = valid.scopes.find((scope) => !roleAllows(member.role, scope));
      if (refused !== undefined) {
        throw new TenancyException(
          TenancyExceptionCode.INVALID_API_KEY,
          `scopes: member ${member.id} has the role '${member.role}', which does not allow the '${refused}' scope`,
          'scopes',
        );
      }
    }
    const apiKey = generateApiKey();
    const stored = await this.repository.insertApiKey(hashApiKey(apiKey), {
      id: newApiKeyId(),
      tenantId: tenant,
      name: valid.name,
      scopes: valid.scopes,
      ...(valid.memberId !== undefined ? { memberId: valid.memberId } : {}),
    });
    await this.auditLog.append(by, [keyCreated(stored)]);
    await this.settled();
    this.rememberKey(stored);
    return { key: info(stored), apiKey };
  }

  /** Revokes a key: it stops working here at once, in other processes at their next reload. */
  async revokeKey(tenant: TenantId, keyId: string, by: AuditContext): Promise<ApiKeyInfo> {
    const key = await this.fresh(() => {
      const found = this.keysById.get(keyId);
      return found?.tenantId === tenant ? found : undefined;
    });
    if (!key) {
      throw new TenancyException(
        TenancyExceptionCode.UNKNOWN_API_KEY,
        `the tenant has no active key ${keyId}`,
      );
    }
    await this.repository.revokeApiKey(key);
    await this.auditLog.append(by, [
      { tenantId: tenant, action: 'key.revoked', target: key.id, details: { name: key.name } },
    ]);
    await this.settled();
    this.forgetKey(key);
    return info(key);
  }

  /** Stores the key uses noted since the last flush, in one write; kept for the next one if it fails. */
  async flushUsage(): Promise<void> {
    if (this.unsavedUsage.size === 0) return;
    const unsaved = this.unsavedUsage;
    this.unsavedUsage = new Map();
    const usage: ApiKeyUsage[] = [...unsaved].map(([keyId, tenantId]) => ({
      tenantId,
      keyId,
      lastUsedAt: this.lastUsed.get(keyId) ?? Date.now(),
    }));
    try {
      await this.repository.recordUsage(usage);
    } catch (error) {
      for (const [keyId, tenantId] of unsaved) this.unsavedUsage.set(keyId, tenantId);
      throw error;
    }
  }

  private async load(): Promise<void> {
    const snapshot = await this.repository.loadActive();
    // Replaced whole rather than merged: a key revoked or a member removed since the last
    // load must go.
    const before = this.tenants;
    this.tenants = new Map(snapshot.tenants.map((stored) => [stored.tenant.id, cache(stored)]));
    for (const id of before.keys()) if (!this.tenants.has(id)) this.gone(id);
    this.members = new Map(snapshot.members.map((stored) => [stored.member.id, stored]));
    this.keys = new Map(snapshot.keys.map((key) => [key.keyHash, key]));
    this.keysById = new Map(snapshot.keys.map((key) => [key.id, key]));
    // Uses only ever move forward: one seen here and not yet stored stays.
    for (const { keyId, lastUsedAt } of snapshot.usage) {
      if (lastUsedAt > (this.lastUsed.get(keyId) ?? -Infinity)) this.lastUsed.set(keyId, lastUsedAt);
    }
  }

  private reloadInBackground(): void {
    // A tick that finds the previous reload still running skips rather than queueing:
    // a slow ClickHouse would otherwise pile up reads.
    if (this.reloading) return;
    this.reload().catch((error: unknown) => {
      this.logger.warn(`reloading tenants failed, keeping the last ones loaded: ${describeCause(error)}`);
    });
  }

  private flushUsageInBackground(): void {
    this.flushUsage().catch((error: unknown) => {
      this.logger.warn(
        `storing when API keys were last used failed, retrying later: ${describeCause(error)}`,
      );
    });
  }

  /**
   * Waits out a reload that may have read the tables before a write of ours: applied
   * after our own entries, its snapshot would undo them until the next reload.
   */
  private async settled(): Promise<void> {
    await this.reloading?.catch(() => undefined);
  }

  /**
   * What `find` gives from the cache, or after a reload if the cache has nothing: what
   * another process made moments ago is found too, and a miss costs one read.
   */
  private async fresh<T>(find: () => T | undefined): Promise<T | undefined> {
    const cached = find();
    if (cached !== undefined) return cached;
    await this.reload();
    return find();
  }

  /**
   * Refuses to demote or remove a tenant's last admin member: only an admin can make
   * another, and the deployment's admin token cannot act inside a tenant, so nobody could
   * undo it. A tenant made without admin_email has no admin member (its service key
   * administers it) and is not concerned until it gets one.
   */
  private keepAnAdmin(tenant: TenantId, member: Member, verb: 'demote' | 'remove'): void {
    const admins = this.membersOf(tenant).filter((m) => m.role === 'admin');
    if (admins.length === 1 && admins[0].id === member.id) {
      throw new TenancyException(
        TenancyExceptionCode.LAST_ADMIN,
        `cannot ${verb} ${member.email}: the tenant's only admin; make another member admin first`,
      );
    }
  }

  /**
   * A tenant stopped existing: the last uses of its keys noted here are not stored (they
   * would put its id back into a table after its erasure), and the listeners hear of it.
   */
  private gone(id: TenantId): void {
    for (const [keyId, tenant] of [...this.unsavedUsage]) {
      if (tenant === id) {
        this.unsavedUsage.delete(keyId);
        this.lastUsed.delete(keyId);
      }
    }
    for (const listener of [...this.goneListeners]) listener(id);
  }

  private async requireTenant(id: TenantId): Promise<Tenant> {
    const tenant = await this.fresh(() => this.tenants.get(id)?.tenant);
    if (!tenant) throw new TenancyException(TenancyExceptionCode.UNKNOWN_TENANT, `no tenant ${id}`);
    return tenant;
  }

  /** Stores a changed tenant with its audit entry, then holds it here. */
  private async storeTenant(
    tenant: Tenant,
    by: AuditContext,
    action: 'tenant.closed' | 'tenant.reopened',
    details: Record<string, unknown>,
  ): Promise<void> {
    const stored = await this.repository.updateTenant(tenant);
    await this.auditLog.append(by, [{ tenantId: tenant.id, action, target: tenant.id, details }]);
    await this.settled();
    this.rememberTenant(stored);
  }

  private memberOf(tenant: TenantId, memberId: string): Member | undefined {
    const member = this.members.get(memberId)?.member;
    return member?.tenantId === tenant ? member : undefined;
  }

  private async requireMember(tenant: TenantId, memberId: string): Promise<Member> {
    const member = await this.fresh(() => this.memberOf(tenant, memberId));
    if (!member) {
      throw new TenancyException(TenancyExceptionCode.UNKNOWN_MEMBER, `the tenant has no member ${memberId}`);
    }
    return member;
  }

  // Each write wins only over an older version: a reload may already hold a newer one.
  private rememberTenant(stored: StoredTenant): void {
    const current = this.tenants.get(stored.tenant.id);
    if (!current || current.version <= stored.version) this.tenants.set(stored.tenant.id, cache(stored));
  }

  private rememberMember(stored: StoredMember): void {
    const current = this.members.get(stored.member.id);
    if (!current || current.version <= stored.version) this.members.set(stored.member.id, stored);
  }

  private rememberKey(stored: StoredApiKey): void {
    const current = this.keys.get(stored.keyHash);
    if (!current || current.version <= stored.version) {
      this.keys.set(stored.keyHash, stored);
      this.keysById.set(stored.id, stored);
    }
  }

  private forgetKey(key: StoredApiKey): void {
    this.keys.delete(key.keyHash);
    this.keysById.delete(key.id);
  }
}

function cache(stored: StoredTenant): CachedTenant {
  const { tenant } = stored;
  return {
    ...stored,
    retention: tenantRetention(tenant),
    limits: resolveLimits(tenant.plan, tenant.limitOverrides),
  };
}

/** The entries of `changes` that are given: an undefined one changes nothing. */
function definedOnly<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Overrides after a change: a number sets one, null removes it (the plan's applies again). */
function applyLimitChanges(current: LimitOverrides, changes: LimitChanges): LimitOverrides {
  const next: Partial<Record<LimitName, number>> = { ...current };
  for (const [name, value] of Object.entries(changes) as [LimitName, number | null | undefined][]) {
    if (value === null) delete next[name];
    else if (value !== undefined) next[name] = value;
  }
  return next;
}

/** A key's public fields, without its hash or row version. */
function info(key: StoredApiKey): ApiKeyInfo {
  return {
    id: key.id,
    tenantId: key.tenantId,
    name: key.name,
    scopes: key.scopes,
    ...(key.memberId !== undefined ? { memberId: key.memberId } : {}),
    createdAt: key.createdAt,
  };
}

function tenantDetails(tenant: Tenant): Record<string, unknown> {
  return {
    name: tenant.name,
    points_days: tenant.pointsDays,
    anomalies_days: tenant.anomaliesDays,
    zero_retention: tenant.zeroRetention,
    plan: tenant.plan,
    llm: llmDetails(tenant.llm),
  };
}

/** LLM settings as the API spells them, `daily_tokens` null for the deployment's budget. */
function llmDetails(llm: TenantLlmSettings): Record<string, unknown> {
  return Object.fromEntries(TENANT_LLM_FIELDS.map((name) => [snake(name), llm[name] ?? null]));
}

function memberAdded(member: Member): AuditRecord {
  return {
    tenantId: member.tenantId,
    action: 'member.added',
    target: member.id,
    details: { email: member.email, role: member.role },
  };
}

function keyCreated(key: StoredApiKey): AuditRecord {
  return {
    tenantId: key.tenantId,
    action: 'key.created',
    target: key.id,
    details: { name: key.name, scopes: key.scopes, ...(key.memberId ? { member_id: key.memberId } : {}) },
  };
}

/** The API's spelling of a Tenant field, for audit details. */
function snake(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** The first admin's email, refused naming `adminEmail` as the input spells it. */
function adminEmailOf(email: string): string {
  try {
    return normalizeEmail(email);
  } catch (error) {
    if (!(error instanceof TenancyException)) throw error;
    throw new TenancyException(error.code, error.message.replace(/^email/, 'adminEmail'), 'adminEmail');
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

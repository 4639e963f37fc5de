import { Logger, type LoggerService } from '@nestjs/common';
import { type ClickHouseAccess, describeCause, type TenantId } from '@seismo/storage';
import { type ApiKeyHash, generateApiKey, hashApiKey, isWellFormedApiKey } from './api-key';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import { type NewTenant, newTenantId, type Tenant, tenantRetention, type TenantRetention } from './tenant';
import { type StoredApiKey, type StoredTenant, TenantRepository } from './tenant.repository';
import { validateNewTenant } from './tenant.validator';

export interface TenantDirectoryOptions {
  /** How often to re-read the tables, picking up other processes' changes (default 5000 ms). */
  readonly reloadMs?: number;
  readonly logger?: Pick<LoggerService, 'warn'>;
}

/** A tenant just created, with its first API key: the only time the key is seen. */
export interface CreatedTenant {
  readonly tenant: Tenant;
  readonly apiKey: string;
}

export const DEFAULT_RELOAD_MS = 5000;

interface CachedTenant extends StoredTenant {
  /** Computed once: the engine asks for it for every batch. */
  readonly retention: TenantRetention;
}

/**
 * Every tenant and API key, in memory. Requests and batches are authenticated and
 * scoped from here synchronously, without a query; the tables are re-read every few
 * seconds, so a tenant or key made by another process works here within `reloadMs`,
 * and one made here works at once.
 *
 * A failed reload keeps the last snapshot (and logs): an unreachable ClickHouse should
 * not lock every tenant out.
 */
export class TenantDirectory {
  private tenants = new Map<TenantId, CachedTenant>();
  private keys = new Map<ApiKeyHash, StoredApiKey>();
  /** The reload in flight, if any; later ones queue behind it. */
  private reloading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly repository: TenantRepository,
    private readonly logger: Pick<LoggerService, 'warn'>,
  ) {}

  /** Loads everything (failing if it cannot), then keeps reloading until `close`. */
  static async open(
    access: ClickHouseAccess,
    options: TenantDirectoryOptions = {},
  ): Promise<TenantDirectory> {
    const reloadMs = options.reloadMs ?? DEFAULT_RELOAD_MS;
    if (!Number.isInteger(reloadMs) || reloadMs < 1) {
      throw new RangeError(`reloadMs must be a positive integer, got ${reloadMs}`);
    }
    const directory = new TenantDirectory(
      new TenantRepository(access),
      options.logger ?? new Logger(TenantDirectory.name),
    );
    await directory.reload();
    // unref: the reload timer alone must not keep a finished process alive.
    directory.timer = setInterval(() => directory.reloadInBackground(), reloadMs).unref();
    return directory;
  }

  /** Stops reloading. The cache stays readable; nothing here holds the connection. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
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
   * Creates a tenant and its first API key. Resolves once both are stored, and the key
   * authenticates here from then on; another process knows it after its next reload.
   * The tenant is written first: were the key's write to fail, what remains is a tenant
   * without a key, which authenticates nobody.
   */
  async create(input: NewTenant): Promise<CreatedTenant> {
    const tenant: Tenant = { id: newTenantId(), ...validateNewTenant(input) };
    const storedTenant = await this.repository.insertTenant(tenant);
    const apiKey = generateApiKey();
    const storedKey = await this.repository.insertApiKey(tenant.id, hashApiKey(apiKey));
    // A reload that read the tables before these inserts may still be running; applied
    // after the entries below, its snapshot would drop them until the next reload.
    await this.reloading?.catch(() => undefined);
    this.rememberTenant(storedTenant);
    this.rememberKey(storedKey);
    return { tenant, apiKey };
  }

  /**
   * The tenant an API key belongs to, or undefined for a key that is unknown, revoked or
   * not a key at all. Looked up by the key's hash: a lookup's timing can only tell an
   * attacker about hashes, which say nothing about other keys.
   */
  authenticate(apiKey: string): Tenant | undefined {
    if (!isWellFormedApiKey(apiKey)) return undefined;
    const key = this.keys.get(hashApiKey(apiKey));
    return key && this.tenants.get(key.tenantId)?.tenant;
  }

  get(id: TenantId): Tenant | undefined {
    return this.tenants.get(id)?.tenant;
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

  private async load(): Promise<void> {
    const snapshot = await this.repository.loadActive();
    // Replaced whole rather than merged: a key revoked since the last load must go.
    this.tenants = new Map(snapshot.tenants.map((stored) => [stored.tenant.id, cache(stored)]));
    this.keys = new Map(snapshot.keys.map((key) => [key.keyHash, key]));
  }

  private reloadInBackground(): void {
    // A tick that finds the previous reload still running skips rather than queueing:
    // a slow ClickHouse would otherwise pile up reads.
    if (this.reloading) return;
    this.reload().catch((error: unknown) => {
      this.logger.warn(`reloading tenants failed, keeping the last ones loaded: ${describeCause(error)}`);
    });
  }

  // Each write wins only over an older version: a reload may already hold a newer one.
  private rememberTenant(stored: StoredTenant): void {
    const current = this.tenants.get(stored.tenant.id);
    if (!current || current.version <= stored.version) this.tenants.set(stored.tenant.id, cache(stored));
  }

  private rememberKey(stored: StoredApiKey): void {
    const current = this.keys.get(stored.keyHash);
    if (!current || current.version <= stored.version) this.keys.set(stored.keyHash, stored);
  }
}

function cache(stored: StoredTenant): CachedTenant {
  return { ...stored, retention: tenantRetention(stored.tenant) };
}

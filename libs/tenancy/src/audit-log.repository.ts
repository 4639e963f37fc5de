import { randomBytes } from 'node:crypto';
import {
  type ClickHouseAccess,
  describeCause,
  parseTenantId,
  requireInstant,
  StorageException,
  StorageExceptionCode,
  type TenantId,
} from '@seismo/storage';
import {
  type Actor,
  type AuditAction,
  type AuditContext,
  type AuditEntry,
  type AuditQuery,
  MAX_AUDIT_LIMIT,
} from './audit';

/** One action to record, before it has an id and an instant. */
export interface AuditRecord {
  readonly tenantId: TenantId;
  readonly action: AuditAction;
  readonly target: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

interface AuditRow {
  tenant_id: string;
  at_ms: string;
  id: string;
  actor: string;
  actor_member_id: string;
  actor_key_id: string;
  action: AuditAction;
  target: string;
  source_ip: string;
  details: string;
}

/**
 * The only code that reads or writes `audit_log` (migration 0005). Append-only: an entry
 * is never changed or removed by Seismo. `append` resolves once ClickHouse has stored the
 * rows, so a caller that awaits it before answering never reports an unrecorded change.
 */
export class AuditLogRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  async append(by: AuditContext, records: readonly AuditRecord[]): Promise<AuditEntry[]> {
    const at = Date.now();
    const entries = records.map((record): AuditEntry => ({
      id: nextAuditId(at),
      tenantId: record.tenantId,
      at,
      actor: by.actor,
      action: record.action,
      target: record.target,
      sourceIp: by.sourceIp,
      details: record.details ?? {},
    }));
    if (entries.length === 0) return entries;
    const actor = actorColumns(by.actor);
    try {
      // One statement for all rows, every value bound: the arrays are zipped back into rows.
      await this.clickhouse.client.command({
        query: `INSERT INTO audit_log (tenant_id, at, id, actor, actor_member_id, actor_key_id, action, target, source_ip, details)
                SELECT r.1, fromUnixTimestamp64Milli({at:Int64}, 'UTC'), r.2, {actor:String}, {memberId:String},
                       {keyId:String}, r.3, r.4, {sourceIp:String}, r.5
                FROM (SELECT arrayJoin(arrayZip({tenants:Array(String)}, {ids:Array(String)}, {actions:Array(String)},
                                                {targets:Array(String)}, {details:Array(String)})) AS r)`,
        query_params: {
          at,
          actor: actor.kind,
          memberId: actor.memberId,
          keyId: actor.keyId,
          sourceIp: by.sourceIp,
          tenants: entries.map((e) => e.tenantId),
          ids: entries.map((e) => e.id),
          actions: entries.map((e) => e.action),
          targets: entries.map((e) => e.target),
          details: entries.map((e) => JSON.stringify(e.details)),
        },
      });
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.WRITE_FAILED,
        `recording ${entries.map((e) => e.action).join(', ')} in the audit log failed: ${describeCause(cause)}`,
        { cause },
      );
    }
    return entries;
  }

  /** A tenant's entries, newest first. */
  async find(tenant: TenantId, query: AuditQuery): Promise<AuditEntry[]> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_AUDIT_LIMIT) {
      throw new StorageException(
        StorageExceptionCode.INVALID_QUERY,
        `limit must be an integer in 1..${MAX_AUDIT_LIMIT}, got ${query.limit}`,
      );
    }
    const conditions = ['tenant_id = {tenant:String}'];
    const params: Record<string, unknown> = { tenant, limit: query.limit };
    // Only fixed fragments are joined; every value is a bound parameter.
    if (query.from !== undefined) {
      conditions.push("at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')");
      params.from = requireInstant(query.from, 'from');
    }
    if (query.to !== undefined) {
      conditions.push("at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')");
      params.to = requireInstant(query.to, 'to');
    }
    if (query.action !== undefined) {
      conditions.push('action = {action:String}');
      params.action = query.action;
    }
    let rows: AuditRow[];
    try {
      const result = await this.clickhouse.client.query({
        query: `SELECT tenant_id, toUnixTimestamp64Milli(at) AS at_ms, id, actor, actor_member_id, actor_key_id,
                       action, target, source_ip, details
                FROM audit_log WHERE ${conditions.join(' AND ')}
                ORDER BY at DESC, id DESC LIMIT {limit:UInt32}`,
        query_params: params,
        format: 'JSONEachRow',
      });
      rows = await result.json<AuditRow>();
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `reading the audit log of tenant ${tenant} failed: ${describeCause(cause)}`,
        { cause },
      );
    }
    return rows.map((row) => ({
      id: row.id,
      tenantId: parseTenantId(row.tenant_id),
      at: Number(row.at_ms),
      actor: actorOf(row),
      action: row.action,
      target: row.target,
      sourceIp: row.source_ip,
      details: JSON.parse(row.details) as Record<string, unknown>,
    }));
  }
}

let lastSequence = 0;

/**
 * An entry id that sorts as the entries were made: the instant in hex, a counter of this
 * process, then random bits so two processes never make the same one. Entries written
 * in the same millisecond (a tenant, its first member and key) then read back in the
 * order they happened.
 */
function nextAuditId(at: number): string {
  lastSequence = (lastSequence + 1) % 0x10000;
  return `${at.toString(16).padStart(12, '0')}-${lastSequence.toString(16).padStart(4, '0')}-${randomBytes(8).toString('hex')}`;
}

function actorColumns(actor: Actor): { kind: string; memberId: string; keyId: string } {
  switch (actor.kind) {
    case 'deployment-admin':
    case 'system':
    case 'feedback-link':
      return { kind: actor.kind, memberId: '', keyId: '' };
    case 'member':
      return { kind: actor.kind, memberId: actor.memberId, keyId: actor.keyId };
    case 'service-key':
      return { kind: actor.kind, memberId: '', keyId: actor.keyId };
  }
}

function actorOf(row: AuditRow): Actor {
  if (row.actor === 'member')
    return { kind: 'member', memberId: row.actor_member_id, keyId: row.actor_key_id };
  if (row.actor === 'service-key') return { kind: 'service-key', keyId: row.actor_key_id };
  if (row.actor === 'system') return { kind: 'system' };
  if (row.actor === 'feedback-link') return { kind: 'feedback-link' };
  return { kind: 'deployment-admin' };
}

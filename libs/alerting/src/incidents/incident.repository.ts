import {
  type ClickHouseAccess,
  describeCause,
  nextRowVersion,
  parseTenantId,
  StorageException,
  StorageExceptionCode,
} from '@seismo/storage';
import { type HeldNotification } from '../routing/alert.router';
import { type IncidentSnapshot } from './incident.tracker';

/**
 * An incident as stored: the tracker's snapshot of it and the router's memory of it (who was
 * told, and the update held back).
 */
export interface StoredIncident {
  readonly incident: IncidentSnapshot;
  /** Subscription id -> when it was last told of the incident, epoch milliseconds (AlertRouter.toldOf). */
  readonly told: Readonly<Record<string, number>>;
  /** The update held back from subscriptions told too recently (AlertRouter.heldOf); absent when none is. */
  readonly held?: HeldNotification;
}

/** What keeps incidents across restarts: IncidentRepository, or MemoryIncidentStore in unit tests. */
export type IncidentStore = Pick<IncidentRepository, 'write' | 'loadOpen'>;

interface IncidentRow {
  tenant_id: string;
  id: string;
  open: number;
  state: string;
  told: Record<string, number | string>;
  held: string;
}

/**
 * The only code that reads or writes `incidents` (migrations 0017, 0018): the open incidents of
 * the API process, so a restarted one carries them on. A change is a new row with a
 * higher version; reads use FINAL. Writes resolve once ClickHouse stored the rows.
 */
export class IncidentRepository {
  constructor(private readonly clickhouse: ClickHouseAccess) {}

  /** Stores incidents as they now stand (rows may belong to several tenants): one insert for the lot. */
  async write(incidents: readonly StoredIncident[]): Promise<void> {
    if (incidents.length === 0) return;
    const updatedAt = Date.now();
    const values = incidents.map(({ incident, told, held }) => ({
      tenant_id: incident.tenantId,
      id: incident.id,
      kind: incident.kind,
      open: incident.open ? 1 : 0,
      state: JSON.stringify(incident),
      told,
      held: held ? JSON.stringify(held) : '',
      opened_at: incident.openedAt,
      updated_at: updatedAt,
      version: nextRowVersion(),
    }));
    try {
      await this.clickhouse.client.insert({ table: 'incidents', values, format: 'JSONEachRow' });
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.WRITE_FAILED,
        `storing ${incidents.length} incidents failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }

  /** The open incidents of every tenant, as the last write left each: what a process restores at start. */
  async loadOpen(): Promise<StoredIncident[]> {
    let rows: IncidentRow[];
    try {
      const result = await this.clickhouse.client.query({
        query: `SELECT tenant_id, id, open, state, told, held FROM incidents FINAL WHERE open = 1 ORDER BY tenant_id, id`,
        format: 'JSONEachRow',
      });
      rows = await result.json<IncidentRow>();
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.READ_FAILED,
        `loading the open incidents failed: ${describeCause(cause)}`,
        { cause },
      );
    }
    return rows.map(storedOf);
  }
}

function storedOf(row: IncidentRow): StoredIncident {
  const state = parsed<IncidentSnapshot>(row, 'state', row.state);
  // '' is nothing held, and what every row written before migration 0018 reads as.
  const held = row.held ? parsed<HeldNotification>(row, 'held update', row.held) : undefined;
  const told: Record<string, number> = {};
  for (const [subscription, at] of Object.entries(row.told)) told[subscription] = Number(at);
  // The key columns are what the row is filed under: they win over what the JSON says.
  return {
    incident: { ...state, tenantId: parseTenantId(row.tenant_id), id: row.id, open: Number(row.open) === 1 },
    told,
    ...(held ? { held } : {}),
  };
}

function parsed<T>(row: IncidentRow, what: string, json: string): T {
  try {
    return JSON.parse(json) as T;
  } catch (cause) {
    throw new StorageException(
      StorageExceptionCode.READ_FAILED,
      `incident ${row.id} of tenant ${row.tenant_id} holds no readable ${what}: ${describeCause(cause)}`,
      { cause },
    );
  }
}

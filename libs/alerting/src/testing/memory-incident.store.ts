import { type IncidentStore, type StoredIncident } from '../incidents/incident.repository';

/**
 * The incidents table in memory, with IncidentRepository's semantics (the latest write of
 * an incident wins, `loadOpen` answers the open ones), stored as JSON as the table stores
 * them, for unit tests of what restores incidents. One store outlives the services a test
 * starts on it, as the table outlives a process.
 */
export class MemoryIncidentStore implements IncidentStore {
  readonly rows = new Map<string, StoredIncident>();
  /** Every `write` call's incidents, in order. */
  readonly writes: StoredIncident[][] = [];
  /** While set, `write` rejects with it (ClickHouse down). */
  failWrites: Error | undefined;

  async write(incidents: readonly StoredIncident[]): Promise<void> {
    await Promise.resolve();
    if (this.failWrites) throw this.failWrites;
    const stored = JSON.parse(JSON.stringify(incidents)) as StoredIncident[];
    this.writes.push(stored);
    for (const row of stored) this.rows.set(`${row.incident.tenantId}\n${row.incident.id}`, row);
  }

  async loadOpen(): Promise<StoredIncident[]> {
    await Promise.resolve();
    return [...this.rows.values()].filter((row) => row.incident.open);
  }
}

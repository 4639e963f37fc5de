-- The incidents an API process has open, so a restarted one carries them on: the same
-- incident (no second `opened`), its resolution to those told of it, its re-notification on
-- time. One row per incident; a change is a new row with a higher `version` (epoch
-- microseconds, row-version.ts), read with FINAL.
--
-- state is the incident as IncidentTracker snapshots it (JSON with its own version: ids,
-- group, series, severities, timestamps, sequence); told is AlertRouter's memory of it,
-- subscription id -> when it was last told (epoch milliseconds), which decides `opened` or
-- `updated` and who hears of the resolution. A resolved incident is written once more with
-- open = 0.
--
-- Rows are written after the outbox rows of the same changes (never ahead of them): a
-- crash in between leaves the previous state here, and the change made again after the
-- restart carries the same notification id, which the outbox keeps once.
--
-- The TTL: a resolved incident's row goes 7 days after it was written. An open incident is
-- written at each change (an anomaly, a re-notification every few hours), so 30 days
-- without a write means it is stale; that TTL also makes an older open row of a resolved
-- incident go by the time the outbox (0012, 30 days) forgets its resolution, so an open row
-- outliving its resolved one unmerged comes back only while the outbox still drops the
-- repeated `resolved`.
CREATE TABLE IF NOT EXISTS incidents
(
    tenant_id  String,
    id         String,
    kind       LowCardinality(String),
    open       UInt8,
    state      String,
    told       Map(String, Int64),
    opened_at  DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC'),
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, id)
TTL toDateTime(updated_at) + toIntervalDay(30),
    toDateTime(updated_at) + toIntervalDay(7) DELETE WHERE open = 0;

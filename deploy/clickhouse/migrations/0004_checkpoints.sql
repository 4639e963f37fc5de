-- Detector state, checkpointed per partition of the engine's log, so that a restarted
-- or rebalanced engine restores it and replays only the messages after it.
--
-- A checkpoint round writes one row per series whose state changed since the previous
-- round, every row stamped with the offset the state covers (the last offset committed),
-- then one marker row (tenant_id = '' and series = '') with the same offset. The marker
-- says: every series of this partition has a row covering at least this offset, or has
-- not changed since the row it has. A crash in the middle of a round leaves rows newer
-- than the marker; the restore replays from the marker and skips, for such a series,
-- the messages its row already covers.
--
-- Rows are written only for committed offsets, so a newer row is never ahead of the log
-- position a new owner resumes from, and ReplacingMergeTree(offset) may keep only the
-- newest row per series. Two owners of a partition (a rebalance) write the same state
-- for the same offset: detector state is a function of the messages only.
--
-- Engine state, not data a tenant queries: sorted by where the engine reads it, the
-- partition. A tenant's rows are erased with the rest of its data (tenant_id filter).
CREATE TABLE IF NOT EXISTS checkpoints
(
    source     LowCardinality(String),
    partition  UInt32,
    tenant_id  LowCardinality(String),
    series     String,
    offset     UInt64,
    -- The series' encoded state (detector snapshot and context window), base64.
    state      String CODEC(ZSTD(1)),
    written_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(offset)
ORDER BY (source, partition, tenant_id, series);

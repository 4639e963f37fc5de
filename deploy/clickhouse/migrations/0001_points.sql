-- Every scored point, kept for its tenant's retention.
--
-- Tenant first in the sorting key: every query names one tenant, and a tenant's series
-- then lie together on disk, each series in time order, which is what a chart reads.
-- The TTL reads retention_days from the row itself, so each tenant's retention applies
-- without one table per tenant; a row already past it when written is never stored.
-- non_replicated_deduplication_window turns on insert_deduplication_token for this
-- (non-replicated) table: a batch re-sent with the token it was first written with is
-- dropped. The window counts inserts, not time, and must outlast the gap between a
-- batch's first write and its replay after a crash or rebalance (seconds to minutes):
-- 10000 inserts is minutes even at tens of inserts a second across all engines.
CREATE TABLE IF NOT EXISTS points
(
    tenant_id      LowCardinality(String),
    series         String,
    ts             DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    value          Float64 CODEC(Gorilla, ZSTD(1)),
    score          Float32 CODEC(ZSTD(1)),
    flags          UInt8,
    retention_days UInt16
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant_id, series, ts)
TTL ts + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 10000;

-- Plans and limits of tenants, and hourly aggregates of series.
--
-- A tenant's limits come from its plan (libs/tenancy limits.ts: free, team, enterprise);
-- `limits` holds what a deployment admin overrode for this tenant, as JSON
-- ({"maxSeries": 500}), so that adding a limit needs no migration. Tenants made before
-- this migration get the default plan, whose limits are generous enough that nobody
-- who was working is throttled by the upgrade.
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS plan LowCardinality(String) DEFAULT 'team';
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS limits String DEFAULT '{}';

-- Retention changes reach stored rows (libs/storage retention.repository.ts): the TTL
-- of points and anomalies (0001, 0002) still reads each row's retention_days, and a
-- change rewrites that column for the tenant's rows with ALTER TABLE ... UPDATE, which
-- re-evaluates the TTL in the same mutation. Measured with embedded chdb 26.7 (2 cores),
-- 1M rows in 6 parts, half of them the tenant's: the UPDATE took 1.3 s and the rows the
-- shorter retention no longer kept were gone when it returned, without OPTIMIZE.
-- Rejected: a TTL reading a retention dictionary (dictGet): ClickHouse refuses it as
-- non-deterministic, and a part's TTL is computed when the part is written anyway, so
-- a change would reach old parts only through MATERIALIZE TTL of the whole table.

-- Per series and hour: how many points, their sum, min and max (avg = sum / count).
-- Written by the engine for zero-retention tenants only, whose raw points are never
-- stored: what remains of them for charts and billing questions. Other tenants' hours
-- are computed from their points when read. Partial aggregates of one hour (one per
-- engine batch) are combined by AggregatingMergeTree; readers aggregate again
-- (sum/min/max GROUP BY) so parts not yet merged read the same.
-- Kept as long as the tenant's anomalies (retention_days = anomalies_days).
CREATE TABLE IF NOT EXISTS series_hourly
(
    tenant_id      LowCardinality(String),
    series         String,
    hour           DateTime('UTC'),
    count          SimpleAggregateFunction(sum, UInt64),
    sum            SimpleAggregateFunction(sum, Float64),
    min            SimpleAggregateFunction(min, Float64),
    max            SimpleAggregateFunction(max, Float64),
    retention_days SimpleAggregateFunction(max, UInt16)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant_id, series, hour)
TTL hour + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 10000;

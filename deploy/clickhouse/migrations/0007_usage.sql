-- Usage counters per tenant per hour: the one source for GET /v1/usage and for billing.
--
-- The engine writes one row per tenant and hour with each batch it stores, in the same
-- durable step as the batch's points and anomalies and under the same dedup token
-- (`<source>/<partition>/<first>-<last>`): a batch written again (a retry, a replay after
-- a crash before the commit) is dropped here like it is in `points`, so a count is never
-- doubled, and none is lost because the offsets are committed only after this insert.
--
-- AggregatingMergeTree rather than SummingMergeTree because of `series_hashes`: active
-- series are distinct series, which a sum cannot merge. Every counter is
-- SimpleAggregateFunction(sum), which merges exactly as a SummingMergeTree column would;
-- `series_hashes` is SimpleAggregateFunction(groupUniqArrayArray): the set of 64-bit
-- hashes of the series seen that hour, merged as a set union. A set rather than a
-- uniq/uniqExact state because it is exact (billing counts it) and a plain Array(UInt64)
-- can be inserted with the same JSON insert as every other table, where an
-- AggregateFunction state would need INSERT ... SELECT. Its size, 8 bytes per distinct
-- series per tenant-hour once merged, is what uniqExact's state costs too; the series
-- cardinality limit per tenant bounds it. Readers aggregate (sum, groupUniqArrayArray),
-- never read raw rows: parts not yet merged hold partial rows.
--
-- `hour` is the engine's clock when it scored the batch (not the points' timestamps): an
-- hour is then closed once the clock has passed it and the batches scored in it are
-- written, so billing can settle it; points from the past (a backfill) bill now.
--
-- No PARTITION BY: the table is small (tenants x hours), and with one partition an insert
-- is one block whose dedup id is the token alone, whatever hours its rows hold.
-- Kept without TTL: these are billing records.
CREATE TABLE IF NOT EXISTS usage_hourly
(
    tenant_id        LowCardinality(String),
    hour             DateTime('UTC'),
    points_ingested  SimpleAggregateFunction(sum, UInt64),
    points_scored    SimpleAggregateFunction(sum, UInt64),
    points_rejected  SimpleAggregateFunction(sum, UInt64),
    anomalies        SimpleAggregateFunction(sum, UInt64),
    -- Written by the alert dispatcher once alerting exists; 0 until then.
    alerts_delivered SimpleAggregateFunction(sum, UInt64),
    -- Written by LLM triage once it exists; 0 until then.
    llm_tokens_in    SimpleAggregateFunction(sum, UInt64),
    llm_tokens_out   SimpleAggregateFunction(sum, UInt64),
    series_hashes    SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant_id, hour)
SETTINGS non_replicated_deduplication_window = 10000;

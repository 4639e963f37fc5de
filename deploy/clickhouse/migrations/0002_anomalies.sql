-- Every anomaly found, with the window of points that led to it.
--
-- An anomaly's id is derived from what it is (tenant, series, instant, detectors), so a
-- replay after a crash writes the same id again: ReplacingMergeTree keeps one row per
-- sorting key, and readers use FINAL so a duplicate not yet merged away is never seen.
-- `revision` decides which row survives: 0 as detected, higher once enriched (the LLM's
-- explanation). A replayed detection (revision 0) then never undoes a triage, which a
-- timestamp version (the latest write wins) would.
-- The id is last in the sorting key only to make it unique; tenant, series and ts come
-- first for the same reasons as in points.
CREATE TABLE IF NOT EXISTS anomalies
(
    tenant_id      LowCardinality(String),
    id             String,
    series         String,
    ts             DateTime64(3, 'UTC'),
    value          Float64,
    score          Float32,
    severity       LowCardinality(String),
    detectors      Array(LowCardinality(String)),
    -- The recent points the detectors saw, oldest first: a chart of the moment without
    -- a second query, and still there if the points expire sooner than the anomaly.
    context_ts     Array(DateTime64(3, 'UTC')),
    context_values Array(Float64),
    explanation    Nullable(String),
    revision       UInt32,
    created_at     DateTime64(3, 'UTC'),
    retention_days UInt16
)
ENGINE = ReplacingMergeTree(revision)
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant_id, series, ts, id)
TTL ts + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 10000;

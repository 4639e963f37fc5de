-- What people said of an anomaly: true_positive, false_positive or expected, with an
-- optional note. A change of label is a new row with a higher `version` (epoch
-- microseconds, row-version.ts): ReplacingMergeTree keeps the latest per anomaly, and
-- readers use FINAL so a label not yet merged away is never read.
--
-- The row also holds the signature of the anomaly it labels (direction, magnitude in
-- robust units against its context window, detectors, score): every process rebuilds
-- its suppressor from this table alone at start, without re-reading the anomalies,
-- which may have expired sooner.
--
-- It lives as long as the anomaly it labels: the tenant's anomaly retention when the
-- label was given, counted from the anomaly's instant (`ts`).
CREATE TABLE IF NOT EXISTS anomaly_feedback
(
    tenant_id      LowCardinality(String),
    anomaly_id     String,
    series         String,
    ts             DateTime64(3, 'UTC'),
    label          LowCardinality(String),
    note           String,
    actor          String,
    created_at     DateTime64(3, 'UTC'),
    direction      Int8,
    magnitude      Float64,
    detectors      Array(LowCardinality(String)),
    score          Float32,
    retention_days UInt16,
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, anomaly_id)
TTL ts + toIntervalDay(retention_days);

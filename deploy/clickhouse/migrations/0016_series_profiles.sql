-- What LLM profiling learned of a tenant's series: one row per series pattern (the metric,
-- its label names and its label values with digits folded, so a fleet of hosts is one
-- pattern), kept so that a restart or another API process never pays for it again. The
-- newest answer of a pattern wins. A tenant's rows are exported and erased with the rest
-- of its data.
CREATE TABLE IF NOT EXISTS series_profiles
(
    tenant_id   LowCardinality(String),
    pattern     String,
    kind        LowCardinality(String),
    direction   LowCardinality(String),
    seasonality LowCardinality(String),
    unit        String,
    model       String,
    created_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY (tenant_id, pattern);

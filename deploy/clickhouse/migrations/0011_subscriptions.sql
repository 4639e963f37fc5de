-- Alert subscriptions and silences, like tenants (0003): small tables, every change a new
-- row with a higher `version` (epoch microseconds), read with FINAL, held in memory by
-- each process and re-read every few seconds. `removed` marks a deletion.
--
-- filter, target and matchers are JSON. target holds a webhook's signing secret, which
-- the API shows once, at creation, and never lists again.
CREATE TABLE IF NOT EXISTS subscriptions
(
    tenant_id       String,
    id              String,
    name            String,
    owner_member_id String,
    filter          String,
    channel         LowCardinality(String),
    target          String,
    rate_per_hour   UInt32,
    muted_until     Nullable(DateTime64(3, 'UTC')),
    created_at      DateTime64(3, 'UTC'),
    removed         UInt8 DEFAULT 0,
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, id);

CREATE TABLE IF NOT EXISTS silences
(
    tenant_id  String,
    id         String,
    matchers   String,
    starts_at  DateTime64(3, 'UTC'),
    ends_at    DateTime64(3, 'UTC'),
    comment    String,
    created_by String,
    created_at DateTime64(3, 'UTC'),
    removed    UInt8 DEFAULT 0,
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, id);

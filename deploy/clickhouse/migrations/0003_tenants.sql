-- Tenants and their API keys: tiny tables, rarely written, read whole every few
-- seconds into each process's memory (libs/tenancy).
--
-- A change is a new row with a higher `version`, never an UPDATE: ReplacingMergeTree
-- keeps the highest version per sorting key, and readers use FINAL so a row replaced
-- but not yet merged away is never seen. `version` is the writer's clock in epoch
-- microseconds, so the latest write wins, whichever process made it.
--
-- Retention is in days, as the points and anomalies rows carry it (UInt16). With
-- zero_retention a tenant's points are scored but not stored; points_days is kept so
-- that turning it off restores the retention the tenant had.
CREATE TABLE IF NOT EXISTS tenants
(
    id             String,
    name           String,
    points_days    UInt16 DEFAULT 30,
    anomalies_days UInt16 DEFAULT 395,
    zero_retention UInt8 DEFAULT 0,
    created_at     DateTime64(3, 'UTC'),
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- Only the sha256 of a key is stored: the key itself is shown once, when it is made.
-- The hash alone is the sorting key, so a key belongs to exactly one tenant whatever
-- is written later; revoking a key is a new row for the same hash with revoked = 1.
CREATE TABLE IF NOT EXISTS api_keys
(
    key_hash   FixedString(64),
    tenant_id  String,
    created_at DateTime64(3, 'UTC'),
    revoked    UInt8 DEFAULT 0,
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY key_hash;

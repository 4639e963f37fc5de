-- The people of a tenant, what each API key may do, when keys were last used, and the
-- audit log of admin actions.
--
-- members, like tenants and api_keys (0003): a change is a new row with a higher
-- `version` (the writer's clock in epoch microseconds), readers use FINAL, and a removed
-- member is a row with removed = 1. The tenant is first in the sorting key so that one
-- member id can never move to another tenant by a later write.
--
-- The row is a person's identity, kept open for signing in later: password_hash stays
-- NULL while API keys are the only credential (a slow, salted hash such as argon2id
-- goes here once password login exists). Sessions and two-factor secrets are not
-- columns here: they will be tables of their own keyed by (tenant_id, member id), so
-- that rotating a session or a TOTP secret never rewrites the member row an admin edits.
CREATE TABLE IF NOT EXISTS members
(
    tenant_id     String,
    id            String,
    -- Lowercase, as validated; unique per tenant among members not removed.
    email         String,
    role          LowCardinality(String),
    password_hash Nullable(String),
    created_at    DateTime64(3, 'UTC'),
    removed       UInt8 DEFAULT 0,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, id);

-- What a key is and may do. Keys made before this migration keep working as they did:
-- no scopes column meant every scope, no member meant a service key. Their public id is
-- empty here and derived from the hash by the reader (libs/tenancy, api-key.ts).
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS id String DEFAULT '';
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS name String DEFAULT '';
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS scopes Array(LowCardinality(String)) DEFAULT ['ingest', 'read', 'admin'];
-- '' for a service key, which belongs to the tenant rather than to a person.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS member_id String DEFAULT '';

-- When each key was last used, to the minute at best: processes keep it in memory and
-- write what changed about once a minute. A table of its own rather than a column of
-- api_keys: a usage row written with a newer version would otherwise undo a revocation
-- another process wrote just before. ReplacingMergeTree(last_used_at) keeps the latest
-- use whichever process saw it.
CREATE TABLE IF NOT EXISTS api_key_usage
(
    tenant_id    String,
    key_id       String,
    last_used_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(last_used_at)
ORDER BY (tenant_id, key_id);

-- Who did what to a tenant's access and settings, append-only. Tenant first: every read
-- is one tenant's log over a time range. `actor` is 'member', 'service-key' or
-- 'deployment-admin'; the ids are '' where they do not apply. `details` is JSON.
CREATE TABLE IF NOT EXISTS audit_log
(
    tenant_id       String,
    at              DateTime64(3, 'UTC'),
    id              String,
    actor           LowCardinality(String),
    actor_member_id String,
    actor_key_id    String,
    action          LowCardinality(String),
    target          String,
    source_ip       String,
    details         String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (tenant_id, at, id);

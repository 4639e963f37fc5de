-- The alert outbox: one row per delivery (one notification for one subscription), written
-- as 'pending' BEFORE any attempt, so a crash at any instant leaves either no row (the
-- notification was not taken: its producer retries) or a row the next process resumes.
-- Like billing_sends (0008), a change of state is a new row with a higher `version`
-- (epoch microseconds); readers use FINAL.
--
-- A delivery is first written with version 1, lower than any change's: a notification
-- processed again after a restart writes its delivery again, and that row can never win
-- over one already retried, sent or dead.
--
-- seq orders deliveries as they were enqueued (epoch microseconds, strictly increasing
-- within a process): rows resumed from here are taken in it, so one incident's changes
-- reach a subscription in order (opened before resolved).
--
-- target holds the channel's secrets (a webhook's signing secret, a Slack URL, a
-- PagerDuty routing key): listings and exports leave it out or mask it.
--
-- The TTL: a delivery is settled within hours (the last retry comes well within a day),
-- and the log of what was sent is there to answer "did my alert go out?" for recent
-- incidents; a month covers that without keeping every notification (and the channels'
-- secrets) for ever.
CREATE TABLE IF NOT EXISTS alert_deliveries
(
    tenant_id       String,
    id              String,
    idempotency_key String,
    subscription_id String,
    channel         LowCardinality(String),
    target          String,
    notification    String,
    status          LowCardinality(String),
    attempts        UInt32,
    next_attempt_at DateTime64(3, 'UTC'),
    last_error      String,
    last_status     Nullable(UInt16),
    seq             UInt64,
    created_at      DateTime64(3, 'UTC'),
    sent_at         Nullable(DateTime64(3, 'UTC')),
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, id)
TTL toDateTime(created_at) + toIntervalDay(30);

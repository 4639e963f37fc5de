-- Billing through Stripe: which Stripe customer a tenant bills to, and the send-log of
-- meter events.
--
-- tenant_billing, like tenants (0003): a change is a new row with a higher `version`
-- (epoch microseconds), readers use FINAL. An empty stripe_customer_id unlinks.
CREATE TABLE IF NOT EXISTS tenant_billing
(
    tenant_id          String,
    stripe_customer_id String,
    version            UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY tenant_id;

-- One row per meter event, keyed (tenant, meter, hour, seq). The billing worker writes
-- the row as 'pending' BEFORE it calls Stripe, with the value and the identifier it will
-- send, then 'sent' once Stripe took it (or answered that it already had that identifier).
-- A crash between the two leaves 'pending': the next run sends that same row again, same
-- identifier and same value, so Stripe either takes it once or answers "duplicate".
-- seq 0 is an hour's first event; a later one carries what arrived after it was billed.
-- 'expired': the hour fell out of Stripe's 35-day window before it could be sent; it is
-- logged and `seismo billing reconcile` reports it, never dropped silently.
CREATE TABLE IF NOT EXISTS billing_sends
(
    tenant_id          String,
    meter              LowCardinality(String),
    hour               DateTime('UTC'),
    seq                UInt32,
    identifier         String,
    stripe_customer_id String,
    value              UInt64,
    status             LowCardinality(String),
    detail             String,
    updated_at         DateTime64(3, 'UTC'),
    version            UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, meter, hour, seq);

-- Offboarding: a closed tenant's keys stop at once, and its data is erased once
-- purge_after has passed (the grace period an admin chose when closing, 30 days by
-- default, 90 at most). Both NULL while the tenant is open; reopening sets them back.
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS closed_at Nullable(DateTime64(3, 'UTC'));
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS purge_after Nullable(DateTime64(3, 'UTC'));

-- The update of an incident that AlertRouter holds back from subscriptions told of it less
-- than the update interval ago (AlertRouter.heldOf), kept with the incident so a restarted
-- process sends it on its next tick instead of losing it: JSON
-- {"notification": {...}, "subscriptions": ["sub_..."]}. A column of its own beside `told`,
-- as both are the router's memory of the incident while `state` is the tracker's snapshot
-- with its own version. '' (nothing held, and every row written before this migration)
-- reads as nothing held.
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS held String DEFAULT '';

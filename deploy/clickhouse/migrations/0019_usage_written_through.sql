-- How far each partition's usage is stored, kept in the same table as the counts so that
-- one INSERT (one block, one part: the table has no PARTITION BY) stores both or neither.
--
-- The engine no longer writes one usage row per batch: it groups the usage of the batches
-- written in the last moment, of every partition, into one INSERT (a small INSERT costs a
-- few milliseconds of the engine's CPU, whatever it holds), and commits those batches'
-- offsets after it. A group's composition depends on timing, so a replay after a crash
-- cannot rebuild it, and the dedup token alone cannot tell that a replayed batch was
-- counted. This column can: each group also writes one row for tenant '' (no tenant's id:
-- tenant ids are never empty, and every read names its tenants) at hour 0, whose map holds
-- `<source>/<partition>` -> the last offset of that partition's latest batch in the group.
-- maxMap merges those rows into one. A batch of a partition is counted iff its last offset
-- is at most the partition's value here: an engine that takes a partition reads it and
-- leaves the usage of the batches up to it out (their points are dropped by their tokens).
--
-- Every other row keeps an empty map.
ALTER TABLE usage_hourly
    ADD COLUMN IF NOT EXISTS written_through SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64)));

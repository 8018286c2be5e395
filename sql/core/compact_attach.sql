-- The new file a compaction copies the warehouse into (pipeline.core.warehouse.compact).
ATTACH $target AS _compact;  -- noqa: PRS

-- Keep ($ordered) or not the order rows are inserted in: attribution's tables need none (every sum of
-- credits is exact, every sequence it reads is sorted), and its inserts and temp tables gather their
-- parallel pieces faster without it.
SET preserve_insertion_order = $ordered;

-- The customers the working set forgets.
SELECT count(*) AS customers FROM _forget_ids;

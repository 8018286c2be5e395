-- Every schema, table, view, sequence and macro of the warehouse, with only its live rows.
COPY FROM DATABASE {{source}} TO _compact;  -- noqa: PRS

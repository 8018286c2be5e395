-- What the customer features of a model at a past cut-off read (pipeline/models/features.py), as one
-- text: the customers first seen before $cutoff (every data column and _first_seen_at; not the
-- bookkeeping _updated_at / _load_id), the events the features can read (before the cut-off, within
-- $history_days of it: customer, type, channel, value, time) and the excluded customers, each as a
-- count and a sum of row hashes. A late file, a forget, a retention run or a changed customer
-- changes it; a new day after the cut-off does not.
WITH cust AS (
    SELECT count(*) AS n, coalesce(sum(hash(c)), 0) AS h
    FROM (SELECT COLUMNS(lambda x: NOT starts_with(x, '_') OR x = '_first_seen_at')
          FROM customers WHERE _first_seen_at < $cutoff::DATE) AS c
),
ev AS (
    SELECT count(*) AS n, coalesce(sum(hash(e.customer_id, e.type, e.channel, e.value, e.occurred_at)), 0) AS h
    FROM events AS e
    WHERE e._partition_date < $cutoff::DATE
      AND e.occurred_at < $cutoff::TIMESTAMP
      AND e.occurred_at >= $cutoff::TIMESTAMP - to_days($history_days::INTEGER)
),
ex AS (
    SELECT count(*) AS n, coalesce(sum(hash(i.customer_id)), 0) AS h
    FROM customer_identities AS i WHERE i.excluded
)
SELECT concat_ws(':', cust.n, cust.h, ev.n, ev.h, ex.n, ex.h) FROM cust, ev, ex;

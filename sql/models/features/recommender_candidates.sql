-- Recommender candidates as of $cutoff: every customer of {{population}} (_population, or the
-- customers a training keeps) x every item taken in the
-- history (_history: the qualifying events before the cut-off), with sequence features:
-- how often and how recently the customer took the item, the item's popularity, and how strongly
-- the items the customer took before lead to it (co-occurrence: share of the customers who took
-- item a that also took item b). Unordered: training reads it in (customer_id, item) order, scoring
-- ranks it in SQL.
CREATE OR REPLACE TEMP TABLE _candidates AS
WITH h AS (
    SELECT customer_id, item, date_diff('second', occurred_at, $cutoff::TIMESTAMP) / 86400.0 AS age_days
    FROM _history WHERE item IS NOT NULL
),
cust_items AS (
    SELECT customer_id, item, count(*)::DOUBLE AS times, min(age_days) AS days_since FROM h GROUP BY ALL
),
customers AS (
    SELECT customer_id, sum(times) AS purchases, count(*)::DOUBLE AS distinct_items FROM cust_items GROUP BY ALL
),
items AS (
    SELECT item, count(*)::DOUBLE / sum(count(*)) OVER () AS popularity,
           count(DISTINCT customer_id)::DOUBLE AS buyers,
           rank() OVER (ORDER BY count(*) DESC)::DOUBLE AS popularity_rank
    FROM h GROUP BY item
),
cooc AS (
    SELECT a.item AS from_item, b.item AS to_item, count(*)::DOUBLE / any_value(i.buyers) AS p
    FROM cust_items a JOIN cust_items b ON a.customer_id = b.customer_id AND a.item <> b.item
    JOIN items i ON i.item = a.item
    GROUP BY ALL
),
affinity AS (
    SELECT c.customer_id, o.to_item AS item, round(fsum(o.p * c.times) / any_value(cu.purchases), 12) AS cooccurrence,
           max(o.p) AS max_cooccurrence
    FROM cust_items c JOIN cooc o ON o.from_item = c.item JOIN customers cu USING (customer_id)
    WHERE c.customer_id IN (SELECT customer_id FROM {{population}})
    GROUP BY ALL
)
SELECT p.customer_id, i.item,
       coalesce(ci.times, 0) AS times, ci.days_since,
       i.popularity, i.popularity_rank,
       coalesce(a.cooccurrence, 0) AS cooccurrence, coalesce(a.max_cooccurrence, 0) AS max_cooccurrence,
       coalesce(cu.purchases, 0) AS purchases, coalesce(cu.distinct_items, 0) AS distinct_items
FROM {{population}} p CROSS JOIN items i
LEFT JOIN cust_items ci ON ci.customer_id = p.customer_id AND ci.item = i.item
LEFT JOIN affinity a ON a.customer_id = p.customer_id AND a.item = i.item
LEFT JOIN customers cu ON cu.customer_id = p.customer_id;

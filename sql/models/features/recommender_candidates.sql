-- Recommender candidates: every customer of {{population}} (_population, or the customers a training
-- keeps) x every item taken in the history (_cust_items: what each customer took before the
-- cut-off, recommender_cust_items.sql), with sequence features: how often and how recently the
-- customer took the item, the item's popularity, and how strongly the items the customer took
-- before lead to it (_affinity, pipeline/models/recommend.py: per customer and item, the sum over
-- the customer's items a of times(a) x the share of the customers who took a that also took the
-- item, and the largest such share). Unordered: training reads it in (customer_id, item) order,
-- scoring ranks it in SQL.
CREATE OR REPLACE TEMP TABLE _candidates AS
WITH customers AS (
    SELECT customer_id, sum(times) AS purchases, count(*)::DOUBLE AS distinct_items FROM _cust_items GROUP BY ALL
),
items AS (
    SELECT item, sum(times) / sum(sum(times)) OVER () AS popularity,
           rank() OVER (ORDER BY sum(times) DESC)::DOUBLE AS popularity_rank
    FROM _cust_items GROUP BY item
)
SELECT p.customer_id, i.item,
       coalesce(ci.times, 0) AS times, ci.days_since,
       i.popularity, i.popularity_rank,
       coalesce(round(a.weighted / cu.purchases, 12), 0) AS cooccurrence,
       coalesce(a.max_cooccurrence, 0) AS max_cooccurrence,
       coalesce(cu.purchases, 0) AS purchases, coalesce(cu.distinct_items, 0) AS distinct_items
FROM {{population}} p CROSS JOIN items i
LEFT JOIN _cust_items ci ON ci.customer_id = p.customer_id AND ci.item = i.item
LEFT JOIN _affinity a ON a.customer_id = p.customer_id AND a.item = i.item
LEFT JOIN customers cu ON cu.customer_id = p.customer_id;

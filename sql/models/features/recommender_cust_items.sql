-- What each customer took in the recommender's history as of $cutoff (_history: the qualifying
-- events before the cut-off): how often and how recently (days before the cut-off) per item.
-- The candidates and their co-occurrence (pipeline/models/recommend.py: assemble)
-- read it.
CREATE OR REPLACE TEMP TABLE _cust_items AS
SELECT
    customer_id,
    item,
    count(*)::DOUBLE AS times,
    min(date_diff('second', occurred_at, $cutoff::TIMESTAMP) / 86400.0) AS days_since
FROM _history
WHERE item IS NOT NULL
GROUP BY customer_id, item;

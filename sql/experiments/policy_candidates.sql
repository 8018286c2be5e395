-- The candidates of one experiment tonight: each customer's eligible variants (sorted, for stable matrices).
SELECT customer_id, variant FROM _cand WHERE experiment = $experiment ORDER BY customer_id, variant;

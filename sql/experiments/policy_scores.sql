-- A model's scores of the latest predictions partition before $before (Thompson's segments).
SELECT customer_id, score FROM predictions
WHERE model = $model AND date = (SELECT max(date) FROM predictions WHERE model = $model AND date < $before);

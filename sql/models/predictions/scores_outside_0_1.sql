-- The check of the predictions asset: scores of the days [$first, $last] that are not probabilities.
SELECT count(*) FROM predictions
WHERE date BETWEEN $first::DATE AND $last::DATE AND NOT (score BETWEEN 0 AND 1)

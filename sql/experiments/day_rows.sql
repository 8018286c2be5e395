-- The rows of one day ($day) of a table keyed by `date` (results: written by the night before).
SELECT count(*) FROM {{table}} WHERE date = $day;

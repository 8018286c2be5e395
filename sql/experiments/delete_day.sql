-- Empty one day ($day) of a table keyed by `date` (results: the night before's), before it is rewritten.
DELETE FROM {{table}} WHERE date = $day;

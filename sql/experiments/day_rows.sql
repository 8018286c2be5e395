-- The rows of one daily partition ($day) of a table keyed by `date`.
SELECT count(*) FROM {{table}} WHERE date = $day;

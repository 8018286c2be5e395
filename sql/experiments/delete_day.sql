-- Empty one daily partition ($day) of a table keyed by `date`, before it is rewritten.
DELETE FROM {{table}} WHERE date = $day;

-- Delete the rows of a feed's table (`table`, tx_<source>) that the doomed events of $source came from.
DELETE FROM {{table}} AS t USING _doomed AS d
WHERE d.source = $source AND t._load_id = d.load_id AND t._row_number = d.row_number;

-- Empty a partition of an attribution output: the rows of <table> whose <day> is $d.
DELETE FROM {{table}}
WHERE {{day}} = $d;

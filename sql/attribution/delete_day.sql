-- Empty partitions of an attribution output: the rows of <table> whose <day> is $a to $b.
DELETE FROM {{table}}
WHERE {{day}} BETWEEN $a AND $b;

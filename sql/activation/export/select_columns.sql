-- Some columns ({{columns}}) of an export's rows ({{query}}), in their order.
SELECT {{columns}} FROM ({{query}}) AS t

-- An export's rows ({{query}}) that every `where` rule holds for ({{condition}}: the compiled rules,
-- their values bound as parameters).
SELECT * FROM ({{query}}) AS t WHERE {{condition}}

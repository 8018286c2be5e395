-- The arm drawn of the `results` rows written before the column (sql/experiments/create_results.sql):
-- from the reason when a capacity cut the row (sql/experiments/capacity.sql writes 'capacity: <variant
-- drawn> takes ...'; variant names are identifiers), the variant given otherwise.
UPDATE results SET drawn_variant = CASE
    WHEN starts_with(reason, 'capacity: ') THEN regexp_extract(reason, '^capacity: ([A-Za-z0-9_]+) takes ', 1)
    ELSE variant
END
WHERE drawn_variant IS NULL;

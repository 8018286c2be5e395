-- sqlfluff:ignore:parsing
-- sql/core/exact_sum.sql where the matches' values could add up to more than DECIMAL(38, 18) holds (1e20;
-- each value is under it: definition_matches.sql): their whole parts (HUGEINT) and fractions summed
-- apart, both exact, and added where the total is under 9.9e19 (the bits of exact_sum.sql); a
-- presentation whose matches add up to more counts as no value (0), as a value of 1e20 or more does.
-- Slower (a DECIMAL's whole part costs a division per row), so only for the days whose matches could
-- reach it (sql/core/value_bound.sql).
coalesce(
    CASE
        WHEN abs(sum(trunc({{value}})::HUGEINT)) < 99000000000000000000::HUGEINT
            AND abs(sum({{value}} - trunc({{value}}))) < 1000000000000000000
            THEN sum(trunc({{value}})::HUGEINT)::DECIMAL(38, 18) + sum({{value}} - trunc({{value}}))
    END,
    0
)

-- sqlfluff:ignore:parsing
-- value_sum.sql where the values could add up to more than DECIMAL(38, 18) holds (1e20; each value is
-- under it: definition_matches.sql), as sql/attribution/summary_wide.sql: their whole parts (HUGEINT,
-- up to 1.7e38) and fractions (under 1 each) summed apart, both exact, then added as DECIMAL where the
-- total is under 1e19 (the bits of value_sum.sql), else as doubles. Slower (a DECIMAL's whole part
-- costs a division per row), so only for the tables whose values could reach it (sql/core/value_bound.sql).
CASE
    WHEN abs(sum(trunc({{value}})::HUGEINT){{over}}) < 10000000000000000000::HUGEINT
        AND abs(sum({{value}} - trunc({{value}})){{over}}) < 1000000000000000000
        THEN ((sum(trunc({{value}})::HUGEINT){{over}})::DECIMAL(38, 18) + (sum({{value}} - trunc({{value}})){{over}}))::DOUBLE
    ELSE (sum(trunc({{value}})::HUGEINT){{over}})::DOUBLE + (sum({{value}} - trunc({{value}})){{over}})::DOUBLE
END

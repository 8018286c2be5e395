-- sqlfluff:ignore:parsing
-- exact_sum.sql where the values could add up to more than DECIMAL(38, 18) holds (1e20; each value is
-- under it): their whole parts and fractions summed apart, both exact, the whole part of the fractions'
-- sum moved to the whole parts' ({{whole}}: exact_sum_whole.sql, HUGEINT), its rest ({{rest}}:
-- exact_sum_rest.sql, under 1) added to it as DECIMAL where the total is under 1e20 (the exact sum, the
-- bits of exact_sum.sql): where the whole part is, or is 1e20 (-1e20) with a rest of the other sign
-- (1 moved from the whole part to the rest); else NULL, too large to hold exactly. 0 without any value.
-- Slower (a DECIMAL's whole part costs a division per row), so only where the values could add up to
-- 1e20 (value_bound.sql). Composed by pipeline.core.warehouse.exact_sum.
CASE
    WHEN abs({{whole}}) < 100000000000000000000::HUGEINT THEN {{whole}}::DECIMAL(38, 18) + {{rest}}
    WHEN abs({{whole}}) = 100000000000000000000::HUGEINT AND sign({{rest}}) = -sign({{whole}})
        THEN ({{whole}} - sign({{whole}}))::DECIMAL(38, 18) + ({{rest}} + sign({{whole}}))
END

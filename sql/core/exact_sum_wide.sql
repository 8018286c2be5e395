-- sqlfluff:ignore:parsing
-- exact_sum.sql where the values could add up to more than DECIMAL(38, 18) holds (1e20; each value is
-- under it): their whole parts (HUGEINT, up to 1.7e38) and fractions (under 1 each) summed apart, both
-- exact; the whole part of the fractions' sum moved to the whole parts' (w), its rest (f, under 1)
-- added to w as DECIMAL where w is under 1e20 (the exact sum, the bits of exact_sum.sql), else NULL:
-- too large to hold exactly (a total of 1e20 or more; one less than 1 under it whose w is 1e20 too).
-- 0 without any value. Slower (a DECIMAL's whole part costs a division per row), so only where the
-- values could add up to 1e20 (value_bound.sql).
CASE
    WHEN abs(
        coalesce(sum(trunc({{value}})::HUGEINT), 0)
        + trunc(coalesce(sum({{value}} - trunc({{value}})), 0))::HUGEINT
    ) < 100000000000000000000::HUGEINT
        THEN (
            coalesce(sum(trunc({{value}})::HUGEINT), 0)
            + trunc(coalesce(sum({{value}} - trunc({{value}})), 0))::HUGEINT
        )::DECIMAL(38, 18)
        + (
            coalesce(sum({{value}} - trunc({{value}})), 0)
            - trunc(coalesce(sum({{value}} - trunc({{value}})), 0))
        )
END

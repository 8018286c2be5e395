-- The day's conversions of _att_boot in their bootstrap order.
SELECT i, stratum, value, conversion
FROM _att_boot
ORDER BY i;

-- Rejected rows that hold a forgotten customer's id or identifier value in an identifier field of
-- their dataset (the columns the registry lists for `customers` and each `tx_<name>`), compared as
-- identity matching compares ($cs): in the raw row's JSON (the row's values, or a JSON line) at that
-- field's key; in a raw line that could not be split into fields (not JSON), as one of its cells;
-- or in the reason of a row rejected for that field, quoted. A value of another field or a word of
-- free text never matches, so other customers' rejects stay.
DELETE FROM rejects AS r
WHERE EXISTS (
    SELECT 1
    FROM (
        SELECT
            column_name AS field,
            CASE WHEN table_name = 'customers' THEN 'customers' ELSE substr(table_name, 4) END AS dataset
        FROM customer_tables
        WHERE table_name = 'customers' OR starts_with(table_name, 'tx_')
    ) AS f,
    (
        SELECT value AS term FROM _forget_values
        UNION
        SELECT _nj_norm(customer_id, $cs) FROM _forget_ids
    ) AS t
    WHERE
        f.dataset = r.dataset
        AND t.term <> ''
        AND (
            (
                coalesce(json_valid(r.raw_row), FALSE)
                AND starts_with(ltrim(r.raw_row), '{')
                AND list_contains(
                    _nj_values(json_extract_string(r.raw_row, '$."' || f.field || '"'), $cs), t.term
                )
            )
            OR (
                NOT coalesce(json_valid(r.raw_row), FALSE)
                AND list_contains(
                    list_transform(
                        regexp_split_to_array(r.raw_row, '[,;\t|]'), lambda v: _nj_norm(trim(v, '"'), $cs)
                    ),
                    t.term
                )
            )
            OR (r.field = f.field AND contains(_nj_norm(r.reason, $cs), '''' || t.term || ''''))
        )
);

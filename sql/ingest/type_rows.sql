-- `_typed` from `_rows` ({{rows}}: `_rows`, or the query of the rows): every field trimmed (NULL if
-- empty), cast to its declared type, and the reasons a row is rejected; `_reason` is NULL for a good row, `_field` names the first bad field.
-- {{carry}}: columns of `_rows` kept as they are (e.g. `"_file", ` when several files are typed at
-- once); {{trims}}, {{casts}} and {{reasons}}: the generated lists of typing.py (the reasons of each
-- row's own values); {{good}}: no reason so far (`__good`, which the extra {{checks}} may use to
-- compare a row with the good rows only, e.g. for a duplicate key); {{all_reasons}} and
-- {{first_field}}: the reason columns joined, and a CASE naming the first bad one. {{raw_in}} and
-- {{raw_out}}: nothing, or (when `_typed` keeps the raw text of its rejected rows, so that `_rows` can
-- be dropped before the write) the row's raw text and text values taken along, and `_raw` made of them
-- for a rejected row (the line as read, or else the row's text values as JSON).
CREATE OR REPLACE TEMP TABLE _typed AS
SELECT {{carry}}_row_number, {{names}},
       coalesce(_error, NULLIF(concat_ws('; ', {{all_reasons}}), '')) AS _reason,
       coalesce(_error_field, CASE {{first_field}} END) AS _field{{raw_out}}
FROM (SELECT *, {{checks}}
      FROM (SELECT *, {{good}} AS __good
            FROM (SELECT *, {{reasons}}
                  FROM (SELECT *, {{casts}}
                        FROM (SELECT {{carry}}_row_number, _error, _error_field, {{trims}}{{raw_in}}
                              FROM {{rows}} AS r) AS trimmed
                       ) AS cast_values
                 ) AS checked
           ) AS judged
     ) AS cross_checked;

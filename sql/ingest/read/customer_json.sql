-- `_rows` of the JSON form of customer data, `{"header": [...], "data": [[...], ...]}`, held in
-- `_doc`: one row per entry of `data`, {{cells}} its values as text (an array joined by commas),
-- {{nested}} the 1-based position of the first value that may not be an object or array (or NULL);
-- both read `__t` and `__s`, the JSON types and texts of the entry's values ($paths: $[0], $[1], ...).
-- An entry that is not an array is a `columns` reject naming what it is (json_array_length reads 0).
CREATE OR REPLACE TEMP TABLE _rows AS
SELECT _row_number, row::VARCHAR AS _raw,
       CASE WHEN NOT _ok AND coalesce(json_type(row), 'NULL') <> 'ARRAY'
            THEN 'columns: expected an array of ' || $n || ' values, found '
                 || CASE coalesce(json_type(row), 'NULL') WHEN 'OBJECT' THEN 'an object' WHEN 'VARCHAR' THEN 'a string'
                         WHEN 'BOOLEAN' THEN 'true or false' WHEN 'NULL' THEN 'null' ELSE 'a number' END
            WHEN NOT _ok THEN 'columns: expected ' || $n || ' values, found ' || json_array_length(row)
            WHEN __nested > 0 THEN $names[__nested] || ': a JSON object or array is not a single value'
       END AS _error,
       CASE WHEN NOT _ok THEN 'columns' WHEN __nested > 0 THEN $names[__nested] END AS _error_field,
       * EXCLUDE (_row_number, row, _ok, __nested)
FROM (SELECT _row_number, row, _ok, coalesce({{nested}}) AS __nested, {{cells}}
      FROM (SELECT *, CASE WHEN _ok THEN json_type(row, $paths) END AS __t,
                   CASE WHEN _ok THEN json_extract_string(row, $paths) END AS __s
            FROM (SELECT *, coalesce(json_type(row) = 'ARRAY' AND json_array_length(row) = $n, FALSE) AS _ok
            FROM (SELECT unnest(d) AS row, generate_subscripts(d, 1) AS _row_number
                  FROM (SELECT json_extract(content, '$.data[*]') AS d FROM _doc) AS doc) AS entries
                 ) AS checked
           ) AS parsed
     ) AS cells;

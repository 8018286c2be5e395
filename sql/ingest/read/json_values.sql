-- The rows of JSON-lines files from `_lines({{carry}}_row_number, line, _error)` (`_rows` as
-- json_lines.sql makes it, or the rows that type_rows.sql types straight away): one text column per
-- declared name ({{values}}: `__s[i] AS "name"`, or `coalesce(__s[i], __n[j])` for a name also
-- looked for inside objects: {{nested_values}} extracts `__n` at those paths), and the reason of a
-- line that is not an object. The values come out trimmed (a value that starts or ends with a space,
-- as type_rows.sql trims it), so the typing need not trim them again.
--
-- One JSON parse per line for the values: json_extract_string with a list of paths returns the text
-- of every field, or (in try) NULL for a line that is not valid JSON, the only ones json_valid reads
-- (a valid line whose values came back NULL all the same is extracted again, outside try). The tests
-- are CASEs, not AND / OR: a CASE runs its branch on the rows that take it only. A valid line
-- starting with '{' is an object (only the others are parsed again to tell). A value that is an
-- object or array comes back as JSON text, so only a line with a '{' after its first character or a
-- '[' is parsed again to tell a nested value from a string. An array is a value of a field where
-- $listable says so (a String field: its elements joined with ', ').
--
-- DuckDB's parser takes a comma before a closing brace or bracket (`{"a": 1,}`), which is not JSON:
-- such a line (`__comma`) is not valid (Python's parser then names the problem). A flat line (`__flat`:
-- an object with no '[' and no '{' inside it) has one closing brace, its last: its end is looked at
-- (most lines end with `"}`, which is no comma; $comma_at_end otherwise). Another line is searched
-- for a comma, blanks and a closing brace or bracket ($comma_close), and one that has them for such
-- a comma outside strings ($trailing_comma).
--
-- A plain line (`__plain`: an object with no '[', no '{' inside it, no space before a quote, no tab,
-- no space written as \u0020 and no ':" ') holds no array, no nested value and no value with a space
-- at either end: its values are the extracted list as it is, and it has no nested value to look for.
-- (A value ends with a space only as ` "`; it starts with one only right after ':', or after a space
-- or a tab after it: `:" `, ` "` or a tab. `:" ` is searched for, not `" `: a quote is in every
-- value, a colon once per key, so the search is about three times as fast. No '{' inside a line that
-- starts with one is `NOT LIKE '{%{%'`: a literal start, about twice as fast as `'_%{%'`.) Only the
-- other lines go through {{careful}}, the list's values joined (arrays) and trimmed one by one.
SELECT {{carry}}_row_number, line AS _raw,
       CASE WHEN _error IS NOT NULL THEN _error
            WHEN NOT _valid THEN 'json: the line is not valid JSON'
            WHEN NOT _ok THEN 'json: the line is not a JSON object'
            WHEN __nested > 0 THEN $names[__nested] || ': a JSON object or array is not a single value'
       END AS _error,
       CASE WHEN _error IS NOT NULL THEN 'encoding' WHEN NOT _ok THEN 'json'
            WHEN __nested > 0 THEN $names[__nested] END AS _error_field,
       {{values}}
FROM (SELECT *, CASE WHEN __plain THEN NULL
                     WHEN _ok AND (line LIKE '%[%' OR line LIKE '_%{%')
                     THEN list_position(list_transform(list_zip(json_type(line, $paths), $listable),
                                                       lambda p: p[1] = 'OBJECT' OR (p[1] = 'ARRAY' AND NOT p[2])), TRUE)
                END AS __nested
      FROM (SELECT *, CASE WHEN __plain AND __p IS NOT NULL THEN __p
                           WHEN _ok THEN {{careful}}
                      END AS __s{{nested_values}}
            FROM (SELECT *, CASE WHEN NOT _valid THEN FALSE WHEN starts_with(line, '{') THEN TRUE
                                 ELSE json_type(line) = 'OBJECT' END AS _ok
                  FROM (SELECT *, CASE WHEN _error IS NOT NULL OR __comma THEN FALSE WHEN __p IS NOT NULL THEN TRUE
                                       ELSE json_valid(line) END AS _valid
                        FROM (SELECT *, CASE WHEN NOT __flat
                                             THEN CASE WHEN regexp_matches(line, $comma_close)
                                                       THEN regexp_matches(line, $trailing_comma) ELSE FALSE END
                                             WHEN suffix(line, '"}') THEN FALSE
                                             WHEN suffix(line, ',}') THEN TRUE
                                             WHEN suffix(line, '}') AND NOT suffix(line, ' }')
                                                  AND NOT suffix(line, chr(9) || '}') THEN FALSE
                                             ELSE regexp_matches(line, $comma_at_end) END AS __comma,
                                     __flat AND NOT contains(line, ':" ') AND NOT contains(line, ' "')
                                     AND NOT contains(line, chr(9)) AND NOT contains(line, '\u0020') AS __plain
                              FROM (SELECT *, CASE WHEN _error IS NULL THEN try(json_extract_string(line, $paths)) END AS __p,
                                           _error IS NULL AND starts_with(line, '{') AND NOT contains(line, '[')
                                           AND line NOT LIKE '{%{%' AS __flat
                                    FROM _lines) AS extracted
                             ) AS flat
                       ) AS checked
                 ) AS typed
           ) AS parsed
     ) AS nested

-- Rejected rows whose raw text or reason holds a forgotten customer's id or identifier value as a
-- whole word (not inside a longer id), compared as identity matching compares ($cs).
DELETE FROM rejects r
WHERE EXISTS (
    SELECT 1
    FROM (SELECT value AS term FROM _forget_values
          UNION
          SELECT _nj_norm(customer_id, $cs) FROM _forget_ids) t,
         (SELECT CASE WHEN $cs THEN concat_ws(chr(10), r.raw_row, r.reason)
                      ELSE lower(concat_ws(chr(10), r.raw_row, r.reason)) END AS text) x
    WHERE t.term <> '' AND contains(x.text, t.term)
      AND regexp_matches(x.text, '(^|[^[:alnum:]])' || regexp_escape(t.term) || '($|[^[:alnum:]])')
);

-- A plain file of the JSON form of customer data as one text value in `_doc`, without the UTF-8 byte
-- order mark a Windows tool may write first (read_json_objects, for a .gz, skips it as well).
CREATE OR REPLACE TEMP TABLE _doc AS
SELECT CASE WHEN starts_with(content, chr(65279)) THEN substr(content, 2) ELSE content END AS content
FROM read_text($p);

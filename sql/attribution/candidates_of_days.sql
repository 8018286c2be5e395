-- A range of days: of the <candidates> (candidates.sql), each conversion of day d keeps those its day
-- alone reads (touch_source.sql): touches of partitions up to d, before the end of d, and from
-- d - $longest days on (unless $infinite). One day's touches are those already.
SELECT *
FROM ({{candidates}}) AS c
WHERE
    touch_day <= day AND touched_at < day + INTERVAL 1 DAY
    AND ($infinite OR touched_at >= day - to_days($longest::INTEGER))

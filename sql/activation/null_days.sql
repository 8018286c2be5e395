-- Rows of a daily table without a day (they cannot be hive-partitioned by it).
SELECT count(*) FROM {{table}} WHERE {{day}} IS NULL;

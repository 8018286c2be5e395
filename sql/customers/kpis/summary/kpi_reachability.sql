-- The headline numbers of kpi_reachability for the UI: customers by reachability on the last day.
WITH last AS (
    SELECT reachability, customers_total FROM kpi_reachability
    WHERE grain = 'day' AND period_start = (SELECT max(period_start) FROM kpi_reachability WHERE grain = 'day')
)
SELECT coalesce(sum(customers_total) FILTER (WHERE reachability = 'email_and_mobile'), 0) AS email_and_mobile,
       coalesce(sum(customers_total) FILTER (WHERE reachability = 'email_only'), 0) AS email_only,
       coalesce(sum(customers_total) FILTER (WHERE reachability = 'mobile_only'), 0) AS mobile_only,
       coalesce(sum(customers_total) FILTER (WHERE reachability = 'not_reachable'), 0) AS not_reachable,
       CAST(sum(customers_total) FILTER (WHERE reachability <> 'not_reachable') AS DOUBLE)
           / nullif(sum(customers_total), 0) AS reachable_share
FROM last;

-- The most any sum of the values of {{table}} can reach (the experiments: a variant's date, a customer's
-- running sum in report_counts.sql, a presentation's matches in write_conversions.sql; the KPIs: any
-- period's, customer's or total's orders, _kpi_order_rows): the sum of their magnitudes, as doubles.
SELECT coalesce(sum(abs(value::DOUBLE)), 0) FROM {{table}};

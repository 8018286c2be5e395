-- Empty the kpi_customer_behaviour rows an update recomputes (all of them for a full rebuild), in
-- the update's transaction.
DELETE FROM kpi_customer_behaviour
WHERE $whole OR customer_id IN (SELECT customer_id FROM _kpi_changed_customers);

-- Whether a customer is in the snapshot.
SELECT customer_id FROM customers WHERE customer_id = $customer LIMIT 1

-- The customers reachable on a channel: the customer data holds an identifier of the kind
-- {{kind}} (a bound parameter) for them (the customer 360's reachability: email = an emailsha256,
-- mobile = an idfa).
SELECT customer_id FROM customer_identities WHERE dataset = 'customers' AND kind = {{kind}}

-- The customers whose customer data matches a rule: the condition is the rule compiled over `c`
-- (pipeline.core.rules), its values bound. `customers` keeps the latest attributes only.
SELECT c.customuid FROM customers AS c
WHERE {{condition}}

-- Events of customers an exclusion filter now drops go too (their keys are in `keys`).
DELETE FROM events e USING {{keys}} k
WHERE e.source = k.dataset AND e.customer_key = k.key AND k.excluded;

-- Events of customers an exclusion filter now drops go too.
DELETE FROM events e USING _feed_keys k
WHERE e.source = k.dataset AND e.customer_key = k.key AND k.excluded;

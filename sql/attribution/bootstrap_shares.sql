-- Each conversion's shares per model and channel on day $d (i from _att_boot), except the credited
-- touches of the data-driven models ($learnt), which the bootstrap learns again per replicate.
SELECT b.i, c.model, c.channel, sum(c.credit_share) AS share
FROM _att_credits AS c
JOIN _att_boot AS b USING (conversion, conversion_id)
WHERE c._partition_date = $d AND (NOT list_contains($learnt::VARCHAR [], c.model) OR c.channel = $unattributed)
GROUP BY ALL
ORDER BY ALL;

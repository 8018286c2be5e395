-- The total rows of the report flagged with a sample-ratio mismatch (control/treated split vs share).
SELECT count(*) FILTER (WHERE srm_mismatch)
FROM experiment_report
WHERE scope = 'total';

-- How many decisions the results query finds over all pages.
SELECT count(*) AS total FROM results
WHERE ($day IS NULL OR date = $day) AND ($experiment IS NULL OR experiment = $experiment)

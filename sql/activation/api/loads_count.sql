-- How many loads a data set has.
SELECT count(*) AS total FROM loads WHERE dataset = $dataset

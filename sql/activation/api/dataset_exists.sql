-- Whether a data set has loads in the snapshot.
SELECT dataset FROM loads WHERE dataset = $dataset LIMIT 1

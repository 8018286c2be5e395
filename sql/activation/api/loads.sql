-- One data set's loads, newest partition first, one page.
SELECT * FROM loads WHERE dataset = $dataset
ORDER BY partition_date DESC, load_id DESC
LIMIT $page_rows OFFSET $skip_rows

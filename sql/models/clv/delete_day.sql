-- A day's customer lifetime values (every clv model) go before the day's are written again.
DELETE FROM clv WHERE date = $day::DATE

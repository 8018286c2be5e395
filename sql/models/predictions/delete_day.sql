-- A day's predictions (every model) go before the day's scores are written again.
DELETE FROM predictions WHERE date = $day::DATE

-- Each candidate's send time of one experiment with slots (from the frame _send_rows, pipeline/experiments/timing.py).
INSERT INTO _send_at
SELECT customer_id, $experiment, send_at FROM _send_rows;

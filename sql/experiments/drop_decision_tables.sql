-- The connection-local tables of the decision step, once the night's results are written.
DROP TABLE IF EXISTS _exp;
DROP TABLE IF EXISTS _cand;
DROP TABLE IF EXISTS _rates;
DROP TABLE IF EXISTS _scores;
DROP TABLE IF EXISTS _people;
DROP TABLE IF EXISTS _policy;
DROP TABLE IF EXISTS _send_at;
DROP TABLE IF EXISTS _audience;

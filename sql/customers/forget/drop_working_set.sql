-- Drop the working set of a forget (it holds the identifiers; nothing of it may outlive the call).
DROP TABLE IF EXISTS _forget_seeds;
DROP TABLE IF EXISTS _forget_found;
DROP TABLE IF EXISTS _forget_ids;
DROP TABLE IF EXISTS _forget_values;
DROP TABLE IF EXISTS _forget_holders;
DROP TABLE IF EXISTS _forget_excluded;
DROP TABLE IF EXISTS _forget_shared;

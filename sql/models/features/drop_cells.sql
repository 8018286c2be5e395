-- The long cells and their feature numbers, once the wide matrix is built.
DROP TABLE _feature_ids;
DROP TABLE _long;

-- A column a table lacks (a field declared later); the type is one of Nightjar's own.
ALTER TABLE {{table}} ADD COLUMN {{column}} {{type}};

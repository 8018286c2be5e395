-- A column whose declared type changed, converted in place ({{converted}}: its value in the new type;
-- retype_failures.sql found that every value converts). A strptime pattern it uses is the session
-- variable set by retype_pattern.sql (an ALTER statement takes no bound parameters).
ALTER TABLE {{table}} ALTER COLUMN {{column}} SET DATA TYPE {{type}} USING {{converted}};

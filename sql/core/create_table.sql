-- A table with Nightjar's own column definitions ("name" TYPE, ...).
CREATE TABLE {{table}} ({{definitions}});

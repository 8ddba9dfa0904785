-- bakeoff reference schema (PostgreSQL 15). Shared by every target variant.
-- Run it connected as the application role (the database owner), so the
-- tables belong to that role and no GRANTs are needed. Safe to run twice.

CREATE TABLE IF NOT EXISTS world (
    id           integer NOT NULL PRIMARY KEY,
    randomnumber integer NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS fortune (
    id      integer       NOT NULL PRIMARY KEY,
    message varchar(2048) NOT NULL
);

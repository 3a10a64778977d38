-- Tables for tests/db/test_db, valid for SQLite and PostgreSQL alike.
CREATE TABLE trainer (id integer PRIMARY KEY, name text);
CREATE TABLE pokemon (id integer PRIMARY KEY, name text, power integer,
    trainer_id integer, secret text, "a""; DROP TABLE x; --" text);
CREATE VIEW pokeview AS SELECT * FROM pokemon;
CREATE TABLE hidden (id integer);
INSERT INTO trainer VALUES (1, 'ash'), (2, 'misty'), (3, 'brock'),
    (4, 'nobody');
INSERT INTO pokemon VALUES
    (1, 'pikachu', 55, 1, 's1', 'h1'),
    (2, 'Bulbasaur', 49, 1, 's2', NULL),
    (3, 'charmander', 52, 1, NULL, NULL),
    (4, 'squirtle', 48, 1, NULL, NULL),
    (5, 'staryu', NULL, 2, NULL, NULL),
    (6, 'starmie', 75, 2, NULL, NULL),
    (7, 'onix', 45, 3, NULL, NULL),
    (8, NULL, 10, 3, NULL, NULL),
    (9, 'Ärbok', 60, NULL, NULL, NULL),
    (10, 'abra', 20, 3, NULL, NULL);

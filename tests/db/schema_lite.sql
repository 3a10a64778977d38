-- SQLite only: typing by storage class, and a big table for the timing
-- of a slow statement (filled by db.t).
CREATE TABLE types (i integer, r real, t text, b blob, n text, dyn);
INSERT INTO types VALUES (9007199254740993, 1.5, 'h' || char(233) || 'llo',
    X'00FF10', NULL, 5);
CREATE TABLE big (id integer PRIMARY KEY, v text);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
    WHERE x < 300000)
INSERT INTO big SELECT x, hex(randomblob(12)) FROM c;

-- PostgreSQL only: the application role, the typing table, and a table
-- whose every read sleeps (a row-level security policy calling
-- pg_sleep, which binds the non-owner role "app"), and one that
-- naps 0.3 s, and one visible only to read-only sessions in UTC.
CREATE TABLE types (i2 smallint, i4 integer, i8 bigint, f4 real,
    f8 double precision, num numeric, nan double precision,
    inf double precision, ninf numeric, b boolean, j json, jb jsonb,
    d date, ts timestamp, ts0 timestamp, tstz timestamptz, t time,
    by bytea, ai integer[], at text[], ab boolean[], anull integer[],
    u uuid, tx text, vc varchar(10), n text);
INSERT INTO types VALUES (-32768, 2147483647, 9223372036854775807, 1.5,
    0.1, 12345678901234567890.125, 'NaN', 'Infinity', '-Infinity', true,
    '{"a":[1,2]}', '{"b": null}', '2024-02-29', '2024-01-02 03:04:05.120',
    '2024-01-02 03:04:05', '2024-01-02 03:04:05.5+02', '13:14:15.25',
    '\x00ff10', '{1,NULL,3}', '{"a b","c\"d",NULL}', '{t,f}', NULL,
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'text', 'vc', NULL);
CREATE TABLE slow (id integer);
INSERT INTO slow VALUES (1);
ALTER TABLE slow ENABLE ROW LEVEL SECURITY;
ALTER TABLE slow FORCE ROW LEVEL SECURITY;
CREATE POLICY sleepy ON slow USING (pg_sleep(30) IS NOT NULL);
CREATE TABLE nap (id integer);
INSERT INTO nap VALUES (1);
ALTER TABLE nap ENABLE ROW LEVEL SECURITY;
ALTER TABLE nap FORCE ROW LEVEL SECURITY;
CREATE POLICY napping ON nap USING (pg_sleep(0.3) IS NOT NULL);
CREATE TABLE session (id integer);
INSERT INTO session VALUES (1);
ALTER TABLE session ENABLE ROW LEVEL SECURITY;
ALTER TABLE session FORCE ROW LEVEL SECURITY;
CREATE POLICY readonly_utc ON session USING
    (current_setting('transaction_read_only') = 'on' AND
     current_setting('TimeZone') = 'UTC');
CREATE ROLE app LOGIN PASSWORD :'pw';
GRANT SELECT ON ALL TABLES IN SCHEMA public TO app;

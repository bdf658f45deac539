-- citus_setup() on a server without Citus: a clear error naming the fix,
-- and nothing changed (the Citus cluster itself is test/citus/run.sh).
SET client_min_messages = notice;

\i test/sql/include/error_of.sql

SELECT pg_temp.error_of('SELECT * FROM personalize.citus_setup()') AS without_citus;
SELECT * FROM personalize.citus_setup();
-- offer_log keeps its single-node primary key.
SELECT pg_get_constraintdef(oid) AS offer_log_pkey FROM pg_constraint WHERE conname = 'offer_log_pkey';
-- State-changing: not for PUBLIC.
SELECT has_function_privilege('public', 'personalize.citus_setup(regclass)', 'EXECUTE') AS public_may_run;

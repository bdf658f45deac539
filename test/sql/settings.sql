-- Settings: personalize.memory_limit before and after the library loads,
-- personalize.memory_limit() (the limit in force), and how a limit below
-- 1 MB is reported (exactly, not rounded up to 1 MB).
SET client_min_messages = warning;
\i test/sql/include/error_of.sql
-- The SQLSTATE, message and detail a statement fails with.
CREATE FUNCTION pg_temp.error_and_detail_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || ' / ' || detail;
END $$;

-- A fresh session has not loaded the library: the setting is not defined yet
-- (docs/reference.md, Settings), but SET is kept and applied when it loads.
SELECT pg_temp.error_of('SHOW personalize.memory_limit');
SELECT current_setting('personalize.memory_limit', true) IS NULL AS not_yet_defined;
SET personalize.memory_limit = '64kB';
SELECT personalize.memory_limit() AS limit_bytes;  -- loads the library
SHOW personalize.memory_limit;
-- Once loaded, the prefix is reserved: a misspelt setting is an error.
SELECT pg_temp.error_of('SET personalize.memory_limt = ''1MB''');

-- A limit below 1 MB is reported in kB; what would be in use is a lower bound.
SELECT pg_temp.error_and_detail_of($$SELECT personalize.baskets(i / 10, i % 1000) FROM generate_series(1, 20000) i$$);
SET personalize.memory_limit = '1536kB';
SELECT pg_temp.error_and_detail_of($$SELECT personalize.baskets(i / 10, i % 1000) FROM generate_series(1, 200000) i$$);
SET personalize.memory_limit = '2MB';
SELECT pg_temp.error_and_detail_of($$SELECT personalize.baskets(i / 10, i % 1000) FROM generate_series(1, 200000) i$$);

-- The default (-1) is work_mem x hash_mem_multiplier, PostgreSQL's limit for one hash table.
RESET personalize.memory_limit;
SET work_mem = '4MB';
SET hash_mem_multiplier = 2;
SHOW personalize.memory_limit;
SELECT personalize.memory_limit() AS default_limit_bytes, pg_size_pretty(personalize.memory_limit()) AS pretty;
SET hash_mem_multiplier = 1.5;
SELECT personalize.memory_limit() AS default_limit_bytes;
-- 0 is the smallest limit (1 kB: everything large fails); bad values are refused.
SET personalize.memory_limit = 0;
SELECT personalize.memory_limit() AS smallest_limit_bytes;
SELECT pg_temp.error_of('SET personalize.memory_limit = -2');
SELECT pg_temp.error_of('SET personalize.memory_limit = ''lots''');
SET personalize.memory_limit = '1GB';
SELECT personalize.memory_limit() AS limit_bytes;
SELECT personalize.live_cpp_objects() AS live_objects;

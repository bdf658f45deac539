-- personalize.baskets: building from order lines, text I/O, merging,
-- NULLs, empty input, bad input, the memory limit, and parallel = serial.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;

\i test/sql/include/error_of.sql

-- Order lines in any order; a duplicate line counts once; NULL ids are skipped.
CREATE TEMP TABLE lines (order_id bigint, product_id bigint);
INSERT INTO lines VALUES (7, 30), (1, 20), (1, 10), (7, 10), (1, 20), (3, 10), (NULL, 99), (3, NULL);
SELECT personalize.baskets(order_id, product_id) FROM lines;
SELECT * FROM personalize.basket_stats((SELECT personalize.baskets(order_id, product_id) FROM lines));
SELECT * FROM personalize.unnest_baskets('{7:{30,10},1:{20,10,20}}');

-- One array per basket; rows of the same basket are united; NULL elements skipped.
SELECT personalize.baskets(id, items)
FROM (VALUES (2, ARRAY[5, 4]::bigint[]), (1, ARRAY[3, NULL]), (2, ARRAY[6]), (4, '{}'), (NULL, ARRAY[1])) v(id, items);

-- Empty input gives NULL, like other aggregates.
SELECT personalize.baskets(order_id, product_id) IS NULL AS empty_is_null FROM lines WHERE false;

-- Text form: whitespace, order and duplicates do not matter.
SELECT ' { 2 : { 9 , 8, 9 } , 1:{1} } '::personalize.baskets;
SELECT '{}'::personalize.baskets AS empty;
SELECT pg_temp.error_of($$SELECT '{5:{}}'::personalize.baskets$$) AS a_basket_has_items;
SELECT '{-3:{-1,9223372036854775807}}'::personalize.baskets AS extremes;
SELECT pg_temp.error_of($$SELECT '{1:{2}'::personalize.baskets$$);
SELECT pg_temp.error_of($$SELECT '{1 {2}}'::personalize.baskets$$);
SELECT pg_temp.error_of($$SELECT '{1:{x}}'::personalize.baskets$$);
SELECT pg_temp.error_of($$SELECT '{1:{99999999999999999999}}'::personalize.baskets$$);
SELECT pg_temp.error_of($$SELECT ''::personalize.baskets$$);
SELECT pg_temp.error_of($$SELECT '{1:{2}} trailing'::personalize.baskets$$);

-- Stored values merge without re-reading history: yesterday's orders are
-- added, and a basket present in both gets the union of its items.
CREATE TEMP TABLE stored (as_of date PRIMARY KEY, b personalize.baskets);
INSERT INTO stored SELECT '2025-01-01', personalize.baskets(order_id, product_id) FROM lines;
UPDATE stored SET b = personalize.merge_baskets(b, '{3:{40},9:{10,50}}') WHERE as_of = '2025-01-01';
SELECT b FROM stored;
SELECT personalize.merge_baskets('{}', '{}') AS both_empty;
SELECT personalize.merge_baskets('{1:{1}}', NULL) IS NULL AS strict;

-- The memory limit is a clear error, not an exhausted server.
SET personalize.memory_limit = '1MB';
SELECT pg_temp.error_of($$SELECT personalize.baskets(i / 10, i % 1000) FROM generate_series(1, 200000) i$$);
SET personalize.memory_limit = '128MB';
SELECT pg_temp.error_of($$SET personalize.memory_limit = -5$$);
SELECT personalize.live_cpp_objects() AS live_after_error;

-- Parallel plans give the serial value. Lines are shuffled, so the lines of
-- one basket are read by different workers and merged by the combine step.
CREATE TABLE basket_lines AS
SELECT (i % 20000) AS order_id, (abs(hashint8(i)) % 3000)::bigint AS product_id
FROM generate_series(1, 300000::bigint) i ORDER BY md5(i::text);
ANALYZE basket_lines;
CREATE TEMP TABLE serial_value AS SELECT personalize.baskets(order_id, product_id) AS b FROM basket_lines;
\i test/sql/include/parallel_plans.sql
EXPLAIN (COSTS OFF) SELECT personalize.baskets(order_id, product_id) FROM basket_lines;
CREATE TEMP TABLE parallel_value AS SELECT personalize.baskets(order_id, product_id) AS b FROM basket_lines;
CREATE TABLE order_arrays AS
SELECT order_id, array_agg(product_id) AS items FROM basket_lines GROUP BY order_id ORDER BY md5(order_id::text);
ANALYZE order_arrays;
EXPLAIN (COSTS OFF) SELECT personalize.baskets(order_id, items) FROM order_arrays;
CREATE TEMP TABLE parallel_array_value AS SELECT personalize.baskets(order_id, items) AS b FROM order_arrays;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT (personalize.basket_stats(s.b)).*, s.b::text = p.b::text AS parallel_equals_serial,
       s.b::text = a.b::text AS parallel_arrays_equal_serial
FROM serial_value s, parallel_value p, parallel_array_value a;
-- The same baskets, checked against plain SQL grouping.
SELECT count(*) AS baskets_differing_from_array_agg
FROM (SELECT order_id, array_agg(DISTINCT product_id ORDER BY product_id) AS items
      FROM basket_lines GROUP BY order_id) plain
FULL JOIN personalize.unnest_baskets((SELECT b FROM serial_value)) u ON u.basket_id = plain.order_id
WHERE u.items IS DISTINCT FROM plain.items;
DROP TABLE basket_lines, order_arrays;

-- Values stored by 0.1.0 stay readable: these are the stored bytes of
-- {1:{10,20},7:{10}} as 0.1.0 wrote them (a cast without function hands raw
-- bytes to the type, as a value read from disk is).
CREATE CAST (bytea AS personalize.baskets) WITHOUT FUNCTION;
SELECT v::text AS from_010, (personalize.basket_stats(v)).*, v::text::personalize.baskets::text = v::text AS round_trip
FROM (SELECT ('\x50424b3100000000020000000000000003000000000000000100000000000000'
              '0700000000000000020000000000000003000000000000000a00000000000000'
              '14000000000000000a00000000000000'::bytea)::personalize.baskets AS v) stored;
SELECT pg_temp.error_of($$SELECT ('\x50424b3102000000'::bytea)::personalize.baskets::text$$);
DROP CAST (bytea AS personalize.baskets);

-- personalize.customer_summary: semantics, NULLs, empty input, bad input,
-- errors inside transactions, and parallel = serial.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- Runs a statement and shows its SQLSTATE and message instead of failing.
\i test/sql/include/error_of.sql

SELECT personalize.version();

-- CDNOW sample customer 1 (weekly unit, calibration end 1997-09-30):
-- x = 2, t_x = 30.43, T = 38.86, zbar = 22.35 in the published summary.
CREATE TEMP TABLE cdnow_one (ordered_at timestamptz, amount float8);
INSERT INTO cdnow_one VALUES
    ('1997-01-01', 29.33), ('1997-01-18', 29.73), ('1997-08-02', 14.96), ('1997-12-12', 26.48);
SELECT (s).orders, (s).frequency, round((s).recency::numeric, 2) AS recency, round((s).age::numeric, 2) AS age,
       round((s).monetary::numeric, 3) AS monetary, round((s).total::numeric, 2) AS total,
       (s).first_order_at, (s).last_order_at
FROM (SELECT personalize.customer_summary(ordered_at, amount, '1997-09-30', '1 week') AS s
      FROM cdnow_one WHERE ordered_at <= '1997-09-30') q;

-- Default unit is one day; all orders of one calendar day are one purchase.
CREATE TEMP TABLE orders (customer_id int, ordered_at timestamptz, amount float8);
INSERT INTO orders VALUES
    (1, '2025-03-01 09:00', 10), (1, '2025-03-01 18:30', 5),      -- same day: one purchase of 15
    (1, '2025-03-11 12:00', 20), (1, '2025-03-21 23:59', 40),
    (2, '2025-03-20 08:00', 99.5),                                -- a single purchase
    (3, '2025-02-01 10:00', 30), (3, '2025-02-15 10:00', -30),   -- a return on its own day
    (4, NULL, 12);                                                -- no timestamp: skipped
SELECT customer_id, (s).*
FROM (SELECT customer_id, personalize.customer_summary(ordered_at, amount, '2025-04-01') AS s
      FROM orders GROUP BY customer_id) q
ORDER BY customer_id;

-- Units: weeks, hours and months (a month counts 30 days, as extract(epoch)).
SELECT u AS unit, (s).recency, (s).age
FROM (VALUES ('1 week'::interval), ('12 hours'), ('1 month'), ('1 day 12:00')) v(u),
     LATERAL (SELECT personalize.customer_summary(ordered_at, amount, '2025-04-01', u) AS s
              FROM orders WHERE customer_id = 1) q
ORDER BY unit;

-- The day is the calendar day in the session's TimeZone.
SET TimeZone = 'America/New_York';
SELECT (personalize.customer_summary(t, 1, '2025-01-10 12:00+00')).frequency AS frequency_new_york
FROM (VALUES ('2025-01-02 03:00+00'::timestamptz), ('2025-01-02 06:00+00')) v(t);
SET TimeZone = 'UTC';
SELECT (personalize.customer_summary(t, 1, '2025-01-10 12:00+00')).frequency AS frequency_utc
FROM (VALUES ('2025-01-02 03:00+00'::timestamptz), ('2025-01-02 06:00+00')) v(t);

-- Empty input and all-NULL timestamps give NULL, like other aggregates.
SELECT personalize.customer_summary(ordered_at, amount, '2025-04-01') IS NULL AS empty_is_null
FROM orders WHERE false;
SELECT personalize.customer_summary(NULL::timestamptz, amount, '2025-04-01') IS NULL AS all_null_is_null
FROM orders;

-- Bad input: each names its argument, with its SQLSTATE.
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, NULL, '2025-04-01') FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, amount, NULL) FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, amount, '2025-04-01', NULL) FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, amount, '2025-04-01', '0 days') FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, amount, '2025-04-01', '-1 day') FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, 'NaN', '2025-04-01') FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, 'Infinity', '2025-04-01') FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, '-Infinity', '2025-04-01') FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, amount, '2025-03-15') FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, amount, ordered_at + interval '1 day') FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(ordered_at, amount, '2025-04-01', '1 day'::interval * customer_id) FROM orders$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary('-infinity', 1, '2025-04-01')$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(now(), 1, 'infinity')$$);

-- The error is an ordinary ERROR: the transaction aborts, the backend stays
-- usable, and no C++ state is left behind.
BEGIN;
SELECT personalize.customer_summary(ordered_at, amount, '2025-03-15') FROM orders;
SELECT 1;
ROLLBACK;
BEGIN;
SAVEPOINT before_bad_query;
SELECT (personalize.customer_summary(ordered_at, amount, '2025-03-15')).orders FROM orders;
ROLLBACK TO SAVEPOINT before_bad_query;
SELECT (personalize.customer_summary(ordered_at, amount, '2025-04-01')).orders AS orders_after_savepoint FROM orders;
COMMIT;
SELECT personalize.live_cpp_objects() AS live_after_errors;

-- Parallel plans give the serial result. Rows of one customer are spread
-- over many pages, so several workers hold partial states of the same
-- customer and the combine function must merge them.
CREATE TABLE summary_orders AS
SELECT (i % 5000) + 1 AS customer_id,
       timestamptz '2024-01-01' + ((i * 7919) % 700) * interval '1 day' + (i % 24) * interval '1 hour' AS ordered_at,
       ((i * 37) % 20000) / 100.0 - 10 AS amount
FROM generate_series(1, 200000) i
ORDER BY md5(i::text);
ANALYZE summary_orders;

CREATE TEMP TABLE serial_result AS
SELECT customer_id, (personalize.customer_summary(ordered_at, amount, '2026-01-01', '1 week')).*
FROM summary_orders GROUP BY customer_id;

-- The hashed plan is chosen only when the groups fit in work_mem (4MB on a stock server).
SET work_mem = '64MB';
\i test/sql/include/parallel_plans.sql
EXPLAIN (COSTS OFF)
SELECT customer_id, personalize.customer_summary(ordered_at, amount, '2026-01-01', '1 week')
FROM summary_orders GROUP BY customer_id;
CREATE TEMP TABLE parallel_result AS
SELECT customer_id, (personalize.customer_summary(ordered_at, amount, '2026-01-01', '1 week')).*
FROM summary_orders GROUP BY customer_id;
-- Sorted grouping takes the other partial-aggregate path.
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT customer_id, personalize.customer_summary(ordered_at, amount, '2026-01-01', '1 week')
FROM summary_orders GROUP BY customer_id;
CREATE TEMP TABLE parallel_sorted_result AS
SELECT customer_id, (personalize.customer_summary(ordered_at, amount, '2026-01-01', '1 week')).*
FROM summary_orders GROUP BY customer_id;
RESET enable_hashagg;
-- One state for the whole table, merged from both workers.
EXPLAIN (COSTS OFF)
SELECT personalize.customer_summary(ordered_at, amount, '2026-01-01') FROM summary_orders;
SELECT (s).orders, (s).frequency, round((s).monetary::numeric, 6) AS monetary, round((s).total::numeric, 2) AS total
FROM (SELECT personalize.customer_summary(ordered_at, amount, '2026-01-01') AS s FROM summary_orders) q;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT (s).orders, (s).frequency, round((s).monetary::numeric, 6) AS monetary, round((s).total::numeric, 2) AS total
FROM (SELECT personalize.customer_summary(ordered_at, amount, '2026-01-01') AS s FROM summary_orders) q;

-- Identical to the last bit except for sums of three or more orders on one
-- day, whose float order may differ: compare those to 1e-9.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE s.orders = p.orders AND s.frequency = p.frequency AND s.recency = p.recency
                          AND s.age = p.age AND s.first_order_at = p.first_order_at
                          AND s.last_order_at = p.last_order_at
                          AND abs(s.monetary - p.monetary) <= 1e-9 * (1 + abs(s.monetary))
                          AND abs(s.total - p.total) <= 1e-9 * (1 + abs(s.total))) AS equal_hash,
       count(*) FILTER (WHERE s.orders = q.orders AND s.frequency = q.frequency
                          AND abs(s.monetary - q.monetary) <= 1e-9 * (1 + abs(s.monetary))) AS equal_sorted
FROM serial_result s JOIN parallel_result p USING (customer_id) JOIN parallel_sorted_result q USING (customer_id);

-- The same numbers from plain SQL, the way a DBA would write them.
WITH days AS (
    SELECT customer_id, ordered_at::date AS day, sum(amount) AS amount, count(*) AS n,
           min(ordered_at) AS first_at, max(ordered_at) AS last_at
    FROM summary_orders GROUP BY customer_id, ordered_at::date
), plain AS (
    SELECT customer_id, sum(n) AS orders, count(*) - 1 AS frequency,
           (max(day) - min(day)) / 7.0 AS recency, (date '2026-01-01' - min(day)) / 7.0 AS age,
           coalesce((sum(amount) - (array_agg(amount ORDER BY day))[1]) / nullif(count(*) - 1, 0), 0) AS monetary
    FROM days GROUP BY customer_id
)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE s.orders = p.orders AND s.frequency = p.frequency
                          AND abs(s.recency - p.recency) < 1e-9 AND abs(s.age - p.age) < 1e-9
                          AND abs(s.monetary - p.monetary) < 1e-6) AS equal_to_plain_sql
FROM serial_result s JOIN plain p USING (customer_id);

SELECT personalize.live_cpp_objects() AS live_at_end;
DROP TABLE summary_orders;

-- time_zone: the purchase day in the given zone, whatever the session's
-- TimeZone (what keeps a Citus worker's answer equal to the coordinator's).
-- 23:30 and 00:30 UTC are two days in UTC, one day in New York.
CREATE TEMP TABLE tz_orders (at timestamptz, amount float8);
INSERT INTO tz_orders VALUES ('2024-03-01 23:30+00', 10), ('2024-03-02 00:30+00', 5), ('2024-03-05 12:00+00', 7);
SET TimeZone = 'UTC';
SELECT (personalize.customer_summary(at, amount, '2024-04-01 00:00+00', '1 day')).frequency AS session_utc,
       (personalize.customer_summary(at, amount, '2024-04-01 00:00+00', '1 day', 'America/New_York')).frequency AS new_york,
       (personalize.customer_summary(at, amount, '2024-04-01 00:00+00', '1 day', 'UTC')).frequency AS utc
FROM tz_orders;
SET TimeZone = 'America/New_York';
SELECT (personalize.customer_summary(at, amount, '2024-04-01 00:00+00', '1 day')).frequency AS session_new_york,
       (personalize.customer_summary(at, amount, '2024-04-01 00:00+00', '1 day', 'America/New_York')).frequency AS new_york,
       (personalize.customer_summary(at, amount, '2024-04-01 00:00+00', '1 day', 'UTC')).frequency AS utc
FROM tz_orders;
-- The explicit form equals the session form in that zone, on the whole shop too.
SELECT count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differing, count(*) AS customers
FROM (SELECT customer_id,
             personalize.customer_summary(ordered_at, amount, '2025-03-15', '1 day') AS a,
             personalize.customer_summary(ordered_at, amount, '2025-03-15', '1 day', 'America/New_York') AS b
      FROM orders WHERE ordered_at <= '2025-03-15' GROUP BY customer_id) x;
RESET TimeZone;
SELECT pg_temp.error_of($$SELECT personalize.customer_summary(at, amount, '2024-04-01', '1 day', 'Mars/Olympus') FROM tz_orders$$) AS bad_zone,
       pg_temp.error_of($$SELECT personalize.customer_summary(at, amount, '2024-04-01', '1 day', NULL) FROM tz_orders$$) AS null_zone;

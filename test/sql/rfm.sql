-- personalize.rfm_breakpoints / rfm_score / rfm_scores: equality with NTILE on
-- tie-free data, ties, stored breakpoints, parallel = serial, NULLs, empty
-- input and bad input.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;

-- Runs a statement and shows its SQLSTATE and message instead of failing.
\i test/sql/include/error_of.sql

-- Ten customers: recency = days since the last purchase (1 = most recent).
CREATE TEMP TABLE ten (customer_id int, recency float8, frequency float8, monetary float8);
INSERT INTO ten SELECT i, i, 11 - i, i * 10.5 FROM generate_series(1, 10) i;
SELECT personalize.rfm_breakpoints(recency, frequency, monetary) FROM ten;
SELECT personalize.rfm_breakpoints(recency, frequency, monetary, 3) FROM ten;
SELECT t.customer_id, s.*
FROM ten t, (SELECT personalize.rfm_breakpoints(recency, frequency, monetary) AS bp FROM ten) b,
     LATERAL personalize.rfm_score(b.bp, t.recency, t.frequency, t.monetary) s
ORDER BY t.customer_id;

-- Tie-free data (1009 customers, scrambled values): the scores are exactly
-- NTILE(bins) OVER (ORDER BY value), recency in descending order.
CREATE TEMP TABLE tie_free AS
SELECT i AS customer_id, ((i * 7919) % 1009) * 0.37 + 1 AS recency,
       ((i * 104729) % 1009) + 0.5 AS frequency, ((i * 3571) % 1009) * 2.25 - 40 AS monetary
FROM generate_series(1, 1009) i;
SELECT count(DISTINCT recency) AS r_values, count(DISTINCT frequency) AS f_values,
       count(DISTINCT monetary) AS m_values FROM tie_free;

CREATE FUNCTION pg_temp.ntile_mismatches(bins integer) RETURNS TABLE (bins integer, customers bigint,
    r_equal bigint, f_equal bigint, m_equal bigint, one_call_equal bigint) LANGUAGE sql AS $$
    WITH b AS (SELECT personalize.rfm_breakpoints(recency, frequency, monetary, bins) AS bp FROM tie_free),
    ext AS (SELECT t.customer_id, s.* FROM tie_free t, b,
                   LATERAL personalize.rfm_score(b.bp, t.recency, t.frequency, t.monetary) s),
    one_call AS (SELECT * FROM personalize.rfm_scores('tie_free', bins)),
    nt AS (SELECT customer_id,
                  ntile(bins) OVER (ORDER BY recency DESC) AS r,
                  ntile(bins) OVER (ORDER BY frequency) AS f,
                  ntile(bins) OVER (ORDER BY monetary) AS m
           FROM tie_free)
    SELECT bins, count(*), count(*) FILTER (WHERE e.r = n.r), count(*) FILTER (WHERE e.f = n.f),
           count(*) FILTER (WHERE e.m = n.m),
           count(*) FILTER (WHERE o.recency_score = n.r AND o.frequency_score = n.f AND o.monetary_score = n.m)
    FROM nt n JOIN ext e USING (customer_id) JOIN one_call o USING (customer_id)
$$;
SELECT * FROM pg_temp.ntile_mismatches(5);
SELECT * FROM pg_temp.ntile_mismatches(3);
SELECT * FROM pg_temp.ntile_mismatches(2);
SELECT * FROM pg_temp.ntile_mismatches(10);
-- Fewer customers than bins: as NTILE, scores 1..n.
SELECT customer_id, recency_score, frequency_score, monetary_score
FROM personalize.rfm_scores('ten', 10) WHERE customer_id IN (1, 5, 10) ORDER BY customer_id;
SELECT personalize.rfm_breakpoints(recency, frequency, monetary, 5) FROM ten WHERE customer_id <= 3;

-- Ties: identical values always get the same score (the bucket where their
-- run begins). Sorted frequencies 1 1 2 2 2 2 3 3 9 9: NTILE(5) would give
-- the four 2s buckets 2 and 3; here all four get 2. A constant column (the
-- recency and monetary here) has no breakpoints: everyone scores 1.
CREATE TEMP TABLE tied (customer_id int, recency float8, frequency float8, monetary float8);
INSERT INTO tied VALUES (1, 5, 1, 10), (2, 5, 1, 10), (3, 5, 2, 10), (4, 5, 2, 10), (5, 5, 2, 10),
                        (6, 5, 2, 10), (7, 5, 3, 10), (8, 5, 3, 10), (9, 5, 9, 10), (10, 5, 9, 10);
SELECT personalize.rfm_breakpoints(recency, frequency, monetary) FROM tied;
SELECT t.frequency, s.recency_score, s.frequency_score, s.monetary_score, count(*) AS customers
FROM personalize.rfm_scores('tied') s JOIN tied t USING (customer_id)
GROUP BY 1, 2, 3, 4 ORDER BY 1;
-- On heavily tied data (20 distinct values for 5000 customers) no value gets two scores.
CREATE TEMP TABLE many_ties AS
SELECT i AS customer_id, (i * 13) % 20 AS recency, (i * 7) % 20 AS frequency, ((i * 11) % 20) * 5.5 AS monetary
FROM generate_series(1, 5000) i;
SELECT count(*) AS values_with_two_scores FROM (
    SELECT 'r', t.recency FROM personalize.rfm_scores('many_ties') s JOIN many_ties t USING (customer_id)
    GROUP BY t.recency HAVING count(DISTINCT s.recency_score) > 1
    UNION ALL
    SELECT 'f', t.frequency FROM personalize.rfm_scores('many_ties') s JOIN many_ties t USING (customer_id)
    GROUP BY t.frequency HAVING count(DISTINCT s.frequency_score) > 1
    UNION ALL
    SELECT 'm', t.monetary FROM personalize.rfm_scores('many_ties') s JOIN many_ties t USING (customer_id)
    GROUP BY t.monetary HAVING count(DISTINCT s.monetary_score) > 1) q;
-- Scores stay monotone: a better value never gets a lower score.
SELECT count(*) AS order_violations
FROM (SELECT t.*, s.* FROM personalize.rfm_scores('many_ties') s JOIN many_ties t USING (customer_id)) a
JOIN (SELECT t.*, s.* FROM personalize.rfm_scores('many_ties') s JOIN many_ties t USING (customer_id)) b
  ON (a.recency < b.recency AND a.recency_score < b.recency_score)
  OR (a.frequency < b.frequency AND a.frequency_score > b.frequency_score)
  OR (a.monetary < b.monetary AND a.monetary_score > b.monetary_score);

-- Stored breakpoints score new customers consistently between refreshes.
CREATE TEMP TABLE stored AS
SELECT personalize.rfm_breakpoints(recency, frequency, monetary) AS bp FROM tie_free;
SELECT v.label, s.*
FROM stored, (VALUES ('best', 0.5::float8, 5000::float8, 1e6::float8), ('worst', 1e4, 0, -1e6),
                     ('middle', 187.5, 505, 1095)) v(label, r, f, m),
     LATERAL personalize.rfm_score(stored.bp, v.r, v.f, v.m) s
ORDER BY v.label;
-- Exactly on a breakpoint: frequency and monetary go up, recency (lower is better) too.
SELECT s.* FROM stored,
     LATERAL personalize.rfm_score(stored.bp, (stored.bp->'recency'->>1)::float8,
                                   (stored.bp->'frequency'->>1)::float8, (stored.bp->'monetary'->>1)::float8) s;
-- Every existing customer re-scored from the stored jsonb equals the one-call form.
SELECT count(*) AS customers, count(*) FILTER (WHERE (s.r, s.f, s.m) = (o.recency_score, o.frequency_score, o.monetary_score)) AS equal
FROM tie_free t CROSS JOIN stored
     CROSS JOIN LATERAL personalize.rfm_score(stored.bp, t.recency, t.frequency, t.monetary) s
     JOIN personalize.rfm_scores('tie_free') o USING (customer_id);
-- NULL arguments: NULL scores (STRICT).
SELECT (personalize.rfm_score(bp, NULL, 1, 1)).* FROM stored;

-- NULL rows are skipped; an empty input (or only NULLs) gives NULL.
CREATE TEMP TABLE with_nulls AS SELECT * FROM ten;
INSERT INTO with_nulls VALUES (11, NULL, 1, 1), (12, 1, NULL, 1), (13, 1, 1, NULL);
SELECT personalize.rfm_breakpoints(recency, frequency, monetary) = (SELECT personalize.rfm_breakpoints(recency, frequency, monetary) FROM ten) AS nulls_skipped
FROM with_nulls;
SELECT customer_id, recency_score, frequency_score, monetary_score
FROM personalize.rfm_scores('with_nulls') WHERE customer_id > 10 ORDER BY customer_id;
SELECT personalize.rfm_breakpoints(recency, frequency, monetary) IS NULL AS empty_is_null FROM ten WHERE false;
SELECT personalize.rfm_breakpoints(NULL::float8, frequency, monetary) IS NULL AS all_null_is_null FROM ten;
SELECT count(*) AS empty_table_rows FROM personalize.rfm_scores('with_nulls'::regclass) WHERE false;
CREATE TEMP TABLE no_customers (customer_id bigint, recency float8, frequency float8, monetary float8);
SELECT count(*) AS no_customer_rows FROM personalize.rfm_scores('no_customers');

-- Bad input: each names its argument, with its SQLSTATE.
SELECT pg_temp.error_of($$SELECT personalize.rfm_breakpoints(recency, frequency, monetary, 1) FROM ten$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_breakpoints(recency, frequency, monetary, 11) FROM ten$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_breakpoints(recency, frequency, monetary, NULL) FROM ten$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_breakpoints(recency, frequency, monetary, customer_id % 2 + 3) FROM ten$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_breakpoints('NaN', frequency, monetary) FROM ten$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_breakpoints(recency, 'Infinity', monetary) FROM ten$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_breakpoints(recency, frequency, '-Infinity') FROM ten$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_scores('ten', 1)$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_scores('ten', 11)$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_scores('ten', NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_scores(NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_scores('no_such_table')$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_scores('ten; DROP TABLE ten')$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_score(bp, 'NaN', 1, 1) FROM stored$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_score('{"bins": 5}', 1, 1, 1)$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_score('[1, 2]', 1, 1, 1)$$);
SELECT pg_temp.error_of($$SELECT personalize.rfm_score('{"bins": 3, "customers": 2, "recency": [2, 1], "frequency": [], "monetary": []}', 1, 1, 1)$$);
-- A table without the expected columns: an error naming them.
SELECT pg_temp.error_of($$SELECT personalize.rfm_scores('stored')$$);
-- Identifiers are quoted: a table with an awkward name works.
CREATE TEMP TABLE "Customer List; x" AS SELECT * FROM ten;
SELECT count(*) AS awkward_name_rows FROM personalize.rfm_scores('"Customer List; x"');
SELECT personalize.live_cpp_objects() AS live_after_errors;

-- Parallel plans give the serial breakpoints: each worker collects part of
-- the customers, the leader merges them (combine, serial, deserial).
CREATE TABLE rfm_customers AS
SELECT i AS customer_id, ((i * 7919) % 200003) / 7.0 AS recency, (i * 31) % 97 AS frequency,
       ((i * 104729) % 100000) / 100.0 AS monetary
FROM generate_series(1::bigint, 200000) i
ORDER BY md5(i::text);
ANALYZE rfm_customers;
CREATE TEMP TABLE serial_bp AS
SELECT personalize.rfm_breakpoints(recency, frequency, monetary) AS bp5,
       personalize.rfm_breakpoints(recency, frequency, monetary, 3) AS bp3 FROM rfm_customers;
\i test/sql/include/parallel_plans.sql
EXPLAIN (COSTS OFF)
SELECT personalize.rfm_breakpoints(recency, frequency, monetary) FROM rfm_customers;
CREATE TEMP TABLE parallel_bp AS
SELECT personalize.rfm_breakpoints(recency, frequency, monetary) AS bp5,
       personalize.rfm_breakpoints(recency, frequency, monetary, 3) AS bp3 FROM rfm_customers;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT s.bp5 = p.bp5 AS same_quintiles, s.bp3 = p.bp3 AS same_terciles, p.bp5->'customers' AS customers
FROM serial_bp s, parallel_bp p;
SELECT serial_bp.bp3 FROM serial_bp;

SELECT personalize.live_cpp_objects() AS live_at_end;
DROP TABLE rfm_customers;

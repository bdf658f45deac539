-- Hostile calls that used to crash the backend, hang it past cancel or fail
-- with an internal error (issue 17, items 1-4): each now gives an empty
-- result, the right answer or a clear error naming the argument.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET personalize.memory_limit = '64MB';

\i test/sql/include/error_of.sql

-- 1. A set-returning function that returns without a result set: an empty
-- set, never a NULL row the executor dereferences (was signal 11).
SELECT count(*) AS batch_rows_for_null_model
FROM personalize.als_recommend_batch(NULL::personalize.als_model, 10, NULL, true);
SELECT count(*) AS batch_rows_in_select_list
FROM (SELECT personalize.als_recommend_batch(NULL::personalize.als_model)) s;
SELECT count(*) AS item_rows_for_null_model
FROM personalize.als_recommend_items(NULL::personalize.als_model, '{1}');
SELECT count(*) AS rules_for_null_baskets FROM personalize.association_rules(NULL);

-- 1. simulate_customers checks every parameter first: a negative shape
-- made the gamma sampler recurse until the stack overflowed.
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[-1e6,1,1,1], 1, 1, 1, 10)$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[1,'NaN',1,1]::float8[], 1)$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[1,1,'Infinity',1]::float8[], 1)$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('pareto_nbd', ARRAY[1,1,1,0], 1)$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('pareto_nbd', ARRAY[1,1e7,1,1], 1)$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[1,1,1,1], 1, 1, 0, 10)$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[1,1,1,1], 1, 1, 'NaN', 10)$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[1,1,1,1], 1, 1, 20, 10)$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[1,1,1,1], 1, 1, 1, 'Infinity')$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[1,1,1,1], 1, 1, 1, 1e7)$$);
-- The smallest and largest allowed parameters still simulate.
SELECT count(*) AS customers, bool_and(frequency >= 0 AND recency <= age) AS sane
FROM personalize.simulate_customers('bgnbd', ARRAY[1e-6, 1e6, 1e-6, 1e6], 100, 1, 1, 10);

-- 2. The purchases simulated are capped (was hours, ignoring cancel), the
-- rows are charged to personalize.memory_limit (was unbounded).
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[1e6,1e-6,1e-6,1e6], 10, 1, 1e6, 1e6)$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('pareto_nbd', ARRAY[0.38,1.54,0.78,6.2], 100000000, 1, 1, 1e6)$$);
SET personalize.memory_limit = '1MB';
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[0.25,4,0.8,2.5], 1000000)$$);
RESET personalize.memory_limit;
SET personalize.memory_limit = '64MB';

-- 3. ranking_metrics is linear (was quadratic): 200000-item lists, the
-- answer unchanged (a repeated item hits once, at its first rank).
SELECT precision_at_k, recall_at_k, round(ndcg_at_k::numeric, 6) AS ndcg_at_k
FROM personalize.ranking_metrics(ARRAY(SELECT i FROM generate_series(1, 200000) i),
                                 ARRAY(SELECT i FROM generate_series(100001, 300000) i), 200000);
SELECT precision_at_k, recall_at_k, round(ndcg_at_k::numeric, 6) AS ndcg_at_k
FROM personalize.ranking_metrics('{5, 5, 3, NULL, 7}', '{5, 7, 7, 9}', 5);

-- 4. cart_suggestions with a huge k: the rows there are, no allocation from
-- k (was XX000 invalid memory alloc) and no overflow of 2 * k (was "LIMIT
-- must not be negative").
CREATE TEMP TABLE hard_rules AS
SELECT r.* FROM personalize.association_rules(
    (SELECT personalize.baskets(b, i) FROM (VALUES (1, 10), (1, 11), (2, 10), (2, 11), (3, 10), (3, 12), (4, 11))
       AS v(b, i)), min_support => 0.01, min_len => 1) r;
SELECT count(*) AS rows_k_200000000 FROM personalize.cart_suggestions(ARRAY[10], 'hard_rules', 200000000);
SELECT count(*) AS rows_k_max FROM personalize.cart_suggestions(ARRAY[10], 'hard_rules', 2147483647);
SELECT item, source FROM personalize.cart_suggestions(ARRAY[10], 'hard_rules', 2147483647) ORDER BY item;
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.cart_suggestions(ARRAY(SELECT generate_series(1, 100001)::bigint), 'hard_rules', 5)$$);

-- 1. Arguments read from a table, stored out of line (TOAST pointers have a
-- one-byte header, which was copied as if it were a short inline value:
-- signal 11 for any array or jsonb argument stored out of line).
CREATE TEMP TABLE stored (rec bigint[], rel bigint[], cart bigint[], features float8[]);
ALTER TABLE stored ALTER rec SET STORAGE EXTERNAL, ALTER rel SET STORAGE EXTERNAL, ALTER cart SET STORAGE EXTERNAL,
                   ALTER features SET STORAGE EXTERNAL;
INSERT INTO stored SELECT ARRAY(SELECT generate_series(1, 200000)::bigint),
                          ARRAY(SELECT generate_series(100001, 300000)::bigint),
                          ARRAY(SELECT generate_series(100, 1099)::bigint) || 10::bigint,
                          ARRAY(SELECT g / 8.0 FROM generate_series(1, 1000) g);
SELECT (personalize.ranking_metrics(rec, rel, 10)).precision_at_k AS stored_precision,
       (personalize.ranking_metrics(rel, rel, 10)).recall_at_k * 20000 AS stored_recall_times_20000 FROM stored;
SELECT s.item, s.source FROM stored, personalize.cart_suggestions(cart, 'hard_rules', 5) s ORDER BY s.item;
CREATE TEMP TABLE logit AS SELECT personalize.logistic_fit(g % 3 = 0, ARRAY[g % 5, g % 7]::float8[]) AS m
FROM generate_series(1, 100) g;
SELECT pg_temp.error_of($$SELECT personalize.logistic_score(m, features) FROM stored, logit$$);
DROP TABLE logit;
DROP TABLE stored;

SELECT personalize.live_cpp_objects() AS live_cpp_objects;
DROP TABLE hard_rules;

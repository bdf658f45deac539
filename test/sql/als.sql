-- personalize.als_fit and the als_model functions: training on the tiny demo
-- shop, determinism, top-N without bought items, batch = one at a time,
-- fold-in, accessors, text I/O, the per-backend model cache, parallel =
-- serial, NULLs, empty input and bad input with the exact errors.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;

\i test/sql/include/error_of.sql

SELECT count(*) AS tables FROM personalize.load_demo_shop('als_shop', 'tiny', 42);
-- Strength: the number of completed orders with the product.
CREATE TEMP TABLE bought AS
SELECT o.customer_id, l.product_id AS item_id, count(*)::float8 AS strength
FROM als_shop.orders o JOIN als_shop.order_lines l USING (order_id)
WHERE o.status = 'completed' GROUP BY 1, 2;
SELECT count(*) AS pairs, count(DISTINCT customer_id) AS customers, count(DISTINCT item_id) AS items FROM bought;

CREATE TEMP TABLE models AS
SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, 0.05, 5.0, 42) AS cg,
       personalize.als_fit(customer_id, item_id, strength, 8, 15, 0.05, 5.0, 42, 'cholesky') AS chol
FROM bought;
SELECT i.customers, i.items, i.interactions, i.factors, i.iterations, i.regularization, i.alpha, i.seed, i.solver,
       i.cg_steps, round(i.loss::numeric, 3) AS loss, i.bytes, length(i.fingerprint) AS fingerprint_digits
FROM models, personalize.als_model_info(cg) i;
SELECT (personalize.als_model_info(chol)).solver, round((personalize.als_model_info(chol)).loss::numeric, 3) AS loss FROM models;
-- 128-byte header, ids, offsets, history, float4 factors, each padded to 8 bytes.
SELECT (personalize.als_model_info(cg)).bytes = 128 + 8 * 260 + 8 * 80 + 8 * 261 + 4 * 6852 + 4 * 260 * 8 + 4 * 80 * 8
       AS layout_size FROM models;

-- Deterministic: the same rows in another order give the same bytes; a new seed does not.
SELECT (SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, 0.05, 5.0, 42)
        FROM (SELECT * FROM bought ORDER BY md5(customer_id::text || item_id::text)) q)::text = cg::text AS same_model,
       (SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, 0.05, 5.0, 43) FROM bought)::text <> cg::text
       AS other_seed_differs
FROM models;
-- A pair split over two rows is their sum.
SELECT (SELECT personalize.als_fit(customer_id, item_id, s, 8, 15, 0.05, 5.0, 42)
        FROM (SELECT customer_id, item_id, strength - 0.5 AS s FROM bought
              UNION ALL SELECT customer_id, item_id, 0.5 FROM bought) q)::text = cg::text AS duplicates_summed
FROM models;

-- Top-N for one customer: ranks 1..n, scores descending, never an item the customer bought.
SELECT r.rank, r.item_id, round(r.score::numeric, 3) AS score FROM models, personalize.als_recommend(cg, 7, 5) r;
SELECT count(*) AS rows, count(*) FILTER (WHERE b.item_id IS NOT NULL) AS already_bought,
       bool_and(r.score <= coalesce(prev, 'Infinity')) AS descending
FROM (SELECT r.*, lag(r.score) OVER (ORDER BY r.rank) AS prev FROM models, personalize.als_recommend(cg, 7, 20) r) r
LEFT JOIN bought b ON b.customer_id = 7 AND b.item_id = r.item_id;
-- Without the exclusion the customer's own items rank high.
SELECT count(*) FILTER (WHERE b.item_id IS NOT NULL) AS bought_in_top_10
FROM models, personalize.als_recommend(cg, 7, 10, false) r LEFT JOIN bought b ON b.customer_id = 7 AND b.item_id = r.item_id;
-- n larger than the catalogue: every item the customer did not buy.
SELECT count(*) = 80 - (SELECT count(*) FROM bought WHERE customer_id = 7) AS all_unbought
FROM models, personalize.als_recommend(cg, 7, 100000) r;
-- A customer the model does not know: no rows (fold them in instead, below).
SELECT count(*) AS unknown_customer_rows FROM models, personalize.als_recommend(cg, 999999, 10);

-- Batch top-N equals the one-customer form for every customer.
CREATE TEMP TABLE batch AS SELECT b.* FROM models, personalize.als_recommend_batch(cg, 10) b;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE b.items = ARRAY(SELECT r.item_id FROM models, personalize.als_recommend(cg, b.customer_id, 10) r
                                              ORDER BY r.rank)) AS same_as_single,
       count(*) FILTER (WHERE cardinality(b.items) = 10 AND cardinality(b.scores) = 10) AS full_lists
FROM batch b;
-- Listed customers in their order; unknown ones get empty arrays; NULL elements are skipped.
SELECT b.customer_id, cardinality(b.items) AS items, cardinality(b.scores) AS scores
FROM models, personalize.als_recommend_batch(cg, 3, ARRAY[12, 999999, NULL, 7, 12]) b;
SELECT count(*) AS empty_list_rows FROM models, personalize.als_recommend_batch(cg, 3, '{}') b;
SELECT count(*) AS with_bought FROM models, personalize.als_recommend_batch(cg, 5, ARRAY[7], false) b, unnest(b.items) i
WHERE i IN (SELECT item_id FROM bought WHERE customer_id = 7);

-- Scores: als_score is the dot product of the factor rows.
SELECT count(*) AS checked,
       count(*) FILTER (WHERE abs(personalize.als_score(cg, b.customer_id, i.item_id) - s.score) < 1e-6) AS equal
FROM models, batch b, unnest(b.items, b.scores) WITH ORDINALITY i(item_id, score, k)
CROSS JOIN LATERAL (SELECT i.score) s WHERE b.customer_id <= 20;
SELECT count(*) AS customers, count(*) FILTER (WHERE array_length(factors, 1) = 8) AS eight_factors
FROM models, personalize.als_customer_factors(cg);
SELECT count(*) AS items FROM models, personalize.als_item_factors(cg);
SELECT abs(personalize.als_score(cg, 7, 13)
           - (SELECT sum(x * y) FROM unnest((SELECT factors FROM personalize.als_customer_factors(cg) WHERE customer_id = 7),
                                            (SELECT factors FROM personalize.als_item_factors(cg) WHERE item_id = 13)) u(x, y)))
       < 1e-5 AS dot_product
FROM models;
SELECT personalize.als_score(cg, 999999, 13) AS unknown_customer, personalize.als_score(cg, 7, 999999) AS unknown_item
FROM models;

-- Fold-in: with the exact (Cholesky) solver a training customer's items and
-- strengths give back the stored factors, and the same top-10.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE (SELECT max(abs(a - b)) FROM unnest(f.factors, personalize.als_fold_in(chol, h.items, h.strengths)) u(a, b)) < 1e-4)
       AS same_factors,
       count(*) FILTER (WHERE ARRAY(SELECT r.item_id FROM personalize.als_recommend_items(chol, h.items, 10, h.strengths) r ORDER BY r.rank)
                              = ARRAY(SELECT r.item_id FROM personalize.als_recommend(chol, h.customer_id, 10) r ORDER BY r.rank))
       AS same_top_10
FROM models, personalize.als_customer_factors(chol) f
JOIN (SELECT customer_id, array_agg(item_id) AS items, array_agg(strength) AS strengths FROM bought GROUP BY 1) h USING (customer_id);
-- With the conjugate-gradient model (a few steps per row) the fold-in is close, not exact.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE cardinality(ARRAY(SELECT unnest(ARRAY(SELECT r.item_id FROM personalize.als_recommend_items(cg, h.items, 10, h.strengths) r))
                                                INTERSECT SELECT unnest(ARRAY(SELECT r.item_id FROM personalize.als_recommend(cg, h.customer_id, 10) r)))) >= 8)
       AS overlap_8_of_10
FROM models, (SELECT customer_id, array_agg(item_id) AS items, array_agg(strength) AS strengths FROM bought GROUP BY 1) h;
-- A new customer with a train set: the planted track extension (product 64) comes first.
SELECT r.rank, r.item_id, p.name FROM models, personalize.als_recommend_items(cg, ARRAY[22]::bigint[], 3) r
JOIN als_shop.products p ON p.product_id = r.item_id;
-- Each planted pair: where its consequent ranks (of 79) for a customer who bought only the
-- antecedent. Factorisation finds most of them, not all: complements are what the
-- association rules are for (docs/complements.md).
SELECT pp.antecedent, pp.consequent,
       (SELECT r.rank FROM personalize.als_recommend_items(cg, ARRAY[pp.antecedent], 80) r WHERE r.item_id = pp.consequent) AS consequent_rank
FROM models, als_shop.planted_pairs pp ORDER BY pp.antecedent;
-- Unknown items are ignored; none known: zero factors and no rows; duplicates sum.
SELECT personalize.als_fold_in(cg, ARRAY[999998, 999999]::bigint[]) = array_fill(0::real, ARRAY[8]) AS zero_factors FROM models;
SELECT count(*) AS rows_for_unknown_items FROM models, personalize.als_recommend_items(cg, ARRAY[999999]::bigint[]);
SELECT personalize.als_fold_in(cg, ARRAY[47, 47, 999999]::bigint[]) = personalize.als_fold_in(cg, ARRAY[47]::bigint[], ARRAY[2.0])
       AS duplicates_sum FROM models;
SELECT count(*) AS rows, count(*) FILTER (WHERE r.item_id IN (47, 57)) AS given_items
FROM models, personalize.als_recommend_items(cg, ARRAY[47, 57]::bigint[], 100) r;
-- NULL items (without strengths) are skipped; NULL model or items: NULL / no rows.
SELECT personalize.als_fold_in(cg, ARRAY[47, NULL]::bigint[]) = personalize.als_fold_in(cg, ARRAY[47]::bigint[]) AS nulls_skipped
FROM models;
SELECT personalize.als_fold_in(NULL, ARRAY[47]::bigint[]) IS NULL AS null_model,
       personalize.als_fold_in(cg, NULL) IS NULL AS null_items FROM models;
SELECT count(*) AS null_rows FROM models, personalize.als_recommend_items(cg, NULL);

-- The text form is the stored bytes in hex and reads back; changed bytes are detected.
SELECT left(cg::text, 10) AS text_start, cg::text::personalize.als_model::text = cg::text AS round_trip FROM models;
SELECT pg_temp.error_of($$SELECT 'abc'::personalize.als_model$$);
SELECT pg_temp.error_of($$SELECT '\x12'::personalize.als_model$$);
SELECT pg_temp.error_of($$SELECT '\xzz'::personalize.als_model$$);
SELECT pg_temp.error_of($$SELECT '\x00000000000000000000000000000000'::personalize.als_model$$);
SELECT pg_temp.error_of(format('SELECT %L::personalize.als_model', overlay(cg::text PLACING 'f' FROM 400 FOR 1)))
FROM models;
SELECT pg_temp.error_of(format('SELECT %L::personalize.als_model', left(cg::text, length(cg::text) - 16))) FROM models;

-- Stored in a table and read back: one model is cached per backend; a
-- different model replaces it and answers correctly.
CREATE TEMP TABLE stored (name text PRIMARY KEY, model personalize.als_model);
INSERT INTO stored SELECT 'cg', cg FROM models UNION ALL SELECT 'chol', chol FROM models;
SELECT s.name, array_agg(r.item_id ORDER BY r.rank) AS top_3
FROM (VALUES (1, 'cg'), (2, 'chol'), (3, 'cg')) v(k, name) JOIN stored s USING (name),
     LATERAL personalize.als_recommend(s.model, 7, 3) r
GROUP BY v.k, s.name ORDER BY v.k;
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM models, personalize.als_recommend(cg, 7, 3))
     <> (SELECT array_agg(item_id ORDER BY rank) FROM models, personalize.als_recommend(chol, 7, 3)) AS solvers_differ;

-- NULL rows are skipped; no rows (or only NULLs): NULL.
SELECT (SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, 0.05, 5.0, 42)
        FROM (SELECT * FROM bought UNION ALL VALUES (NULL::bigint, 1::bigint, 1::float8), (1, NULL, 1), (1, 1, NULL)) q)::text
       = cg::text AS nulls_skipped FROM models;
SELECT personalize.als_fit(customer_id, item_id, strength) IS NULL AS empty_is_null FROM bought WHERE false;
SELECT personalize.als_fit(NULL::bigint, item_id, strength) IS NULL AS all_null_is_null FROM bought;
-- The default options (64 factors, 15 iterations, regularization 0.5, alpha 5, seed 0, cg).
SELECT i.factors, i.iterations, i.regularization, i.alpha, i.seed, i.solver, i.cg_steps
FROM (SELECT personalize.als_fit(customer_id, item_id, strength) AS m FROM bought) q, personalize.als_model_info(q.m) i;

-- Bad input: each names its argument, with its SQLSTATE.
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, 0) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, -2) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, 'NaN') FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, 'Infinity') FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 0) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 2000) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, NULL) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 8, 0, 1, 10, 0) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, -1, 10, 0) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, 'NaN', 10, 0) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, 1, 0, 0) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, 1, 1e300, 0) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, 1, 10, NULL) FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 8, 15, 1, 10, 0, 'lu') FROM bought$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, (customer_id % 2)::int + 8) FROM bought$$);
SELECT pg_temp.error_of($$SELECT * FROM models, personalize.als_recommend(cg, 7, 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM models, personalize.als_recommend_batch(cg, -1)$$);
SELECT pg_temp.error_of($$SELECT * FROM models, personalize.als_recommend_batch(cg, NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM models, personalize.als_recommend_batch(cg, 10, NULL, NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM models, personalize.als_recommend_items(cg, ARRAY[47]::bigint[], 0)$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fold_in(cg, ARRAY[47, 57]::bigint[], ARRAY[1.0]) FROM models$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fold_in(cg, ARRAY[47, 57]::bigint[], ARRAY[1.0, 'NaN']) FROM models$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fold_in(cg, ARRAY[47, 57]::bigint[], ARRAY[1.0, 0]) FROM models$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fold_in(cg, ARRAY[47, NULL]::bigint[], ARRAY[1.0, 1.0]) FROM models$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fold_in(cg, ARRAY[47]::bigint[], ARRAY[NULL::float8]) FROM models$$);
-- Larger than personalize.memory_limit: a clear out-of-memory error, nothing leaks.
SET personalize.memory_limit = '64kB';
SELECT pg_temp.error_of($$SELECT personalize.als_fit(customer_id, item_id, strength, 8) FROM bought$$);
-- Serving loads the model into the backend's cache, also within the limit (the
-- fold-in errors above left 'cg' cached; 'chol', 43 kB, must be loaded).
SET personalize.memory_limit = '16kB';
SELECT pg_temp.error_of($$SELECT * FROM stored, personalize.als_recommend(model, 7, 3) WHERE name = 'chol'$$);
SET personalize.memory_limit = '128MB';
SELECT personalize.live_cpp_objects() AS live_after_errors;

-- statement_timeout stops a long fit inside the C++ training loop.
CREATE TEMP TABLE many AS SELECT (i % 5000)::bigint AS c, (i * 7919 % 3000)::bigint AS item, 1::float8 AS s
FROM generate_series(1, 60000) i;
SET statement_timeout = '300ms';
SELECT personalize.als_fit(c, item, s, 256, 1000, 1, 10, 0, 'cholesky') IS NULL FROM many;
RESET statement_timeout;
SELECT personalize.live_cpp_objects() AS live_after_cancel;

-- Parallel plans give the serial model: each worker collects part of the
-- rows, the leader merges them (combine, serial, deserial).
CREATE TABLE als_rows AS
SELECT i % 20011 AS customer_id, (i * 104729) % 997 AS item_id, (1 + i % 3)::float8 AS strength
FROM generate_series(1::bigint, 200000) i ORDER BY md5(i::text);
ANALYZE als_rows;
CREATE TEMP TABLE serial_model AS
SELECT personalize.als_fit(customer_id, item_id, strength, 4, 2, 1, 10, 7) AS m FROM als_rows;
\i test/sql/include/parallel_plans.sql
EXPLAIN (COSTS OFF)
SELECT personalize.als_fit(customer_id, item_id, strength, 4, 2, 1, 10, 7) FROM als_rows;
CREATE TEMP TABLE parallel_model AS
SELECT personalize.als_fit(customer_id, item_id, strength, 4, 2, 1, 10, 7) AS m FROM als_rows;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT s.m::text = p.m::text AS same_model, (personalize.als_model_info(p.m)).customers,
       (personalize.als_model_info(p.m)).interactions
FROM serial_model s, parallel_model p;

-- A model stored by 0.1.0 (its text form is its bytes) stays readable:
-- rows (1, 10, 1), (1, 20, 2), (2, 20, 1), 2 factors, 3 iterations, seed 7.
CREATE TEMP TABLE model_010 AS SELECT (
    '\x414c4d3101000000020000000000000002000000000000000200000000000000'
    '03000000000000000300000003000000000000000000e03f0000000000001440'
    '07000000000000006fccd9fe742ac23f6a5b78be40ca58d70000000000000000'
    '0000000000000000000000000000000000000000000000000000000000000000'
    '010000000000000002000000000000000a000000000000001400000000000000'
    '0000000000000000020000000000000003000000000000000000000001000000'
    '01000000000000000e811ebb29d3973f1f3e403f401a493fa10be1bee2a13e3f'
    '7d15b43ee420473f')::personalize.als_model AS m;
SELECT i.customers, i.items, i.interactions, i.factors, i.iterations, i.seed, i.solver, i.bytes
FROM model_010, personalize.als_model_info(m) i;
SELECT r.rank, r.item_id FROM model_010, personalize.als_recommend(m, 2, 5) r;
SELECT pg_temp.error_of(format('SELECT %L::personalize.als_model', overlay(m::text PLACING '02' FROM 11 FOR 2)))
FROM model_010;

SELECT personalize.live_cpp_objects() AS live_at_end;
DROP TABLE als_rows;
DROP SCHEMA als_shop CASCADE;

-- Wrong answers found by trying hostile input (issue 17, item 5): a table
-- argument whose columns have other types, hand-made models and strengths
-- that cannot give a finite answer. Each gives a clear error or the right
-- answer, never a heap address, a garbage id or NaN.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET personalize.memory_limit = '64MB';

\i test/sql/include/error_of.sql

CREATE SCHEMA hostile;

-- cart_suggestions reads the rules table's columns through checked types.
CREATE TABLE hostile.rules (antecedent bigint[], consequent bigint, certainty float8, consequent_support float8);
INSERT INTO hostile.rules VALUES
    ('{1}', 2, 0.5, 0.1), ('{1}', 3, 0.25, 0.2), ('{1}', 1, 0.9, 0.3),
    ('{}', 7, 0.01, 0.5), ('{}', NULL, 0.01, 0.9), ('{}', 1, 0.01, 0.4), ('{1}', NULL, 0.99, 0.1);
SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.rules', 5);
-- Over a view where consequent is numeric or float8: an error naming the column.
CREATE VIEW hostile.numeric_rules AS
    SELECT antecedent, consequent::numeric AS consequent, certainty, consequent_support FROM hostile.rules;
CREATE VIEW hostile.float_rules AS
    SELECT antecedent, consequent::float8 AS consequent, certainty, consequent_support FROM hostile.rules;
CREATE VIEW hostile.int_rules AS
    SELECT antecedent, consequent::integer AS consequent, certainty::numeric AS certainty,
           consequent_support::real AS consequent_support FROM hostile.rules;
CREATE VIEW hostile.int4_antecedent AS
    SELECT antecedent::integer[] AS antecedent, consequent, certainty, consequent_support FROM hostile.rules;
CREATE VIEW hostile.text_certainty AS
    SELECT antecedent, consequent, certainty::text AS certainty, consequent_support FROM hostile.rules;
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.numeric_rules', 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.float_rules', 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.int4_antecedent', 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.text_certainty', 5)$$);
-- Integer and other number types are read exactly.
SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.int_rules', 5);
-- A table changed under the kept plan is checked again.
CREATE TABLE hostile.changing_rules AS SELECT * FROM hostile.rules;
SELECT count(*) FROM personalize.cart_suggestions(ARRAY[1], 'hostile.changing_rules', 5);
ALTER TABLE hostile.changing_rules ALTER COLUMN consequent TYPE numeric;
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.changing_rules', 5)$$);
-- A certainty a rules table cannot hold.
INSERT INTO hostile.rules VALUES ('{1}', 9, 'NaN', 0.1);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.rules', 5)$$);
DELETE FROM hostile.rules WHERE consequent = 9;
INSERT INTO hostile.rules VALUES ('{1}', 9, 1.5, 0.1);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.rules', 5)$$);
DELETE FROM hostile.rules WHERE consequent = 9;

-- suggestions and batch_suggestions: the same checks on their tables.
CREATE TABLE hostile.history (customer_id bigint, item_id bigint, bought_at timestamptz);
INSERT INTO hostile.history VALUES (1, 10, '2025-01-01'), (1, 11, '2025-01-02'), (2, 10, '2025-01-03');
CREATE TABLE hostile.similarities (item bigint, neighbour bigint, score float8, together bigint);
INSERT INTO hostile.similarities VALUES (10, 10, 1, 2), (10, 12, 0.5, 1), (11, 11, 1, 1), (12, 12, 1, 1), (11, 12, 0.25, 1);
SELECT rank, item_id, round(score::numeric, 6) AS score, source FROM personalize.suggestions(1, 'hostile.history', 'hostile.similarities', 3);
CREATE VIEW hostile.numeric_history AS SELECT customer_id, item_id::numeric AS item_id, bought_at FROM hostile.history;
CREATE VIEW hostile.text_time_history AS SELECT customer_id, item_id, bought_at::text AS bought_at FROM hostile.history;
CREATE VIEW hostile.float_similarities AS
    SELECT item::float8 AS item, neighbour, score, together FROM hostile.similarities;
CREATE VIEW hostile.nan_similarities AS
    SELECT item, neighbour, CASE WHEN item <> neighbour THEN 'NaN'::float8 ELSE score END AS score, together
    FROM hostile.similarities;
CREATE VIEW hostile.items AS SELECT 10::bigint AS item_id, 'yes'::text AS rebuyable;
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.numeric_history', 'hostile.similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.text_time_history', 'hostile.similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.history', 'hostile.float_similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.history', 'hostile.nan_similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.history', 'hostile.similarities', 3, items => 'hostile.items')$$);
-- A segment is read as text, whatever its type.
CREATE VIEW hostile.int_segment_popular AS SELECT 7 AS segment, 12::bigint AS item_id, 0.5::float8 AS score;
SELECT rank, item_id, source FROM personalize.suggestions(NULL, 'hostile.history', 'hostile.similarities', 3,
    popular => 'hostile.int_segment_popular', segment => '7');
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_suggestions(NULL, 'hostile.numeric_history', 'hostile.similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_suggestions(NULL, 'hostile.history', 'hostile.nan_similarities', 3)$$);

-- The SQL-language functions reading a table check its column types the same way.
CREATE VIEW hostile.numeric_complements AS
    SELECT antecedent, consequent::numeric AS consequent, certainty AS confidence, 2.0 AS lift, certainty FROM hostile.rules;
CREATE VIEW hostile.int_complements AS
    SELECT antecedent, consequent::integer AS consequent, certainty::numeric AS confidence, 2 AS lift, certainty
    FROM hostile.rules WHERE consequent IS NOT NULL;
SELECT pg_temp.error_of($$SELECT * FROM personalize.product_complements('hostile.numeric_complements'::regclass, 1)$$);
SELECT complement, certainty FROM personalize.product_complements('hostile.int_complements'::regclass, 1);
SELECT pg_temp.error_of($$SELECT * FROM personalize.popular_items('hostile.numeric_history')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.rfm_scores('hostile.history')$$);
CREATE VIEW hostile.float_scores AS SELECT 1.5::float8 AS customer_id, 1 AS r, 2 AS f, 3 AS m;
SELECT pg_temp.error_of($$SELECT personalize.snapshot_segments('rf_grid', '2026-01-01', 'hostile.float_scores')$$);
CREATE VIEW hostile.text_orders AS SELECT 1::bigint AS customer_id, now() AS ordered_at, 'completed' AS status, '12'::text AS total;
SELECT pg_temp.error_of($$SELECT * FROM personalize.lapsed_customers('hostile.text_orders', '2026-01-01', 30)$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_offer_context('hostile.text_orders')$$);
CREATE VIEW hostile.numeric_relevant AS SELECT 1.5 AS customer_id, ARRAY[1, 2]::bigint[] AS relevant;
CREATE VIEW hostile.recommended AS SELECT 2::bigint AS customer_id, ARRAY[1, 3]::bigint[] AS recommended;
SELECT pg_temp.error_of($$SELECT * FROM personalize.evaluate_recommendations('hostile.recommended', 'hostile.numeric_relevant')$$);

-- The ALS serving cache: a model with another model's fingerprint and size
-- (the last two words changed so the 64-bit hash collides) gets its own
-- answers, in memory and stored.
CREATE TABLE hostile.models (name text, m personalize.als_model);
INSERT INTO hostile.models VALUES ('real', (
    '\x414c4d3101000000020000000000000002000000000000000200000000000000'
    '03000000000000000300000003000000000000000000e03f0000000000001440'
    '07000000000000006fccd9fe742ac23f6a5b78be40ca58d70000000000000000'
    '0000000000000000000000000000000000000000000000000000000000000000'
    '010000000000000002000000000000000a000000000000001400000000000000'
    '0000000000000000020000000000000003000000000000000000000001000000'
    '01000000000000000e811ebb29d3973f1f3e403f401a493fa10be1bee2a13e3f'
    '7d15b43ee420473f')::personalize.als_model), ('crafted', (
    '\x414c4d3101000000020000000000000002000000000000000200000000000000'
    '03000000000000000300000003000000000000000000e03f0000000000001440'
    '07000000000000006fccd9fe742ac23f6a5b78be40ca58d70000000000000000'
    '0000000000000000000000000000000000000000000000000000000000000000'
    '010000000000000002000000000000000a000000000000001400000000000000'
    '0000000000000000020000000000000003000000000000000000000001000000'
    '01000000000000000e811ebb29d3973f1f3e403f401a493f0fe797bee2a13ebf'
    '40ee469ee21fbd8e')::personalize.als_model);
ALTER TABLE hostile.models ALTER COLUMN m SET STORAGE external;
SELECT a.name, b.name, i.fingerprint = j.fingerprint AS same_fingerprint, i.bytes = j.bytes AS same_size,
       a.m::text = b.m::text AS same_bytes
FROM hostile.models a, hostile.models b, personalize.als_model_info(a.m) i, personalize.als_model_info(b.m) j
WHERE a.name = 'real' AND b.name = 'crafted';
-- Each model's own item factors, the real one opened first in this session.
SELECT name, (SELECT array_agg(round(f::numeric, 3) ORDER BY ordinality) FROM personalize.als_item_factors(m) x,
              unnest(x.factors) WITH ORDINALITY AS u(f) WHERE x.item_id = 10) AS item_10
FROM hostile.models ORDER BY name DESC;
SELECT name, round(personalize.als_score(m, 1, 10)::numeric, 4) AS score_1_10,
       round(personalize.als_score(m, 1, 20)::numeric, 4) AS score_1_20
FROM hostile.models ORDER BY name DESC;
SELECT name, (SELECT array_agg(item_id ORDER BY rank) FROM personalize.als_recommend(m, 1, 2, exclude_bought => false)) AS top
FROM hostile.models ORDER BY name DESC;
-- The same in memory (no TOAST pointer): literals compared byte for byte.
SELECT round(personalize.als_score(m::text::personalize.als_model, 1, 20)::numeric, 4) FROM hostile.models WHERE name = 'real';
SELECT round(personalize.als_score(m::text::personalize.als_model, 1, 20)::numeric, 4) FROM hostile.models WHERE name = 'crafted';

-- Fold-in bounds alpha * strength as als_fit does; non-finite strengths are rejected.
SELECT pg_temp.error_of($$SELECT r.* FROM hostile.models,
                          personalize.als_recommend_items(m, ARRAY[10, 20], 2, strengths => ARRAY[1e30, 1e30]) r
                          WHERE name = 'real'$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fold_in(m, ARRAY[10, 20, 10], ARRAY[1e30, 1e30, 1e30]) FROM hostile.models WHERE name = 'real'$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fold_in(m, ARRAY[10, 10], ARRAY[1e308, 1e308]) FROM hostile.models WHERE name = 'real'$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fold_in(m, ARRAY[10], ARRAY['Infinity'::float8]) FROM hostile.models WHERE name = 'real'$$);
SELECT pg_temp.error_of($$SELECT personalize.als_fold_in(m, ARRAY[10], ARRAY['NaN'::float8]) FROM hostile.models WHERE name = 'real'$$);
SELECT r.rank, r.item_id, r.score::text NOT IN ('NaN', 'Infinity', '-Infinity') AS finite
FROM hostile.models, personalize.als_recommend_items(m, ARRAY[10], 2, strengths => ARRAY[1e20]) r WHERE name = 'real';

-- A hand-made model (valid fingerprint) with a factor of 1e20: its dot
-- products could overflow float, so it does not open.
SELECT pg_temp.error_of($$SELECT personalize.als_score((
    '\x414c4d3101000000020000000000000002000000000000000200000000000000'
    '03000000000000000300000003000000000000000000e03f0000000000001440'
    '07000000000000006fccd9fe742ac23f48cdaf75fc4260c10000000000000000'
    '0000000000000000000000000000000000000000000000000000000000000000'
    '010000000000000002000000000000000a000000000000001400000000000000'
    '0000000000000000020000000000000003000000000000000000000001000000'
    '01000000000000000e811ebb29d3973f1f3e403f401a493fa10be1bee2a13e3f'
    '7d15b43eec78ad60')::personalize.als_model, 1, 20)$$);

-- Hand-made lifetime models whose formulas overflow: an error naming the
-- model's parameters, never NaN.
CREATE TABLE hostile.lifetime (name text, m jsonb);
INSERT INTO hostile.lifetime VALUES
    ('pareto', '{"model": "pareto_nbd", "params": {"r": 1e300, "alpha": 1e-300, "s": 1e-300, "beta": 1e300}}'),
    ('bgnbd', '{"model": "bgnbd", "params": {"r": 1e300, "alpha": 1e-300, "a": 1e300, "b": 1e-300}}'),
    ('spend', '{"model": "gamma_gamma", "params": {"p": 1e300, "q": 1e300, "gamma": 1e300}}'),
    ('spend_q_below_1', '{"model": "gamma_gamma", "params": {"p": 6.25, "q": 0.5, "gamma": 15.44}}'),
    ('cdnow', '{"model": "bgnbd", "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}}'),
    ('cdnow_spend', '{"model": "gamma_gamma", "params": {"p": 6.25, "q": 3.74, "gamma": 15.44}}');
CREATE FUNCTION pg_temp.model(n text) RETURNS jsonb LANGUAGE sql AS $$SELECT m FROM hostile.lifetime WHERE name = n$$;
SELECT pg_temp.error_of($$SELECT personalize.expected_purchases(pg_temp.model('pareto'), 10, 2, 5, 10)$$);
SELECT pg_temp.error_of($$SELECT personalize.expected_purchases_new(pg_temp.model('pareto'), 10)$$);
-- Where the same models still give a finite answer, it is given.
SELECT personalize.probability_alive(pg_temp.model('pareto'), 2, 5, 10) AS pareto_alive,
       personalize.probability_of_purchases(pg_temp.model('pareto'), 1, 10, 2, 5, 10) AS pareto_p1,
       personalize.next_purchase_in(pg_temp.model('pareto'), 2, 5, 10) AS pareto_next,
       personalize.expected_purchases(pg_temp.model('bgnbd'), 10, 2, 5, 10) AS bgnbd_expected,
       personalize.probability_alive(pg_temp.model('bgnbd'), 2, 5, 10) AS bgnbd_alive;
SELECT pg_temp.error_of($$SELECT personalize.expected_spend(pg_temp.model('spend'), 2, 20)$$);
SELECT pg_temp.error_of($$SELECT personalize.expected_spend(pg_temp.model('spend'), 0, 0)$$);
SELECT pg_temp.error_of($$SELECT personalize.expected_spend(pg_temp.model('spend_q_below_1'), 0, 0)$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_lifetime_value(pg_temp.model('cdnow'), pg_temp.model('spend_q_below_1'), 0, 0, 10, 0, 12)$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_lifetime_value(pg_temp.model('pareto'), pg_temp.model('cdnow_spend'), 2, 5, 10, 20, 12)$$);
-- A sound model still answers, and "never" stays Infinity.
SELECT round(personalize.expected_purchases(pg_temp.model('cdnow'), 39, 2, 30.43, 38.86)::numeric, 2) AS expected,
       round(personalize.expected_spend(pg_temp.model('spend_q_below_1'), 2, 20)::numeric, 2) AS spend_repeat_buyer,
       personalize.next_purchase_in(pg_temp.model('cdnow'), 2, 5, 38.86) AS never;

-- logistic_score: coefficients that overflow into Infinity - Infinity.
SELECT pg_temp.error_of($$SELECT personalize.logistic_score(
    '{"model": "logistic_regression", "intercept": 0, "coefficients": [1e308, -1e308], "feature_names": ["a", "b"]}',
    ARRAY[10, 10])$$);
SELECT personalize.logistic_score(
    '{"model": "logistic_regression", "intercept": 0, "coefficients": [1e308, -1e308], "feature_names": ["a", "b"]}',
    ARRAY[10, 0]) AS sure_one;
SELECT pg_temp.error_of($$SELECT personalize.logistic_score(
    '{"model": "logistic_regression", "intercept": 1e400, "coefficients": [1], "feature_names": ["a"]}', ARRAY[1])$$);

-- kmeans_assign: centroids whose distances overflow.
SELECT pg_temp.error_of($$SELECT * FROM personalize.kmeans_assign(ARRAY[0, 0],
    '{"model": "kmeans", "centroids": [[1e300, -1e300], [-1e300, 1e300]]}')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.kmeans_assign(ARRAY[0, 0],
    '{"model": "kmeans", "centroids": [[1e400, 0], [0, 1]]}')$$);
SELECT * FROM personalize.kmeans_assign(ARRAY[0, 0], '{"model": "kmeans", "centroids": [[1e150, 0], [3, 4]]}');
SELECT pg_temp.error_of($$SELECT * FROM personalize.kmeans_silhouette(
    '{"model": "kmeans", "centroids": [[1e300, -1e300], [-1e300, 1e300]]}', ARRAY[ARRAY[0, 0], ARRAY[1, 1], ARRAY[2, 2]]::float8[])$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.kmeans_silhouette('{"model": "kmeans", "centroids": [[0, 0], [1, 1]],
    "scaling": [{"kind": "zscore", "mean": 0, "std": 1e-300}, {"kind": "zscore", "mean": 0, "std": 1e-300}]}',
    ARRAY[ARRAY[0, 0], ARRAY[1, 1], ARRAY[2, 2], ARRAY[3, 3]]::float8[])$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.kmeans_silhouette('{"model": "kmeans", "centroids": [[1e300, 1e300], [-1e300, -1e300]]}',
    ARRAY[ARRAY[1e300, 1e300], ARRAY[1e300, 0.9e300], ARRAY[-1e300, -1e300], ARRAY[-1e300, -0.9e300]]::float8[])$$);
SELECT personalize.live_cpp_objects() AS live_at_end;

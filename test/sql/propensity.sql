-- personalize.logistic_fit / logistic_score / auc / session_features: the
-- purchase-propensity model on the demo shop's sessions (time split,
-- held-out AUC), exact small cases, separable data with and without L2,
-- parallel = serial, NULLs, empty input and bad input with the exact errors.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;
SET TimeZone = 'UTC';  -- the split dates below are UTC days

\i test/sql/include/error_of.sql

-- The demo shop's web sessions (last 90 days) and, for each, the customer's
-- completed or returned orders before it started.
CREATE TEMP TABLE orders AS
SELECT customer_id, ordered_at FROM personalize.demo_orders('demo', 42) WHERE status <> 'cancelled';
CREATE INDEX ON orders (customer_id, ordered_at);
ANALYZE orders;
CREATE TEMP TABLE sessions AS
SELECT s.session_id, s.started_at, s.converted,
       personalize.session_features(s.pages_viewed, s.items_in_cart, s.cart_value::float8,
                                    extract(epoch FROM s.ended_at - s.started_at)::float8, s.exit_intent,
                                    s.customer_id IS NOT NULL, h.prior_orders::int,
                                    extract(epoch FROM s.started_at - h.last_order_at)::float8 / 86400) AS features
FROM personalize.demo_sessions('demo', 42) s
CROSS JOIN LATERAL (SELECT count(*) AS prior_orders, max(o.ordered_at) AS last_order_at FROM orders o
                    WHERE o.customer_id = s.customer_id AND o.ordered_at < s.started_at) h;
ANALYZE sessions;
SELECT count(*) AS sessions, count(*) FILTER (WHERE converted) AS converted,
       count(*) FILTER (WHERE started_at < '2025-12-01') AS training, to_char(min(started_at), 'YYYY-MM-DD') AS first_day
FROM sessions;

-- Fit on the sessions before December, L2 = 1 (the default), named features.
CREATE TEMP TABLE model AS
SELECT personalize.logistic_fit(converted, features, 1.0, personalize.session_feature_names()) AS m
FROM sessions WHERE started_at < '2025-12-01';
SELECT m->>'model' AS model, m->'converged' AS converged, m->'iterations' AS iterations, m->'warning' AS warning,
       m->'observations' AS observations, m->'positives' AS positives, m->'l2' AS l2,
       round((m->>'intercept')::numeric, 4) AS intercept, round((m->>'intercept_standard_error')::numeric, 4) AS se,
       round((m->>'log_likelihood')::numeric, 2) AS log_likelihood,
       round((m->>'penalized_log_likelihood')::numeric, 2) AS penalized
FROM model;
SELECT n.name, round(c.value::numeric, 4) AS coefficient, round(s.value::numeric, 4) AS standard_error,
       round((c.value::float8 / s.value::float8)::numeric, 1) AS z
FROM model,
     jsonb_array_elements_text(m->'feature_names') WITH ORDINALITY n(name, k)
     JOIN jsonb_array_elements_text(m->'coefficients') WITH ORDINALITY c(value, k) USING (k)
     JOIN jsonb_array_elements_text(m->'standard_errors') WITH ORDINALITY s(value, k) USING (k)
ORDER BY k;

-- Held-out AUC on December's sessions: the exact value for seed 42, and a sane bound.
SELECT count(*) AS held_out, round(personalize.auc(personalize.logistic_score(m, features), converted)::numeric, 6) AS auc
FROM sessions, model WHERE started_at >= '2025-12-01';
SELECT personalize.auc(personalize.logistic_score(m, features), converted) BETWEEN 0.8 AND 0.95 AS auc_in_bounds
FROM sessions, model WHERE started_at >= '2025-12-01';
-- Among the sessions the exit offer is for (signed in, with a cart, exit intent) it still ranks.
SELECT count(*) AS exit_sessions, round(personalize.auc(personalize.logistic_score(m, features), converted)::numeric, 6) AS auc
FROM sessions, model WHERE started_at >= '2025-12-01' AND features[1] = 1 AND features[5] = 1 AND features[10] = 1;
-- Scores are probabilities; their mean is close to the conversion rate.
SELECT bool_and(p > 0 AND p < 1) AS probabilities, round(avg(p)::numeric, 3) AS mean_score,
       round(avg(converted::int)::numeric, 3) AS conversion_rate
FROM (SELECT personalize.logistic_score(m, features) AS p, converted FROM sessions, model WHERE started_at >= '2025-12-01') q;
-- The score of one session, as the exit-intent offer reads it (docs/propensity.md).
SELECT round(personalize.logistic_score(
           m, personalize.session_features(pages_viewed => 6, items_in_cart => 3, cart_value => 120.0,
                                           seconds_on_site => 240, exit_intent => true, signed_in => true,
                                           prior_orders => 2, days_since_last_order => 40))::numeric, 4) AS propensity
FROM model;

-- Without L2 the demo's features are quasi-separable (anonymous visitors and
-- empty carts never buy): no finite estimate, a WARNING and converged = false.
-- The WARNING names the iteration count of a diverging fit, which depends on
-- the machine's last floating-point bits: the model's warning is shown instead.
SET client_min_messages = error;
SELECT m->'converged' AS converged, m->>'warning' AS warning, (m->>'iterations')::int < 100 AS stopped_early
FROM (SELECT personalize.logistic_fit(converted, features, 0.0) AS m FROM sessions WHERE started_at < '2025-12-01') q;

SET client_min_messages = warning;

-- Exact small cases. Intercept only: the log-odds, with the binomial standard error.
CREATE TEMP TABLE thirty_of_100 AS SELECT i <= 30 AS label FROM generate_series(1, 100) i;
SELECT abs((m->>'intercept')::float8 - ln(0.3 / 0.7)) < 1e-12 AS log_odds,
       abs((m->>'intercept_standard_error')::float8 - 1 / sqrt(100 * 0.3 * 0.7)) < 1e-12 AS binomial_se,
       m->'coefficients' AS coefficients, m->'feature_names' AS names
FROM (SELECT personalize.logistic_fit(label, '{}'::float8[], 0.0) AS m FROM thirty_of_100) q;
-- One binary feature: the 2 x 2 table (x = 0: 40 of 100 true; x = 1: 75 of 100).
CREATE TEMP TABLE two_by_two AS
SELECT i <= 40 AS label, ARRAY[0.0]::float8[] AS x FROM generate_series(1, 100) i
UNION ALL SELECT i <= 75, ARRAY[1.0] FROM generate_series(1, 100) i;
SELECT abs((m->'coefficients'->>0)::float8 - (ln(0.75 / 0.25) - ln(0.4 / 0.6))) < 1e-10 AS log_odds_ratio,
       abs((m->'standard_errors'->>0)::float8 - sqrt(1 / 40.0 + 1 / 60.0 + 1 / 75.0 + 1 / 25.0)) < 1e-10 AS woolf_se,
       abs(personalize.logistic_score(m, '{1}') - 0.75) < 1e-10 AS fitted_share
FROM (SELECT personalize.logistic_fit(label, x, 0.0) AS m FROM two_by_two) q;

-- Perfectly separable: with l2 = 0 a clear non-convergence (WARNING, converged
-- false, a warning in the model); with L2 finite coefficients.
CREATE TEMP TABLE separable AS
SELECT x > 0 AS label, ARRAY[x]::float8[] AS x FROM unnest(ARRAY[-3, -2, -1, -0.5, 0.5, 1, 2, 3]::float8[]) x;
SET client_min_messages = error;  -- as above: the iteration count of a diverging fit
SELECT m->'converged' AS converged, m->>'warning' AS warning, (m->'coefficients'->>0)::float8 > 5 AS large_coefficient
FROM (SELECT personalize.logistic_fit(label, x, 0.0) AS m FROM separable) q;
SELECT m->'converged' AS converged, m->'warning' AS warning, round((m->'coefficients'->>0)::numeric, 4) AS coefficient,
       round((m->'standard_errors'->>0)::numeric, 4) AS se
FROM (SELECT personalize.logistic_fit(label, x, 1.0) AS m FROM separable) q;
SET client_min_messages = warning;
-- An iteration limit that is reached: converged false, and the model is still returned.
SELECT m->'converged' AS converged, m->'iterations' AS iterations, m->>'warning' AS warning
FROM (SELECT personalize.logistic_fit(label, x, 0.0, NULL, 2, 1e-8) AS m FROM two_by_two) q;

-- Parallel plans give the serial model and AUC (rows are put in a canonical order first).
CREATE TABLE propensity_rows AS SELECT converted, features FROM sessions ORDER BY md5(session_id::text);
ANALYZE propensity_rows;
CREATE TEMP TABLE serial_fit AS
SELECT personalize.logistic_fit(converted, features, 1.0, personalize.session_feature_names()) AS m,
       personalize.auc(features[8], converted) AS a FROM propensity_rows;
\i test/sql/include/parallel_plans.sql
EXPLAIN (COSTS OFF)
SELECT personalize.logistic_fit(converted, features, 1.0, personalize.session_feature_names()),
       personalize.auc(features[8], converted) FROM propensity_rows;
CREATE TEMP TABLE parallel_fit AS
SELECT personalize.logistic_fit(converted, features, 1.0, personalize.session_feature_names()) AS m,
       personalize.auc(features[8], converted) AS a FROM propensity_rows;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT s.m = p.m AS same_model, s.a = p.a AS same_auc, p.m->'observations' AS observations
FROM serial_fit s, parallel_fit p;

-- AUC: ties count one half; one class only, or no rows: NULL; NULL rows skipped.
SELECT personalize.auc(s, l) FROM (VALUES (0.8, true), (0.4, true), (0.6, false), (0.4, false), (0.2, false)) v(s, l);
SELECT personalize.auc(s, l) AS all_tied FROM (VALUES (0.5, true), (0.5, false)) v(s, l);
SELECT personalize.auc(s, l) IS NULL AS one_class FROM (VALUES (0.5, true), (0.7, true)) v(s, l);
SELECT personalize.auc(s, l) IS NULL AS no_rows FROM (VALUES (0.5, true)) v(s, l) WHERE false;
SELECT personalize.auc(s, l) AS nulls_skipped
FROM (VALUES (0.9, true), (0.1, false), (NULL, false), (0.05, NULL)) v(s, l);

-- NULL rows are skipped; no rows: NULL. logistic_score is STRICT.
SELECT personalize.logistic_fit(label, x, 0.0) = (SELECT personalize.logistic_fit(label, x, 0.0) FROM two_by_two)
       AS nulls_skipped
FROM (SELECT * FROM two_by_two UNION ALL VALUES (NULL::boolean, '{1}'::float8[]), (true, NULL)) q;
SELECT personalize.logistic_fit(label, x) IS NULL AS empty_is_null FROM two_by_two WHERE false;
SELECT personalize.logistic_score(m, NULL) IS NULL AS strict FROM model;

-- Bad input: each names its argument, with its SQLSTATE.
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, CASE WHEN label THEN '{1,2}'::float8[] ELSE '{1}' END) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, ARRAY[1, 'NaN']::float8[]) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, ARRAY[1, 'Infinity']::float8[]) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, ARRAY[1, NULL]::float8[]) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, '{{1},{2}}'::float8[]) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, x, NULL) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, x, -1) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, x, 'NaN') FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, x, 1, ARRAY['a', 'b']) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, x, 1, ARRAY[NULL::text]) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, x, 1, ARRAY[CASE WHEN label THEN 'a' ELSE 'b' END]) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, x, CASE WHEN label THEN 1 ELSE 2 END) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, x, 1, NULL, 0, 1e-8) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, x, 1, NULL, 10, 0) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(true, x) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(label, array_fill(1.0::float8, ARRAY[1001])) FROM two_by_two$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_score(m, '{1,2,3}') FROM model$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_score(m, array_fill('NaN'::float8, ARRAY[10])) FROM model$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_score('{"intercept": 1}', '{1}')$$);
SELECT pg_temp.error_of($$SELECT personalize.logistic_score('{"model": "logistic_regression", "intercept": 0, "coefficients": [1, "a"]}', '{1, 2}')$$);
SELECT pg_temp.error_of($$SELECT personalize.auc('NaN', true)$$);
SELECT pg_temp.error_of($$SELECT personalize.session_features(NULL, 1, 10, 60, false, true, 0, NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.session_features(3, -1, 10, 60, false, true, 0, NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.session_features(3, 1, 'NaN', 60, false, true, 0, NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.session_features(3, 1, 10, 60, false, true, 2, NULL)$$);
SELECT personalize.session_features(3, 1, 10, 60, false, false, 0, NULL) AS anonymous_features;
SET personalize.memory_limit = '64kB';
SELECT pg_temp.error_of($$SELECT personalize.logistic_fit(converted, features) FROM sessions$$);
SET personalize.memory_limit = '128MB';
SELECT personalize.live_cpp_objects() AS live_cpp_objects;
DROP TABLE propensity_rows;

-- Lifetime models: fits recover simulated parameters, weighted = unweighted,
-- parallel = serial, predictions, NULLs, empty input and bad input.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;

\i test/sql/include/error_of.sql

-- 20,000 customers simulated from BG/NBD with r = 0.25, alpha = 4, a = 0.8,
-- b = 2.5 (ages 30..40 weeks). The fit recovers each parameter within 20 %.
CREATE TABLE sim AS SELECT * FROM personalize.simulate_customers('bgnbd', '{0.25, 4, 0.8, 2.5}', 20000, 7);
ANALYZE sim;
CREATE TEMP TABLE fit AS SELECT personalize.bgnbd_fit(frequency, recency, age) AS m FROM sim;
SELECT m->>'model' AS model, (m->>'converged')::boolean AS converged, (m->>'customers')::float8 AS customers,
       abs((m->'params'->>'r')::float8 / 0.25 - 1) < 0.2 AS r_ok,
       abs((m->'params'->>'alpha')::float8 / 4 - 1) < 0.2 AS alpha_ok,
       abs((m->'params'->>'a')::float8 / 0.8 - 1) < 0.2 AS a_ok,
       abs((m->'params'->>'b')::float8 / 2.5 - 1) < 0.2 AS b_ok,
       jsonb_typeof(m->'std_errors') AS std_errors, jsonb_array_length(m->'covariance') AS covariance_rows
FROM fit;

-- Fitting on GROUP BY rows with a weight gives the same model.
SELECT abs((w.m->>'log_likelihood')::float8 - (f.m->>'log_likelihood')::float8) < 1e-6 AS same_log_likelihood,
       abs((w.m->'params'->>'r')::float8 - (f.m->'params'->>'r')::float8) < 1e-6 AS same_r
FROM fit f,
     (SELECT personalize.bgnbd_fit(frequency, recency, age, n) AS m
      FROM (SELECT frequency, recency, age, count(*)::float8 AS n FROM sim GROUP BY 1, 2, 3) g) w;

-- A parallel plan gives the serial model.
\i test/sql/include/parallel_plans.sql
EXPLAIN (COSTS OFF) SELECT personalize.bgnbd_fit(frequency, recency, age) FROM sim;
SELECT abs((p.m->>'log_likelihood')::float8 - (f.m->>'log_likelihood')::float8) < 1e-6 AS parallel_equals_serial
FROM fit f, (SELECT personalize.bgnbd_fit(frequency, recency, age) AS m FROM sim) p;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- Pareto/NBD on Pareto/NBD data (r = 0.55, alpha = 10, s = 0.6, beta = 12).
SELECT (m->>'converged')::boolean AS converged,
       abs((m->'params'->>'r')::float8 / 0.55 - 1) < 0.25 AS r_ok,
       abs((m->'params'->>'alpha')::float8 / 10 - 1) < 0.25 AS alpha_ok
FROM (SELECT personalize.pareto_nbd_fit(frequency, recency, age) AS m
      FROM personalize.simulate_customers('pareto_nbd', '{0.55, 10, 0.6, 12}', 20000, 3)) p;

-- Predictions with the published CDNOW BG/NBD parameters: a customer with
-- x = 2, t_x = 30.43, T = 38.86 expects about 1.23 purchases in 39 weeks.
CREATE TEMP TABLE cdnow_model AS
SELECT '{"model": "bgnbd", "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}}'::jsonb AS m;
SELECT round(personalize.expected_purchases(m, 39, 2, 30.43, 38.86)::numeric, 2) AS expected_39_weeks,
       round(personalize.probability_alive(m, 2, 30.43, 38.86)::numeric, 3) AS p_alive,
       round(personalize.probability_alive(m, 0, 0, 38.86)::numeric, 3) AS p_alive_no_repeat,
       round(personalize.probability_alive(m, 2, 5, 38.86)::numeric, 3) AS p_alive_quiet_since_week_5,
       round(personalize.expected_purchases_new(m, 39)::numeric, 3) AS new_customer_39_weeks,
       round(personalize.probability_of_purchases(m, 0, 39, 2, 30.43, 38.86)::numeric, 3) AS p_no_purchase,
       round(personalize.next_purchase_in(m, 2, 30.43, 38.86, 0.3)::numeric, 1) AS weeks_to_30pct_next,
       personalize.next_purchase_in(m, 2, 5, 38.86) AS weeks_to_median_next_quiet
FROM cdnow_model;
-- Probabilities of 0..n purchases sum towards 1.
SELECT round(sum(personalize.probability_of_purchases(m, n, 39, 2, 30.43, 38.86))::numeric, 4) AS p_0_to_50
FROM cdnow_model, generate_series(0, 50) n;

-- Gamma-Gamma and CLV: spend model with the published CDNOW parameters.
CREATE TEMP TABLE spend_model AS
SELECT '{"model": "gamma_gamma", "params": {"p": 6.25, "q": 3.74, "gamma": 15.44}}'::jsonb AS s;
SELECT round(personalize.expected_spend(s, 2, 22.345)::numeric, 2) AS spend_customer_1,
       round(personalize.expected_spend(s, 0, 0)::numeric, 2) AS spend_population_mean,
       round(personalize.customer_lifetime_value(m, s, 2, 30.43, 38.86, 22.345, 12, 4.345, 0.01)::numeric, 2)
           AS clv_12_months
FROM cdnow_model, spend_model;

-- An interval from the fitted covariance (the simulated fit), deterministic by seed.
SELECT i.lower < e AND e < i.upper AS point_inside, i.lower > 0 AS positive,
       i = personalize.expected_purchases_interval(m, 39, 2, 30, 38, 0.9, 200, 1) AS deterministic
FROM fit, personalize.expected_purchases(m, 39, 2, 30, 38) e,
     personalize.expected_purchases_interval(m, 39, 2, 30, 38, 0.9, 200, 1) i;

-- The CLV interval (spend model without a covariance: its value is fixed).
SELECT i.lower < v AND v < i.upper AS clv_inside, i.lower > 0 AS positive
FROM fit, spend_model,
     personalize.customer_lifetime_value(m, s, 2, 30, 38, 22.3, 12, 4.345, 0.01) v,
     personalize.customer_lifetime_value_interval(m, s, 2, 30, 38, 22.3, 12, 4.345, 0.01) i;
SELECT pg_temp.error_of($$SELECT personalize.customer_lifetime_value_interval(m, s, 2, 30, 38, 22.3, 12) FROM cdnow_model, spend_model$$);

-- Empty input: no model. NULL customer numbers skip the row.
SELECT personalize.bgnbd_fit(frequency, recency, age) IS NULL AS empty_is_null FROM sim WHERE false;
SELECT (personalize.bgnbd_fit(f, r, a)->>'customers')::float8 AS customers
FROM (VALUES (1::float8, 2::float8, 10::float8), (NULL, 1, 1), (0, 0, 5)) v(f, r, a);

-- Degenerate data never gives NaN: nobody repeats; a single customer.
SELECT m->>'converged' AS converged, m->'params' IS NOT NULL AS has_params, m::text LIKE '%NaN%' AS has_nan
FROM (SELECT personalize.bgnbd_fit(0, 0, age) AS m FROM sim) z;
SELECT m::text LIKE '%NaN%' AS has_nan FROM (SELECT personalize.bgnbd_fit(3, 20, 30) AS m) one;

-- NULL arguments give NULL (the prediction functions are STRICT).
SELECT personalize.probability_alive(NULL, 1, 1, 2) IS NULL AS null_model,
       personalize.expected_purchases(m, 39, NULL, 1, 2) IS NULL AS null_frequency,
       personalize.customer_lifetime_value(m, NULL, 1, 1, 2, 10, 12) IS NULL AS null_spend_model
FROM cdnow_model;

-- Bad input names the field.
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(-1, 0, 10)$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(1, 12, 10)$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit('NaN', 1, 10)$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(1, 5, 'Infinity')$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(1.5, 5, 10)$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(1, 0, 10)$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(1, 5, 10, 0)$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(1, 5, 10, NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(1, 5, 10, 1, -1)$$);
SELECT pg_temp.error_of($$SELECT personalize.gamma_gamma_fit(-2, 10)$$);
SELECT pg_temp.error_of($$SELECT personalize.probability_alive(s, 1, 1, 2) FROM spend_model$$);
SELECT pg_temp.error_of($$SELECT personalize.expected_spend(m, 1, 1) FROM cdnow_model$$);
SELECT pg_temp.error_of($$SELECT personalize.probability_alive('{"model": "bgnbd", "params": {"r": 1}}', 1, 1, 2)$$);
SELECT pg_temp.error_of($$SELECT personalize.probability_alive('{"model": "kmeans"}', 1, 1, 2)$$);
SELECT pg_temp.error_of($$SELECT personalize.probability_alive(m, 1, 3, 2) FROM cdnow_model$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_lifetime_value(m, s, 1, 1, 2, 10, 0) FROM cdnow_model, spend_model$$);
SELECT pg_temp.error_of($$SELECT personalize.next_purchase_in(m, 1, 1, 2, 1.5) FROM cdnow_model$$);
SELECT pg_temp.error_of($$SELECT personalize.simulate_customers('weibull', '{1,1,1,1}', 10)$$);
SELECT pg_temp.error_of($$SELECT personalize.simulate_customers('bgnbd', '{1,1,1,1}', 0)$$);
SELECT pg_temp.error_of($$SELECT personalize.simulate_customers('bgnbd', '{1,1,1}', 10)$$);
SELECT pg_temp.error_of($$SELECT personalize.expected_purchases_interval(m, 10, 2, 30, 38, 1) FROM cdnow_model$$);
SELECT pg_temp.error_of($$SELECT personalize.expected_purchases_interval(m, 10, 2, 30, 38, 0.9, 5) FROM cdnow_model$$);
SELECT pg_temp.error_of($$SELECT personalize.customer_lifetime_value_interval(m, s, 2, 30, 38, 22.3, 12, level => 0) FROM cdnow_model, spend_model$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(1, 5, 10, 1, NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.bgnbd_fit(1, 5, 10, 1, i) FROM generate_series(1, 3) i$$);
SELECT pg_temp.error_of($$SELECT personalize.gamma_gamma_fit(2, 10, 1, 'NaN')$$);
SELECT personalize.live_cpp_objects() AS live_cpp_objects;
DROP TABLE sim;

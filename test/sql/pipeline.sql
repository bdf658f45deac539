-- The pipeline (docs/pipeline.md): configure_shop with its checks and
-- settings, refresh and its stages, the profiles against the hand-written
-- recipe, the models and their quality, the run log, failures leaving the
-- previous models, and serving without regclass arguments (overloads).
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';  -- the recipe below takes purchase days in the session's zone, the refresh in the setting's

\i test/sql/include/error_of.sql

SELECT count(*) AS tables FROM personalize.load_demo_shop('pipe_shop', 'tiny', 1);

-- Nothing configured yet.
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh()$$);
-- CALL (transaction control: not inside error_of) records the failed run.
\set VERBOSITY terse
CALL personalize.run_refresh();
\set VERBOSITY default
SELECT status, finished_at >= started_at AS finished, error FROM personalize.refresh_runs;
SELECT count(*) AS profiles_before_any_refresh FROM personalize.customer_profile(1);

-- configure_shop checks every table's columns and types, naming the table.
CREATE VIEW pipe_shop.orders_no_status AS SELECT order_id, customer_id, ordered_at, total FROM pipe_shop.orders;
CREATE VIEW pipe_shop.orders_dates AS
SELECT order_id, customer_id, ordered_at::date AS ordered_at, status, total FROM pipe_shop.orders;
CREATE VIEW pipe_shop.orders_text_total AS
SELECT order_id, customer_id, ordered_at, status, total::text AS total FROM pipe_shop.orders;
CREATE VIEW pipe_shop.lines_text_ids AS SELECT order_id, product_id::text AS product_id FROM pipe_shop.order_lines;
CREATE VIEW pipe_shop.sessions_no_cart AS SELECT session_id, customer_id, started_at, ended_at FROM pipe_shop.sessions;
CREATE VIEW pipe_shop.products_text_rebuy AS SELECT product_id, category, 'yes'::text AS rebuyable FROM pipe_shop.products;
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders_no_status', 'pipe_shop.order_lines')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders_dates', 'pipe_shop.order_lines')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders_text_total', 'pipe_shop.order_lines')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.lines_text_ids')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines',
                                                            sessions => 'pipe_shop.sessions_no_cart')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines',
                                                            products => 'pipe_shop.products_text_rebuy')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop(NULL, 'pipe_shop.order_lines')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.no_such_table')$$);
-- Settings: unknown keys, bad values, a map that does not exist.
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines',
                                                            settings => '{"kmeans_kk": 4}')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines',
                                                            settings => '{"kmeans_k": 1}')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines',
                                                            settings => '{"as_of": "tomorrow-ish"}')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines',
                                                            settings => '{"segment_map": "no_such_map"}')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines',
                                                            currency => 'pounds')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines',
                                                            settings => '[1, 2]')$$);
SELECT count(*) AS nothing_stored FROM personalize.shop_source;

-- A good configuration: every setting becomes a row.
SELECT count(*) AS settings,
       string_agg(key || ' = ' || value, ', ' ORDER BY key)
           FILTER (WHERE key IN ('as_of', 'currency', 'rules_min_count', 'segment_map', 'clv_interval_draws')) AS some
FROM personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines', 'pipe_shop.customers',
                                'pipe_shop.products', 'pipe_shop.sessions',
                                settings => '{"as_of": "2026-01-01", "rules_min_count": 5, "clv_interval_draws": 50}');
SELECT orders, order_lines, customers, products, sessions FROM personalize.shop_source;
-- It points the offer contexts at the profiles.
SELECT orders, customers, features, currency FROM personalize.offer_context_source;
-- Settings are checked on every write.
SELECT pg_temp.error_of($$UPDATE personalize.shop_settings SET value = 'often' WHERE key = 'holdout_days'$$);
SELECT pg_temp.error_of($$UPDATE personalize.shop_settings SET value = 'Mars/Olympus' WHERE key = 'time_zone'$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.shop_settings (key, value) VALUES ('colour', 'blue')$$);
SELECT pg_temp.error_of($$UPDATE personalize.shop_settings SET value = NULL WHERE key = 'currency'$$);
-- Reconfiguring keeps the settings not given.
SELECT value AS rules_min_count_kept FROM personalize.configure_shop('pipe_shop.orders', 'pipe_shop.order_lines',
    'pipe_shop.customers', 'pipe_shop.products', 'pipe_shop.sessions') WHERE key = 'rules_min_count';

-- The refresh: one row per stage.
CREATE TEMP TABLE first_refresh AS SELECT * FROM personalize.refresh();
SELECT stage, rows, seconds >= 0 AS timed, jsonb_typeof(quality) AS quality FROM first_refresh;
-- The refresh leaves statistics of what it wrote (serving calls plan on them).
SELECT c.relname, c.reltuples > 0 AS analyzed FROM pg_class c
WHERE c.relnamespace = 'personalize'::regnamespace
  AND c.relname IN ('customer_profiles', 'purchase_history', 'product_rules', 'item_similarities', 'popular_items')
ORDER BY 1;

-- customer_profiles: every customer of the customers table, the history of
-- completed orders, the same numbers as the hand-written recipe.
SELECT count(*) AS profiles, (SELECT count(*) FROM pipe_shop.customers) AS customers,
       count(*) FILTER (WHERE lifecycle_stage = 'prospect') AS prospects,
       (SELECT count(*) FROM pipe_shop.customers c WHERE NOT EXISTS (
            SELECT 1 FROM pipe_shop.orders o WHERE o.customer_id = c.customer_id AND o.status = 'completed')) AS without_orders,
       sum(orders) AS orders, (SELECT count(*) FROM pipe_shop.orders WHERE status = 'completed') AS completed_orders
FROM personalize.customer_profiles;
SELECT lifecycle_stage, count(*) AS customers,
       bool_and(CASE lifecycle_stage
                WHEN 'prospect' THEN orders = 0 AND segment IS NULL AND p_alive IS NULL
                WHEN 'new' THEN first_order_at > as_of - interval '30 days'
                WHEN 'churned' THEN days_since_last_order >= 365
                WHEN 'lapsed' THEN days_since_last_order >= 90 AND days_since_last_order < 365
                ELSE days_since_last_order < 90 END) AS rule_holds
FROM personalize.customer_profiles GROUP BY 1 ORDER BY 1;
SELECT count(*) FILTER (WHERE p_alive BETWEEN 0 AND 1) AS p_alive_in_0_1,
       count(*) FILTER (WHERE abs(churn_risk - (1 - p_alive)) < 1e-12) AS churn_risk_is_1_minus_p_alive,
       count(*) FILTER (WHERE expected_orders_30d <= expected_orders_90d AND expected_orders_90d <= expected_orders_365d)
           AS expected_orders_grow,
       count(*) FILTER (WHERE clv >= 0 AND clv_lower <= clv_upper) AS clv_with_interval,
       count(*) FILTER (WHERE r BETWEEN 1 AND 5 AND f BETWEEN 1 AND 5 AND m BETWEEN 1 AND 5) AS scored,
       count(*) FILTER (WHERE cluster BETWEEN 1 AND 4) AS clustered,
       count(*) FILTER (WHERE expected_next_order_at > as_of OR expected_next_order_at IS NULL) AS next_order_after_as_of,
       count(*) FILTER (WHERE signed_up_at IS NOT NULL) AS with_signup
FROM personalize.customer_profiles WHERE lifecycle_stage <> 'prospect';
-- The hand-written recipe of scripts/demo.sql gives the same numbers.
CREATE TEMP TABLE recipe AS
SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total::float8, '2026-01-01', '1 week')).*
FROM pipe_shop.orders o WHERE o.status = 'completed' GROUP BY o.customer_id;
CREATE TEMP TABLE recipe_models AS
SELECT personalize.bgnbd_fit(frequency, recency, age) AS bgnbd, personalize.gamma_gamma_fit(frequency, monetary) AS spend,
       personalize.rfm_breakpoints(age - recency, frequency, total) AS bp
FROM recipe;
SELECT count(*) AS compared,
       count(*) FILTER (WHERE p.frequency = s.frequency AND p.recency = s.recency AND p.age = s.age
                          AND p.total = s.total) AS same_summary,
       count(*) FILTER (WHERE abs(p.p_alive - personalize.probability_alive(m.bgnbd, s.frequency, s.recency, s.age)) < 1e-9)
           AS same_p_alive,
       count(*) FILTER (WHERE abs(p.clv - personalize.customer_lifetime_value(m.bgnbd, m.spend, s.frequency, s.recency,
                                     s.age, s.monetary, 12, 365.25 / 12 / 7, 0.01)) < 1e-6 * (1 + p.clv)) AS same_clv,
       count(*) FILTER (WHERE p.segment = personalize.segment('rf_grid', sc.r, sc.f, sc.m)) AS same_segment
FROM personalize.customer_profiles p JOIN recipe s USING (customer_id) CROSS JOIN recipe_models m
CROSS JOIN LATERAL personalize.rfm_score(m.bp, s.age - s.recency, s.frequency, s.total) sc;

-- The models with their quality on the holdout.
SELECT name, trained_on, as_of, jsonb_typeof(parameters) AS parameters FROM personalize.models ORDER BY name;
SELECT (quality -> 'holdout' ->> 'customers')::int > 0 AS holdout_customers,
       (quality -> 'holdout' ->> 'ratio')::float8 BETWEEN 0.5 AND 2 AS predicted_vs_actual_within_2x,
       (quality ->> 'log_likelihood')::float8 < 0 AS log_likelihood
FROM personalize.models WHERE name = 'lifetime';
SELECT (quality -> 'holdout' ->> 'customers')::int > 0 AS holdout_customers,
       (quality -> 'holdout' ->> 'ndcg_at_10')::float8 > 0 AS ndcg,
       (quality -> 'holdout' ? 'popular_ndcg_at_10') AS against_popularity
FROM personalize.models WHERE name = 'item_similarities';
SELECT (quality -> 'holdout' ->> 'auc')::float8 BETWEEN 0.5 AND 1 AS auc_better_than_chance
FROM personalize.models WHERE name = 'propensity';
SELECT status, models, "full", as_of, jsonb_array_length(stages) AS stages, error ->> 'sqlstate' AS error
FROM personalize.refresh_runs ORDER BY run_id;

-- The other outputs.
SELECT (SELECT count(*) FROM personalize.product_rules WHERE antecedent = '{}') AS popularity_rows,
       (SELECT count(*) FROM personalize.item_similarities WHERE item = neighbour) AS items_with_similarities,
       (SELECT count(*) FROM personalize.popular_items WHERE segment IS NULL) AS best_sellers,
       (SELECT count(DISTINCT segment) FROM personalize.popular_items) AS segments_with_best_sellers,
       (SELECT count(*) FROM personalize.shop_items) AS items,
       (SELECT count(*) FROM personalize.segment_history WHERE as_of = '2026-01-01' AND map = 'rf_grid') AS snapshot;

-- The propensity model is the one docs/propensity.md's recipe fits.
CREATE TEMP TABLE recipe_sessions AS
SELECT s.converted,
       personalize.session_features(
           s.pages_viewed, s.items_in_cart, s.cart_value::float8, extract(epoch FROM s.ended_at - s.started_at)::float8,
           s.exit_intent, s.customer_id IS NOT NULL, h.prior_orders::int,
           extract(epoch FROM s.started_at - h.last_order_at)::float8 / 86400) AS features
FROM pipe_shop.sessions s
CROSS JOIN LATERAL (SELECT count(*) AS prior_orders, max(o.ordered_at) AS last_order_at FROM pipe_shop.orders o
                    WHERE o.customer_id = s.customer_id AND o.status = 'completed' AND o.ordered_at < s.started_at) h
WHERE s.started_at <= '2026-01-01';
WITH r AS (SELECT personalize.logistic_fit(converted, features, 1.0, personalize.session_feature_names()) AS model
           FROM recipe_sessions)
SELECT count(*) AS sessions,
       count(*) FILTER (WHERE abs(personalize.logistic_score(r.model, f.features)
                                  - personalize.logistic_score(m.parameters, f.features)) < 1e-9) AS same_score
FROM recipe_sessions f, r, personalize.models m WHERE m.name = 'propensity';

-- The set-based stages write what the general functions give.
SELECT (SELECT count(*) FROM (
            SELECT segment, item_id, score, buyers FROM personalize.popular_items
            EXCEPT ALL
            SELECT * FROM personalize.popular_items('personalize.purchase_history', 'personalize.customer_profiles', 50)) x)
       AS popular_rows_differing,
       (SELECT count(*) FROM (
            SELECT customer_id, segment FROM personalize.segment_history WHERE as_of = '2026-01-01'
            EXCEPT ALL
            SELECT customer_id, personalize.segment('rf_grid', r, f, m) FROM personalize.customer_profiles
            WHERE r IS NOT NULL) x) AS snapshot_rows_differing;

-- Serving without regclass arguments: the same answers as the regclass forms.
SELECT lifecycle_stage, orders, segment FROM personalize.customer_profile(1);
SELECT count(*) AS unknown_customer FROM personalize.customer_profile(-1);
SELECT count(*) AS planted_pairs,
       count(*) FILTER (WHERE (SELECT c.complement FROM personalize.product_complements(p.antecedent, 1) c) = p.consequent)
           AS planted_complement_on_top
FROM pipe_shop.planted_pairs p;
SELECT (SELECT array_agg(c.complement) FROM personalize.product_complements(p.antecedent, 5) c)
       = (SELECT array_agg(c.complement) FROM personalize.product_complements('personalize.product_rules', p.antecedent, 5) c)
           AS same_as_regclass_form
FROM (SELECT min(antecedent) AS antecedent FROM pipe_shop.planted_pairs) p;
CREATE TEMP TABLE pipe_cart AS SELECT array_agg(antecedent ORDER BY antecedent) AS items
FROM (SELECT antecedent FROM pipe_shop.planted_pairs ORDER BY antecedent LIMIT 2) p;
SELECT (SELECT array_agg(s.item) FROM personalize.cart_suggestions(c.items, 3) s)
       = (SELECT array_agg(s.item) FROM personalize.cart_suggestions(c.items, 'personalize.product_rules', 3) s) AS same,
       (SELECT count(*) FROM personalize.cart_suggestions(c.items)) AS default_k
FROM pipe_cart c;
SELECT (SELECT array_agg(s.item_id ORDER BY s.rank) FROM personalize.suggestions(p.customer_id, 5) s)
       = (SELECT array_agg(s.item_id ORDER BY s.rank)
          FROM personalize.suggestions(p.customer_id, 'personalize.purchase_history', 'personalize.item_similarities', 5,
                                       items => 'personalize.shop_items', popular => 'personalize.popular_items',
                                       segment => p.segment) s) AS same,
       (SELECT string_agg(DISTINCT s.source, ',') FROM personalize.suggestions(p.customer_id, 5) s) AS sources
FROM personalize.customer_profiles p WHERE p.lifecycle_stage = 'active' AND p.orders BETWEEN 2 AND 4
ORDER BY p.customer_id LIMIT 1;
SELECT count(*) AS prospect_gets_best_sellers, bool_and(s.source = 'popular') AS popular
FROM personalize.suggestions((SELECT min(customer_id) FROM personalize.customer_profiles WHERE lifecycle_stage = 'prospect'), 4) s;
SELECT personalize.session_propensity(5, 1, 50, 300, false, true, 2, 30) BETWEEN 0 AND 1 AS propensity;
-- Overloads: the regclass forms keep working with their usual arguments;
-- two arguments with an untyped table name now need the table typed.
SELECT count(*) > 0 AS regclass_form FROM personalize.cart_suggestions((SELECT items FROM pipe_cart), 'personalize.product_rules', 3);
SELECT count(*) > 0 AS regclass_named FROM personalize.cart_suggestions((SELECT items FROM pipe_cart), rules => 'personalize.product_rules');
SELECT count(*) > 0 AS regclass_typed FROM personalize.product_complements('personalize.product_rules'::regclass, 1);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', 'personalize.product_rules')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.product_complements('personalize.product_rules', 1)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 0)$$);

-- Offers read the profile fields (customer.segment, customer.p_alive, the
-- rest as customer.attributes.*). Offers other tests left are switched off
-- meanwhile.
CREATE TEMP TABLE other_active_offers AS SELECT offer_key FROM personalize.offers WHERE active;
UPDATE personalize.offers SET active = false;
INSERT INTO personalize.offers (offer_key, rule, percent_off, channels) VALUES
    ('welcome', 'customer.attributes.lifecycle_stage = ''prospect''', 10, '{web,email}'),
    ('champions', 'customer.segment = ''Champions'' and customer.p_alive > 0.5', 5, '{web,email}');
SELECT p.lifecycle_stage = 'prospect' AS prospect, p.segment = 'Champions' AND p.p_alive > 0.5 AS champion,
       array_agg(e.offer_key ORDER BY e.offer_key) FILTER (WHERE e.offer_key IS NOT NULL) AS eligible
FROM personalize.offer_contexts('2026-01-01') c
JOIN personalize.customer_profiles p USING (customer_id)
LEFT JOIN LATERAL personalize.eligible_offers(c.context, 'email') e ON true
GROUP BY c.customer_id, 1, 2
HAVING c.customer_id IN ((SELECT min(customer_id) FROM personalize.customer_profiles WHERE lifecycle_stage = 'prospect'),
                         (SELECT min(customer_id) FROM personalize.customer_profiles WHERE segment = 'Champions' AND p_alive > 0.5))
ORDER BY 1;
SELECT offer_key FROM personalize.decide_offer(
    (SELECT min(customer_id) FROM personalize.customer_profiles WHERE lifecycle_stage = 'prospect'), '{}', '{}', 'web');
DELETE FROM personalize.offer_log WHERE offer_key IN ('welcome', 'champions');
DELETE FROM personalize.offers WHERE offer_key IN ('welcome', 'champions');
UPDATE personalize.offers SET active = true WHERE offer_key IN (SELECT offer_key FROM other_active_offers);

-- Some models only; unknown names.
SELECT stage, rows FROM personalize.refresh(ARRAY['product_rules', 'popular_items']);
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh(ARRAY['rules'])$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh('{}')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh(full => NULL)$$);

-- A later refresh: the previous segment comes from the earlier snapshot.
UPDATE personalize.shop_settings SET value = '2026-02-01' WHERE key = 'as_of';
SELECT stage, rows FROM personalize.refresh(ARRAY['customer_profiles']);
SELECT count(*) FILTER (WHERE previous_segment IS NOT NULL) AS with_previous_segment,
       (SELECT count(*) FROM personalize.segment_history WHERE as_of = '2026-01-01') AS in_january_snapshot,
       count(*) FILTER (WHERE lifecycle_stage = 'new') AS new_in_february
FROM personalize.customer_profiles;

-- A failing refresh raises, and the previous models keep serving: nothing
-- of it is written (an order at -infinity makes customer_summary fail).
CREATE TEMP TABLE before_failure AS
SELECT (SELECT max(refreshed_at) FROM personalize.customer_profiles) AS refreshed_at,
       (SELECT count(*) FROM personalize.refresh_runs) AS runs,
       (SELECT count(*) FROM personalize.product_rules) AS rules;
INSERT INTO pipe_shop.orders VALUES (990001, 1, '-infinity', 'completed', 10, 1);
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh()$$);
SELECT (SELECT max(refreshed_at) FROM personalize.customer_profiles) = b.refreshed_at AS profiles_unchanged,
       (SELECT count(*) FROM personalize.product_rules) = b.rules AS rules_unchanged,
       (SELECT count(*) FROM personalize.refresh_runs) = b.runs AS not_logged_by_refresh
FROM before_failure b;
-- CALL run_refresh() records the failure, then raises it.
\set VERBOSITY terse
CALL personalize.run_refresh();
\set VERBOSITY default
SELECT status, finished_at IS NOT NULL AS finished, error FROM personalize.refresh_runs ORDER BY run_id DESC LIMIT 1;
SELECT (SELECT max(refreshed_at) FROM personalize.customer_profiles) = b.refreshed_at AS profiles_still_unchanged
FROM before_failure b;
DELETE FROM pipe_shop.orders WHERE order_id = 990001;
CALL personalize.run_refresh(ARRAY['product_rules']);
SELECT status, error, stages -> 0 ->> 'stage' AS stage FROM personalize.refresh_runs ORDER BY run_id DESC LIMIT 1;
-- A refresh rolled back by its caller leaves nothing either.
BEGIN;
SELECT count(*) AS stages FROM personalize.refresh(ARRAY['product_rules']);
ROLLBACK;
SELECT count(*) AS runs FROM personalize.refresh_runs;
-- Twice in one transaction (the stages' temporary tables are made again).
BEGIN;
SELECT stage, rows, quality -> 'holdout' ->> 'customers' AS holdout_customers
FROM personalize.refresh(ARRAY['item_similarities'], full => true);
SELECT stage, rows, quality -> 'holdout' ->> 'customers' AS holdout_customers
FROM personalize.refresh(ARRAY['item_similarities'], full => true);
COMMIT;
-- statement_timeout in the middle of a refresh: PostgreSQL's error, the
-- previous models stay.
CREATE TEMP TABLE before_timeout AS SELECT max(refreshed_at) AS refreshed_at FROM personalize.customer_profiles;
-- (a full refresh of the tiny shop takes about 1 s; which stage is hit varies)
SET statement_timeout = '50ms';
\set VERBOSITY sqlstate
SELECT count(*) FROM personalize.refresh();
\set VERBOSITY default
RESET statement_timeout;
SELECT max(refreshed_at) = (SELECT refreshed_at FROM before_timeout) AS profiles_unchanged
FROM personalize.customer_profiles;
-- The next refresh succeeds (pg_cancel_backend and a server crash:
-- test/integration/run-all.sh).
SELECT count(*) AS stages FROM personalize.refresh();
SELECT max(refreshed_at) > (SELECT refreshed_at FROM before_timeout) AS next_refresh_wrote_profiles
FROM personalize.customer_profiles;

-- The refresh's time zone does not leak into the caller's session.
SET TimeZone = 'America/New_York';
UPDATE personalize.shop_settings SET value = 'Europe/London' WHERE key = 'time_zone';
SELECT count(*) AS stages FROM personalize.refresh(ARRAY['product_rules']);
SHOW TimeZone;
SET TimeZone = 'UTC';

-- The shop's ETL recreates its tables: the next refresh follows them (and
-- re-points the offer contexts); a table that is gone is a clear error.
DROP VIEW pipe_shop.orders_no_status, pipe_shop.orders_dates, pipe_shop.orders_text_total, pipe_shop.lines_text_ids,
          pipe_shop.sessions_no_cart, pipe_shop.products_text_rebuy;
CREATE TEMP TABLE old_orders_oid AS SELECT 'pipe_shop.orders'::regclass::oid AS oid;
SELECT count(*) AS tables FROM personalize.load_demo_shop('pipe_shop', 'tiny', 1);
SELECT stage, rows FROM personalize.refresh(ARRAY['product_rules']);
SELECT o.orders::oid <> (SELECT oid FROM old_orders_oid) AS offer_context_follows FROM personalize.offer_context_source o;
-- A column changed or renamed after configure_shop: the refresh names it,
-- and the previous models keep serving.
CREATE TEMP TABLE before_column_change AS SELECT max(refreshed_at) AS refreshed_at FROM personalize.customer_profiles;
ALTER TABLE pipe_shop.orders ALTER COLUMN total TYPE text;
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh()$$);
ALTER TABLE pipe_shop.orders ALTER COLUMN total TYPE numeric(12,2) USING total::numeric;
ALTER TABLE pipe_shop.orders RENAME COLUMN status TO state;
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh()$$);
ALTER TABLE pipe_shop.orders RENAME COLUMN state TO status;
SELECT max(refreshed_at) = (SELECT refreshed_at FROM before_column_change) AS profiles_unchanged
FROM personalize.customer_profiles;
DROP TABLE pipe_shop.sessions CASCADE;
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh()$$);

-- A shop with only cancelled orders: a refresh succeeds with prospects only.
CREATE SCHEMA pipe_empty;
CREATE TABLE pipe_empty.orders AS SELECT order_id, customer_id, ordered_at, 'cancelled'::text AS status, total
FROM pipe_shop.orders LIMIT 20;
CREATE TABLE pipe_empty.order_lines AS SELECT l.order_id, l.product_id FROM pipe_shop.order_lines l
WHERE l.order_id IN (SELECT order_id FROM pipe_empty.orders);
CREATE TABLE pipe_empty.customers AS SELECT customer_id FROM pipe_shop.customers LIMIT 5;
SELECT count(*) AS settings FROM personalize.configure_shop('pipe_empty.orders', 'pipe_empty.order_lines', 'pipe_empty.customers');
SELECT stage, rows, quality ->> 'skipped' AS skipped FROM personalize.refresh();
SELECT lifecycle_stage, count(*) FROM personalize.customer_profiles GROUP BY 1;
-- An empty shop: no orders, no customers; every stage runs, nothing to serve.
TRUNCATE pipe_empty.orders, pipe_empty.order_lines, pipe_empty.customers;
SELECT stage, rows, quality ->> 'skipped' AS skipped FROM personalize.refresh(full => true);
SELECT (SELECT count(*) FROM personalize.customer_profiles) AS profiles,
       (SELECT count(*) FROM personalize.product_rules) AS rules,
       (SELECT count(*) FROM personalize.suggestions(1, 5)) AS suggestions,
       (SELECT count(*) FROM personalize.cart_suggestions(ARRAY[1]::bigint[], 5)) AS cart_suggestions;

-- Scheduling needs pg_cron in this database.
SELECT pg_temp.error_of($$SELECT personalize.schedule_refresh()$$);
SELECT pg_temp.error_of($$SELECT personalize.unschedule_refresh()$$);

SELECT personalize.live_cpp_objects() AS live_cpp_objects;
DELETE FROM personalize.shop_settings;
DELETE FROM personalize.shop_source;
DELETE FROM personalize.offer_context_source;
DELETE FROM personalize.refresh_state;
DELETE FROM personalize.refresh_fingerprints;
DROP SCHEMA pipe_shop, pipe_empty CASCADE;

-- The serving wrappers are inlined into the caller's query (the regclass
-- form is what runs), and NULL arguments give no rows.
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM personalize.product_complements(42::bigint, 5);
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM personalize.cart_suggestions(ARRAY[42]::bigint[], 5);
SELECT (SELECT count(*) FROM personalize.customer_profile(NULL)) AS profile_null,
       (SELECT count(*) FROM personalize.product_complements(NULL::bigint, 5)) AS complements_null_item,
       (SELECT count(*) FROM personalize.product_complements(42::bigint, NULL)) AS complements_null_k;

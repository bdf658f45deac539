-- The pipeline under least privilege (docs/security.md): the owner
-- configures and refreshes; the application role grant_roles() made serves
-- every use case from the refreshed models without owning a table, the
-- reporting role reads them, and no role but the owner configures,
-- refreshes, schedules or runs a stage. One transaction, rolled back.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';
SET extra_float_digits = 0;
SET TimeZone = 'UTC';

\i test/sql/include/error_of.sql

SELECT count(*) AS tables FROM personalize.load_demo_shop('pp_shop', 'tiny', 1);

BEGIN;
-- The other tests' offers switched off; one offer on the refreshed profiles.
UPDATE personalize.offers SET active = false;
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, channels)
VALUES ('pp_regulars', '5% for customers with 2+ orders', 'customer.orders >= 2', 5, '{web}');
SELECT count(*) AS settings
FROM personalize.configure_shop('pp_shop.orders', 'pp_shop.order_lines', 'pp_shop.customers',
                                'pp_shop.products', 'pp_shop.sessions',
                                settings => '{"as_of": "2026-01-01", "rules_min_count": 5}');
SELECT count(*) AS stages FROM personalize.refresh();

CREATE ROLE regress_pp_app;
CREATE ROLE regress_pp_reporting;
CREATE ROLE regress_pp_admin;
SELECT count(*) > 0 AS granted
FROM personalize.grant_roles('regress_pp_app', 'regress_pp_reporting', 'regress_pp_admin');
-- decide_offer builds the context from the shop's orders and customers.
GRANT USAGE ON SCHEMA pp_shop TO regress_pp_app, regress_pp_admin;
GRANT SELECT ON pp_shop.orders, pp_shop.customers TO regress_pp_app;

CREATE TEMP TABLE regular AS
SELECT min(p.customer_id) AS customer_id FROM personalize.customer_profiles p WHERE p.orders BETWEEN 2 AND 10;
CREATE TEMP TABLE complemented AS SELECT min(r.antecedent[1]) AS item FROM personalize.product_rules r
WHERE cardinality(r.antecedent) = 1;
GRANT SELECT ON regular, complemented TO PUBLIC;

-- The application: every serving call of the pipeline.
SET ROLE regress_pp_app;
SELECT count(*) AS profile, bool_and(p.orders >= 2) AS regular
FROM regular r, personalize.customer_profile(r.customer_id) p;
SELECT count(*) > 0 AS suggestions FROM regular r, personalize.suggestions(r.customer_id, 5);
SELECT count(*) > 0 AS cart_suggestions FROM complemented c, personalize.cart_suggestions(ARRAY[c.item], 3);
SELECT count(*) > 0 AS complements FROM complemented c, personalize.product_complements(c.item, 3);
SELECT personalize.session_propensity(5, 1, 40, 300, false, true, 2, 10) BETWEEN 0 AND 1 AS propensity;
-- Shown or held out (by the customer's hash), the decision is logged.
SELECT count(*) AS decided FROM regular r, personalize.decide_offer(r.customer_id, '{"total": 10}', '{}', 'web') d;
SELECT count(*) AS logged FROM regular r JOIN personalize.offer_log l USING (customer_id)
WHERE l.offer_key = 'pp_regulars';
-- ... and nothing of the DBA's.
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh()$$);
SELECT pg_temp.error_of($$CALL personalize.run_refresh()$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.configure_shop('pp_shop.orders', 'pp_shop.order_lines')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh_summaries(now(), NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh_customer_profiles(now(), NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.store_model('propensity', '{}', now(), 0, '{}')$$);
SELECT pg_temp.error_of($$SELECT personalize.schedule_refresh()$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.forget_customer(1)$$);
SELECT pg_temp.error_of($$DELETE FROM personalize.customer_profiles$$);
SELECT pg_temp.error_of($$UPDATE personalize.shop_settings SET value = '1' WHERE key = 'kmeans_k'$$);
RESET ROLE;

-- Reporting reads the profiles and the models' quality, and refreshes nothing.
SET ROLE regress_pp_reporting;
SELECT count(*) = (SELECT count(*) FROM personalize.customer_profile_features) AS profiles_readable
FROM personalize.customer_profiles;
SELECT array_agg(m.name ORDER BY m.name) AS models FROM personalize.models m;
SELECT count(*) > 0 AS runs_readable FROM personalize.refresh_runs;
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh()$$);
SELECT pg_temp.error_of($$TRUNCATE personalize.models$$);
RESET ROLE;

-- The admin edits offers, not the pipeline.
SET ROLE regress_pp_admin;
SELECT pg_temp.error_of($$SELECT * FROM personalize.refresh()$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.configure_shop('pp_shop.orders', 'pp_shop.order_lines')$$);
RESET ROLE;
ROLLBACK;

SELECT count(*) AS roles_left FROM pg_roles WHERE rolname LIKE 'regress_pp%';
DROP SCHEMA pp_shop CASCADE;
SELECT personalize.live_cpp_objects() AS live_objects;

-- Least privilege (docs/security.md): which functions are not EXECUTE to
-- PUBLIC, grant_roles() for an application, a reporting and an admin role,
-- and each role, really switched to with SET ROLE, doing its work and being
-- refused the rest with the exact error. Everything runs in one transaction
-- that is rolled back: no role or catalogue change outlives the test.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;
SET TimeZone = 'UTC';

\i test/sql/include/error_of.sql

SELECT count(*) AS tables FROM personalize.load_demo_shop('priv_shop', 'tiny', 1);

BEGIN;
CREATE ROLE regress_personalize_app;
CREATE ROLE regress_personalize_reporting;
CREATE ROLE regress_personalize_admin;
CREATE ROLE regress_personalize_nobody;

-- A fresh install: no role but the owner may use the schema, and the
-- functions that change the extension's state are not EXECUTE to PUBLIC.
SELECT has_schema_privilege('regress_personalize_nobody', 'personalize', 'USAGE') AS nobody_uses_schema;
SELECT p.oid::regprocedure AS not_executable_by_public
FROM pg_proc p
WHERE p.pronamespace = 'personalize'::regnamespace
  AND NOT has_function_privilege('regress_personalize_nobody', p.oid, 'EXECUTE')
ORDER BY p.oid::regprocedure::text;  -- by name: catalog order differs between a fresh install and an upgrade
SELECT count(*) AS security_definer_functions FROM pg_proc p
WHERE p.pronamespace = 'personalize'::regnamespace AND p.prosecdef;

-- The shop as its owner sets it up: contexts from its tables, one capped
-- offer (the other tests' offers switched off), complements and similarities.
UPDATE personalize.offers SET active = false;
SELECT personalize.configure_offer_context('priv_shop.orders', 'priv_shop.customers');
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, channels, cap_count, cap_interval)
VALUES ('priv_cart', '5% off a cart of 30 GBP', 'cart.total >= 30 GBP', 5, '{web}', 2, '1 day');
CREATE VIEW priv_shop.history AS
SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM priv_shop.orders o JOIN priv_shop.order_lines l USING (order_id) WHERE o.status = 'completed';
CREATE TABLE priv_shop.rules AS
SELECT * FROM personalize.association_rules(
    (SELECT personalize.baskets(l.order_id, l.product_id) FROM priv_shop.order_lines l), min_count => 5, min_len => 1);
CREATE TABLE priv_shop.sims AS
SELECT * FROM personalize.item_similarities(
    (SELECT personalize.baskets(customer_id, item_id) FROM priv_shop.history), 'cosine', 10, 2);
CREATE TABLE priv_shop.scores AS SELECT customer_id, 5 AS r, 5 AS f, 5 AS m FROM priv_shop.customers;

-- The grants, and the shop's own tables each role reads.
SELECT * FROM personalize.grant_roles('regress_personalize_app', 'regress_personalize_reporting',
                                      'regress_personalize_admin');
GRANT USAGE ON SCHEMA priv_shop TO regress_personalize_app, regress_personalize_reporting, regress_personalize_admin;
GRANT SELECT ON priv_shop.orders, priv_shop.customers, priv_shop.history, priv_shop.rules, priv_shop.sims,
                 priv_shop.planted_pairs
    TO regress_personalize_app;
GRANT SELECT ON priv_shop.orders TO regress_personalize_reporting;
GRANT SELECT ON priv_shop.orders, priv_shop.customers, priv_shop.scores TO regress_personalize_admin;
-- Only the owner (or a superuser) grants.
SET ROLE regress_personalize_nobody;
SELECT pg_temp.error_of($$SELECT personalize.grant_roles('regress_personalize_nobody')$$);
RESET ROLE;

-- The application serves every use case without owning a table.
SET ROLE regress_personalize_app;
-- Three decisions for one customer: the cap (2 a day) holds; each shown offer is logged.
CREATE TEMP TABLE app_decisions AS
SELECT d.decision_id, d.offer_key FROM personalize.decide_offer(1, '{"total": 45.00, "items": [3]}', '{}', 'web') d;
INSERT INTO app_decisions
SELECT d.decision_id, d.offer_key FROM personalize.decide_offer(1, '{"total": 45.00, "items": [3]}', '{}', 'web') d;
INSERT INTO app_decisions
SELECT d.decision_id, d.offer_key FROM personalize.decide_offer(1, '{"total": 45.00, "items": [3]}', '{}', 'web') d;
SELECT count(*) AS shown, count(*) FILTER (WHERE offer_key = 'priv_cart') AS priv_cart_shown FROM app_decisions;
SELECT count(*) AS logged FROM personalize.offer_log l WHERE l.decision_id IN (SELECT decision_id FROM app_decisions);
SELECT offer_key FROM personalize.eligible_offers('{"cart": {"total": 45.00}, "currency": "GBP"}', 'web');
SELECT count(*) > 0 AS explained
FROM personalize.explain_offer('priv_cart', '{"customer": {"id": 1}, "cart": {"total": 45.00}, "currency": "GBP"}', 'web');
SELECT count(*) > 0 AS cart_suggestions
FROM personalize.cart_suggestions(ARRAY(SELECT antecedent FROM priv_shop.planted_pairs ORDER BY 1 LIMIT 1),
                                  'priv_shop.rules', 3);
SELECT count(*) AS suggestions, count(*) FILTER (WHERE source = 'item-item') AS item_item
FROM personalize.suggestions(8, 'priv_shop.history', 'priv_shop.sims', 3);
SELECT personalize.segment('rf_grid', 5, 5) AS segment;
SELECT personalize.version() = personalize.version() AS pure_functions;
SELECT pg_temp.error_of($$UPDATE personalize.offers SET priority = 1$$);
SELECT pg_temp.error_of($$DELETE FROM personalize.offer_log$$);
SELECT pg_temp.error_of($$UPDATE personalize.segment_rules SET priority = 1 WHERE map = 'rf_grid'$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_offer_context('priv_shop.orders')$$);
SELECT pg_temp.error_of($$SELECT personalize.reset_segment_map('rf_grid')$$);
RESET ROLE;

-- Reporting reads the results, and changes nothing.
SET ROLE regress_personalize_reporting;
SELECT count(*) AS priv_cart_decisions FROM personalize.offer_log WHERE offer_key = 'priv_cart';
SELECT offer_key, treatment_customers, holdout_customers FROM personalize.offer_uplift() WHERE offer_key = 'priv_cart';
SELECT count(*) AS segment_rules FROM personalize.segment_rules WHERE map = 'rf_grid';
SELECT count(*) AS history_rows FROM personalize.segment_history WHERE map = 'priv_map';
SELECT pg_temp.error_of($$SELECT * FROM personalize.decide_offer(1)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off) VALUES ('priv_x', 'true', 1)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offer_log (decided_at, customer_id, offer_key, experiment_key, channel, holdout, reason)
                          VALUES (now(), 1, 'priv_cart', 'priv_cart', 'web', false, 'forged')$$);
SELECT pg_temp.error_of($$SELECT personalize.snapshot_segments('rf_grid', '2026-01-01', 'priv_shop.scores')$$);
RESET ROLE;

-- The admin edits offers and segment maps and configures contexts.
SET ROLE regress_personalize_admin;
INSERT INTO personalize.offers (offer_key, rule, percent_off) VALUES ('priv_admin', 'cart.total >= 50 GBP', 10);
UPDATE personalize.offers SET priority = 5 WHERE offer_key = 'priv_admin';
DELETE FROM personalize.offers WHERE offer_key = 'priv_admin';
UPDATE personalize.segment_rules SET segment = 'Top' WHERE map = 'rf_grid' AND segment = 'Champions';
SELECT personalize.segment('rf_grid', 5, 5) AS edited_segment;
SELECT personalize.reset_segment_map('rf_grid') AS rules_removed;
INSERT INTO personalize.segment_rules (map, segment, priority, r_min, r_max, f_min, f_max)
VALUES ('priv_map', 'Everyone', 1, 1, 5, 1, 5);
SELECT personalize.snapshot_segments('priv_map', '2026-01-01', 'priv_shop.scores') = (SELECT count(*) FROM priv_shop.customers)
    AS snapshot_of_every_customer;
SELECT personalize.configure_offer_context('priv_shop.orders', 'priv_shop.customers');
SELECT pg_temp.error_of($$SELECT * FROM personalize.decide_offer(1)$$);
SELECT pg_temp.error_of($$DELETE FROM personalize.offer_log$$);
RESET ROLE;

-- A role without grants cannot reach the schema at all.
SET ROLE regress_personalize_nobody;
SELECT pg_temp.error_of($$SELECT personalize.version()$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.offers$$);
RESET ROLE;
ROLLBACK;

SELECT count(*) AS roles_left FROM pg_roles WHERE rolname LIKE 'regress_personalize%';
DROP SCHEMA priv_shop CASCADE;
SELECT personalize.live_cpp_objects() AS live_objects;

-- forget_customer (docs/pipeline.md, "Erasing a customer"): a customer
-- erased from every table of the extension, recorded in
-- forgotten_customers, and left out of every later refresh although the
-- shop's own tables still hold them; NULL and unknown ids.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';

\i test/sql/include/error_of.sql
-- The segment snapshots of the tests before, put back at the end.
CREATE TEMP TABLE saved_segment_history AS SELECT * FROM personalize.segment_history;

SELECT count(*) AS tables FROM personalize.load_demo_shop('forget_shop', 'tiny', 1);
SELECT count(*) AS settings
FROM personalize.configure_shop('forget_shop.orders', 'forget_shop.order_lines', 'forget_shop.customers',
                                'forget_shop.products', 'forget_shop.sessions',
                                settings => '{"as_of": "2026-01-01", "rules_min_count": 5}');
SELECT count(*) AS stages FROM personalize.refresh();

-- The customer to forget: one with orders in several days, a purchase
-- history, a segment snapshot, sessions; plus an offer decision logged.
CREATE TEMP TABLE victim AS
SELECT min(p.customer_id) AS customer_id FROM personalize.customer_profiles p
WHERE p.frequency >= 2
  AND EXISTS (SELECT 1 FROM forget_shop.sessions s WHERE s.customer_id = p.customer_id AND s.converted)
  -- not one whose decisions other tests logged (forgetting erases them)
  AND NOT EXISTS (SELECT 1 FROM personalize.offer_log l WHERE l.customer_id = p.customer_id)
  AND NOT EXISTS (SELECT 1 FROM personalize.offer_customer_lock k WHERE k.customer_id = p.customer_id);
INSERT INTO personalize.offer_log (decided_at, customer_id, offer_key, experiment_key, channel, holdout, reason)
SELECT '2026-01-01', customer_id, 'forget_test', 'forget_test', 'web', false, 'test' FROM victim;
INSERT INTO personalize.offer_customer_lock SELECT customer_id, 1, '2026-01-01' FROM victim;

-- Where the extension keeps them (all in the tables below).
CREATE TEMP VIEW kept AS
SELECT (SELECT count(*) FROM personalize.customer_profiles t, victim v WHERE t.customer_id = v.customer_id) AS profiles,
       (SELECT count(*) FROM personalize.purchase_history t, victim v WHERE t.customer_id = v.customer_id) AS purchase_history,
       (SELECT count(*) FROM personalize.segment_history t, victim v WHERE t.customer_id = v.customer_id) AS segment_history,
       (SELECT count(*) FROM personalize.offer_log t, victim v WHERE t.customer_id = v.customer_id) AS offer_log,
       (SELECT count(*) FROM personalize.offer_customer_lock t, victim v WHERE t.customer_id = v.customer_id) AS offer_lock,
       (SELECT count(*) FROM personalize.popular_items) AS popular_rows;
SELECT profiles, purchase_history > 0 AS has_history, segment_history, offer_log, offer_lock FROM kept;
CREATE TEMP TABLE before_forget AS
SELECT (SELECT count(*) FROM personalize.customer_profiles) AS profiles,
       (SELECT sum(orders) FROM personalize.customer_profiles) AS orders,
       (SELECT trained_on FROM personalize.models WHERE name = 'propensity') AS sessions,
       (SELECT trained_on FROM personalize.models WHERE name = 'lifetime') AS lifetime_customers;

-- Forget: the rows erased per table.
SELECT f.erased_from, f.rows > 0 AS erased
FROM victim v, personalize.forget_customer(v.customer_id) f;
SELECT profiles, purchase_history, segment_history, offer_log, offer_lock FROM kept;
SELECT count(*) AS recorded, bool_and(forgotten_at IS NOT NULL) AS when_kept
FROM personalize.forgotten_customers f JOIN victim v USING (customer_id);

-- The shop's own tables still hold the customer; a refresh leaves them out.
SELECT (SELECT count(*) FROM forget_shop.customers c, victim v WHERE c.customer_id = v.customer_id) AS shop_customers_row,
       (SELECT count(*) > 0 FROM forget_shop.orders o, victim v WHERE o.customer_id = v.customer_id) AS shop_orders_kept;
SELECT count(*) AS stages FROM personalize.refresh();
SELECT profiles, purchase_history, segment_history, offer_log, offer_lock FROM kept;
SELECT (SELECT count(*) FROM personalize.customer_profiles) = b.profiles - 1 AS one_profile_fewer,
       (SELECT sum(orders) FROM personalize.customer_profiles)
           = b.orders - (SELECT count(*) FROM forget_shop.orders o, victim v
                         WHERE o.customer_id = v.customer_id AND o.status = 'completed' AND o.ordered_at <= '2026-01-01')
           AS their_orders_left_out,
       (SELECT trained_on FROM personalize.models WHERE name = 'lifetime') = b.lifetime_customers - 1 AS lifetime_without_them,
       (SELECT trained_on FROM personalize.models WHERE name = 'propensity')
           = b.sessions - (SELECT count(*) FROM forget_shop.sessions s, victim v
                           WHERE s.customer_id = v.customer_id AND s.started_at <= '2026-01-01')
           AS their_sessions_left_out
FROM before_forget b;
-- The models equal those of a shop without the customer.
CREATE TEMP TABLE with_forgetting AS SELECT name, parameters, trained_on FROM personalize.models;
CREATE TEMP TABLE with_forgetting_rules AS SELECT * FROM personalize.product_rules;
CREATE TEMP TABLE with_forgetting_sims AS SELECT * FROM personalize.item_similarities;
CREATE TEMP TABLE with_forgetting_profiles AS
SELECT customer_id, segment, r, f, m, cluster, round(p_alive::numeric, 9) AS p_alive, round(clv::numeric, 6) AS clv
FROM personalize.customer_profiles;
SELECT customer_id AS victim_id FROM victim \gset
CREATE VIEW forget_shop.orders_without AS SELECT * FROM forget_shop.orders WHERE customer_id <> :victim_id;
CREATE VIEW forget_shop.customers_without AS SELECT * FROM forget_shop.customers WHERE customer_id <> :victim_id;
CREATE VIEW forget_shop.sessions_without AS
SELECT * FROM forget_shop.sessions WHERE customer_id IS DISTINCT FROM :victim_id;
DELETE FROM personalize.forgotten_customers;
SELECT count(*) AS settings
FROM personalize.configure_shop('forget_shop.orders_without', 'forget_shop.order_lines', 'forget_shop.customers_without',
                                'forget_shop.products', 'forget_shop.sessions_without');
SELECT count(*) AS stages FROM personalize.refresh(full => true);
SELECT (SELECT count(*) FROM (SELECT name, parameters, trained_on FROM personalize.models
                              EXCEPT SELECT * FROM with_forgetting) x) AS models_differing,
       (SELECT count(*) FROM (SELECT * FROM personalize.product_rules EXCEPT SELECT * FROM with_forgetting_rules) x)
           AS rules_differing,
       (SELECT count(*) FROM (SELECT * FROM personalize.item_similarities EXCEPT SELECT * FROM with_forgetting_sims) x)
           AS similarities_differing,
       (SELECT count(*) FROM (SELECT customer_id, segment, r, f, m, cluster, round(p_alive::numeric, 9),
                                     round(clv::numeric, 6)
                              FROM personalize.customer_profiles
                              EXCEPT SELECT * FROM with_forgetting_profiles) x) AS profiles_differing;
INSERT INTO personalize.forgotten_customers (customer_id) SELECT customer_id FROM victim;

-- Forgetting again erases nothing more; an unknown id is recorded (a
-- customer not refreshed yet stays out); NULL is an error.
SELECT f.erased_from, f.rows FROM victim v, personalize.forget_customer(v.customer_id) f;
SELECT erased_from, rows FROM personalize.forget_customer(-42);
SELECT count(*) AS unknown_recorded FROM personalize.forgotten_customers WHERE customer_id = -42;
SELECT pg_temp.error_of($$SELECT * FROM personalize.forget_customer(NULL)$$);
-- Not EXECUTE to PUBLIC.
SELECT has_function_privilege('public', 'personalize.forget_customer(bigint)', 'EXECUTE') AS public_may_forget;

DELETE FROM personalize.offer_log WHERE offer_key = 'forget_test';
DELETE FROM personalize.forgotten_customers;
DELETE FROM personalize.segment_history;
INSERT INTO personalize.segment_history SELECT * FROM saved_segment_history;
DELETE FROM personalize.shop_settings;
DELETE FROM personalize.shop_source;
DELETE FROM personalize.offer_context_source;
DROP SCHEMA forget_shop CASCADE;

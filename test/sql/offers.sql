-- Offers: the catalogue and its constraints, contexts built from the shop's
-- tables, eligible_offers / explain_offer, decide_offer with priority,
-- stacking, frequency caps and holdout groups, the uplift report, and the
-- five example offers of docs/offers.md on the tiny demo shop.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

\i test/sql/include/error_of.sql

SELECT count(*) AS tables FROM personalize.load_demo_shop('shop', 'tiny', 1);

-- Model outputs per customer, as a DBA's nightly refresh would store them:
-- RFM segment, P(alive) and 12-month CLV from BG/NBD + Gamma-Gamma.
CREATE TABLE shop.customer_features AS
WITH s AS (
    SELECT customer_id, (personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 week')).*
    FROM shop.orders WHERE status = 'completed' GROUP BY customer_id
), m AS (
    SELECT personalize.bgnbd_fit(frequency, recency, age) AS bgnbd,
           personalize.gamma_gamma_fit(frequency, monetary) AS spend,
           personalize.rfm_breakpoints(age - recency, frequency, total) AS bp
    FROM s
)
SELECT s.customer_id,
       personalize.segment('rf_grid', sc.r, sc.f) AS segment, sc.r, sc.f, sc.m,
       -- Rounded as a report would store them; the fits' last digits differ between machines.
       round(personalize.probability_alive(m.bgnbd, s.frequency, s.recency, s.age)::numeric, 6)::float8 AS p_alive,
       round(personalize.customer_lifetime_value(m.bgnbd, m.spend, s.frequency, s.recency, s.age, s.monetary, 12, 4.345, 0.01)::numeric, 2)::float8 AS clv,
       CASE WHEN s.total > 500 THEN 'gold' ELSE 'standard' END AS loyalty_tier
FROM s, m, personalize.rfm_score(m.bp, s.age - s.recency, s.frequency, s.total) sc;

-- Configuration errors name the argument.
SELECT pg_temp.error_of($$SELECT personalize.decide_offer(1)$$);
-- Before any configuration, building contexts says what is missing.
SELECT pg_temp.error_of($$SELECT * FROM personalize.offer_contexts('2026-01-01')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_offer_context(NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_offer_context('shop.products')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_offer_context('shop.orders', currency => 'pounds')$$);
CREATE TABLE shop.clashing_features AS SELECT customer_id, 1 AS orders FROM shop.customers;
SELECT pg_temp.error_of($$SELECT personalize.configure_offer_context('shop.orders', features => 'shop.clashing_features')$$);
SELECT personalize.configure_offer_context('shop.orders', 'shop.customers', 'shop.customer_features', 'GBP');

-- The context of a customer: history, customer table and model outputs
-- (a column named like a rule field becomes that field, others attributes).
SELECT jsonb_pretty(context) FROM personalize.offer_contexts('2026-01-01') WHERE customer_id = 7;
SELECT count(*) AS contexts, count(*) FILTER (WHERE (context #>> '{customer,orders}')::int = 0) AS without_orders
FROM personalize.offer_contexts('2026-01-01');

-- The catalogue's constraints.
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off) VALUES ('bad_rule', 'cart.total >= 30', 10)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off) VALUES ('Bad Key', 'true', 10)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule) VALUES ('no_reward', 'true')$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off) VALUES ('too_much', 'true', 120)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, amount_off) VALUES ('no_currency', 'true', 5)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off, channels) VALUES ('typo', 'true', 5, '{emial}')$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off, cap_count) VALUES ('half_cap', 'true', 5, 1)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off, holdout_share) VALUES ('all_out', 'true', 5, 1)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off, valid_from, valid_until)
                          VALUES ('backwards', 'true', 5, '2026-02-01', '2026-01-01')$$);

-- The five example offers of docs/offers.md.
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, free_shipping, channels, priority,
                                holdout_share, experiment_key) VALUES
    ('first_order', '10% off and free shipping on a first order of £30 or more',
     'customer.orders = 0 and cart.total >= 30 GBP', 10, true, '{web,app}', 10, 0.1, 'first_order_2026');
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, channels, priority, cap_count, cap_interval,
                                holdout_share) VALUES
    ('win_back', '10% to come back after 90 days without an order',
     'customer.orders > 0 and days_since(customer.last_order_at) > 90 and customer.p_alive < 0.5',
     10, '{email,web}', 20, 1, '30 days', 0.2);
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, channels, priority, cap_count, cap_interval) VALUES
    ('exit_save', '5% off if you complete your order now',
     'session.exit_intent and cart.items > 0 and cart.total >= 100 GBP and not session.offer_shown
      and coalesce(session.propensity, 0) < 0.3', 5, '{exit}', 5, 1, '1 day');
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, reward_item, channels, priority, stacking)
SELECT 'protect_your_phone', '15% off a screen protector with your phone case',
       format('contains(cart.items, %s) and not contains(cart.items, %s)', case_id, protector_id),
       15, protector_id, '{web,product_page}', 50, 'stackable'
FROM (SELECT (SELECT product_id FROM shop.products WHERE name = 'Phone case 1') AS case_id,
             (SELECT product_id FROM shop.products WHERE name = 'Screen protector 1') AS protector_id) p;
INSERT INTO personalize.offers (offer_key, description, rule, free_shipping, channels, priority, stacking, cap_count,
                                cap_interval) VALUES
    ('loyal_free_shipping', 'Free shipping this week for our best customers',
     'customer.email_opt_in and customer.segment in [''Champions'', ''Loyal Customers'', ''Potential Loyalists'']',
     true, '{email,web}', 30, 'stackable', 1, '7 days');
SELECT offer_key, priority, stacking, channels, rule FROM personalize.offers ORDER BY priority;

-- Eligibility for hand-made contexts.
CREATE TEMP TABLE ctx (name text PRIMARY KEY, context jsonb);
INSERT INTO ctx VALUES
    ('new shopper, £42.50 cart', '{"customer": {"orders": 0}, "cart": {"total": 42.50, "items": [47]}, "currency": "GBP"}'),
    ('new shopper, £12 cart',    '{"customer": {"orders": 0}, "cart": {"total": 12.00, "items": [1]}, "currency": "GBP",
                                   "now": "2025-12-01T00:00:00Z"}'),
    ('lapsed, unlikely alive',   '{"customer": {"orders": 4, "last_order_at": "2025-06-01", "p_alive": 0.2, "email_opt_in": true,
                                   "segment": "At Risk"}, "now": "2025-12-01T00:00:00Z"}'),
    ('loyal on exit, big cart',  '{"customer": {"orders": 9, "last_order_at": "2025-11-20", "p_alive": 0.95, "email_opt_in": true,
                                   "segment": "Champions"}, "cart": {"total": "180.00 GBP", "items": [47, 12]},
                                   "session": {"exit_intent": true, "offer_shown": false, "propensity": 0.1},
                                   "now": "2025-12-01T00:00:00Z"}'),
    ('exit, likely buyer',       '{"cart": {"total": "180.00 GBP", "items": [12]}, "session": {"exit_intent": true, "offer_shown": false,
                                   "propensity": 0.8}, "currency": "GBP"}'),
    ('exit, already shown',      '{"cart": {"total": "180.00 GBP", "items": [12]}, "session": {"exit_intent": true, "offer_shown": true},
                                   "now": "2025-12-01T00:00:00Z"}');
SELECT c.name, e.offer_key, e.percent_off, e.free_shipping, e.reward_item IS NOT NULL AS on_an_item, e.reason
FROM ctx c CROSS JOIN LATERAL personalize.eligible_offers(c.context) e
ORDER BY c.name, e.priority;
-- The exit offer goes to a big cart that would likely be left: low purchase
-- propensity (docs/propensity.md), no offer shown yet in the session.
SELECT c.name, EXISTS (SELECT 1 FROM personalize.eligible_offers(c.context, 'exit') e WHERE e.offer_key = 'exit_save')
           AS gets_exit_offer
FROM ctx c WHERE c.name LIKE '%exit%' ORDER BY c.name;
-- Per channel.
SELECT c.name, array_agg(e.offer_key ORDER BY e.priority) AS email_offers
FROM ctx c CROSS JOIN LATERAL personalize.eligible_offers(c.context, 'email') e GROUP BY c.name ORDER BY c.name;
SELECT count(*) AS exit_offers_for_the_small_cart
FROM personalize.eligible_offers((SELECT context FROM ctx WHERE name = 'new shopper, £12 cart'), 'exit');

-- Bad contexts and arguments.
SELECT pg_temp.error_of($$SELECT * FROM personalize.eligible_offers(NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.eligible_offers('[1, 2]')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.eligible_offers('{}', 'emial')$$);
-- A EUR cart: the offers whose rules are in GBP do not apply (a WARNING once
-- per session and offer), the others are still decided.
SELECT offer_key FROM personalize.eligible_offers('{"cart": {"total": {"amount": 50, "currency": "EUR"}, "items": [47]}, "customer": {"orders": 0}}')
ORDER BY offer_key;
SELECT pg_temp.error_of($$SELECT * FROM personalize.eligible_offers('{"customer": {"orders": "zero"}}')$$);

-- Why didn't I get the discount? Each check and condition with what it saw.
SELECT step, depth, "check", condition, value, result
FROM personalize.explain_offer('first_order', (SELECT context FROM ctx WHERE name = 'new shopper, £12 cart'), 'web');
SELECT step, "check", condition, value, result
FROM personalize.explain_offer('exit_save', (SELECT context FROM ctx WHERE name = 'exit, already shown'), 'web');
SELECT pg_temp.error_of($$SELECT * FROM personalize.explain_offer('no_such_offer', '{}')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.explain_offer(NULL, '{}')$$);

-- Decisions. Customers of the tiny shop by what they should get.
CREATE TEMP TABLE who AS
SELECT min(c.customer_id) FILTER (WHERE NOT EXISTS (SELECT 1 FROM shop.orders o WHERE o.customer_id = c.customer_id AND o.status = 'completed')
                                  AND personalize.holdout_draw(c.customer_id, 'first_order_2026') >= 0.1) AS new_treated,
       min(c.customer_id) FILTER (WHERE NOT EXISTS (SELECT 1 FROM shop.orders o WHERE o.customer_id = c.customer_id AND o.status = 'completed')
                                  AND personalize.holdout_draw(c.customer_id, 'first_order_2026') < 0.1) AS new_held_out,
       min(f.customer_id) FILTER (WHERE f.p_alive < 0.5 AND personalize.holdout_draw(f.customer_id, 'win_back') >= 0.2
                                  AND NOT coalesce(c.email_opt_in AND f.segment IN ('Champions', 'Loyal Customers', 'Potential Loyalists'), false))
           AS lapsed,
       min(f.customer_id) FILTER (WHERE c.email_opt_in AND f.segment = 'Champions' AND f.p_alive >= 0.5) AS champion,
       max(f.customer_id) FILTER (WHERE c.email_opt_in AND f.segment = 'Champions' AND f.p_alive >= 0.5) AS champion2,
       (SELECT max(i) FROM generate_series(-100, -10) i WHERE personalize.holdout_draw(i, 'first_order_2026') >= 0.1) AS stranger
FROM shop.customers c LEFT JOIN shop.customer_features f USING (customer_id);
SELECT new_treated IS NOT NULL AND new_held_out IS NOT NULL AND lapsed IS NOT NULL AND champion < champion2 AND stranger IS NOT NULL AS found_all FROM who;

-- A first-time shopper with a £45 cart gets the first-order offer; the log has it.
SELECT offer_key, percent_off, free_shipping, reason
FROM who, personalize.decide_offer(who.new_treated, '{"total": 45.00, "items": [3]}', '{"id": "s-1"}', 'web');
-- The same customer in the control group of first_order_2026: nothing shown, the holdout logged.
SELECT count(*) AS shown FROM who, personalize.decide_offer(who.new_held_out, '{"total": 45.00, "items": [3]}', '{}', 'web');
SELECT l.offer_key, l.holdout, l.channel, l.session_id, l.customer_id = w.new_treated AS treated_customer
FROM personalize.offer_log l, who w ORDER BY l.decision_id;
-- The holdout is stable: the same answer on every call.
SELECT count(*) AS shown_on_a_second_call FROM who, personalize.decide_offer(who.new_held_out, '{"total": 45.00}', '{}', 'web');

-- Win-back, capped at once per 30 days: the second call gets nothing more.
SELECT offer_key FROM who, personalize.decide_offer(who.lapsed, '{}', '{}', 'email');
SELECT count(*) AS second_call FROM who, personalize.decide_offer(who.lapsed, '{}', '{}', 'email');
SELECT step, "check", value, result FROM who, personalize.explain_offer('win_back',
    (SELECT context FROM personalize.offer_contexts() c WHERE c.customer_id = who.lapsed), 'email')
WHERE "check" IN ('frequency cap', 'holdout', 'eligible');

-- Priority and stacking: on exit with a big cart, the exclusive exit offer
-- (priority 5) is shown alone although the champion's free shipping and
-- the bundle hold too; on the web the two stackable ones come together,
-- by priority; max_offers 1 keeps the first.
SELECT offer_key FROM who, personalize.decide_offer(who.champion, '{"total": 150.00, "items": [47, 5]}',
                                                    '{"exit_intent": true, "offer_shown": false}', 'exit');
SELECT offer_key FROM who, personalize.decide_offer(who.champion, '{"total": 20.00, "items": [47]}', '{}', 'web');
SELECT offer_key FROM who, personalize.decide_offer(who.champion2, '{"total": 20.00, "items": [47]}', '{}', 'web', 1);
-- An unknown customer is a customer without orders.
SELECT offer_key FROM who, personalize.decide_offer(who.stranger, '{"total": 31.00}', '{}', 'web');

-- Bad arguments.
SELECT pg_temp.error_of($$SELECT personalize.decide_offer(NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.decide_offer(1, '[]')$$);
SELECT pg_temp.error_of($$SELECT personalize.decide_offer(1, '{}', '"exit"')$$);
SELECT pg_temp.error_of($$SELECT personalize.decide_offer(1, '{}', '{}', 'fax')$$);
SELECT pg_temp.error_of($$SELECT personalize.decide_offer(1, '{}', '{}', 'web', -1)$$);
-- A context value a rule reads must have its field's type (values no rule reads are not looked at).
SELECT pg_temp.error_of($$SELECT personalize.decide_offer(-5, '{"total": "lots"}', '{}', 'web')$$);

-- Batch: every opted-in customer's e-mail offers (the e-mail campaign).
SELECT e.offer_key, count(*) AS customers
FROM personalize.offer_contexts('2026-01-01') c
CROSS JOIN LATERAL personalize.eligible_offers(c.context, 'email') e
WHERE (c.context #>> '{customer,email_opt_in}')::boolean
GROUP BY e.offer_key ORDER BY e.offer_key;

-- The batch idiom for many distinct contexts: the call in the select list
-- runs in a ProjectSet node (no Memoize hashing every context) and gives the
-- same rows, with every column from one call.
EXPLAIN (COSTS OFF)
SELECT c.customer_id, (personalize.eligible_offers(c.context, 'email')).* FROM personalize.offer_contexts('2026-01-01') c;
SELECT count(*) AS differing_rows FROM (
    (SELECT c.customer_id, e.* FROM personalize.offer_contexts('2026-01-01') c
     CROSS JOIN LATERAL personalize.eligible_offers(c.context, 'email') e
     EXCEPT ALL
     SELECT c.customer_id, (personalize.eligible_offers(c.context, 'email')).* FROM personalize.offer_contexts('2026-01-01') c)
    UNION ALL
    (SELECT c.customer_id, (personalize.eligible_offers(c.context, 'email')).* FROM personalize.offer_contexts('2026-01-01') c
     EXCEPT ALL
     SELECT c.customer_id, e.* FROM personalize.offer_contexts('2026-01-01') c
     CROSS JOIN LATERAL personalize.eligible_offers(c.context, 'email') e)) d;

-- The same in a parallel plan gives the same rows.
CREATE TEMP TABLE contexts AS SELECT * FROM personalize.offer_contexts('2026-01-01');
CREATE TABLE shop.contexts_big AS SELECT c.* FROM contexts c, generate_series(1, 20);
ANALYZE shop.contexts_big;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT e.offer_key, count(*) FROM shop.contexts_big c, personalize.eligible_offers(c.context, 'email') e GROUP BY 1;
CREATE TEMP TABLE parallel_result AS
SELECT e.offer_key, count(*) AS n FROM shop.contexts_big c, personalize.eligible_offers(c.context, 'email') e GROUP BY 1;
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS differing_rows FROM (
    (SELECT e.offer_key, count(*) AS n FROM shop.contexts_big c, personalize.eligible_offers(c.context, 'email') e GROUP BY 1
     EXCEPT SELECT * FROM parallel_result)
    UNION ALL
    (SELECT * FROM parallel_result
     EXCEPT SELECT e.offer_key, count(*) FROM shop.contexts_big c, personalize.eligible_offers(c.context, 'email') e GROUP BY 1)) d;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;

-- Uplift: 40 treated and 40 held-out customers, 10 vs 4 of them converted
-- within 7 days (£50 each), one conversion outside the window.
DELETE FROM personalize.offer_log;
INSERT INTO personalize.offer_log (decided_at, customer_id, offer_key, experiment_key, channel, holdout, reason)
SELECT '2026-03-01', 100000 + i, 'win_back', 'win_back', 'email', i > 40, 'test' FROM generate_series(1, 80) i;
INSERT INTO shop.orders (order_id, customer_id, ordered_at, status, total, line_count)
SELECT 900000 + i, 100000 + i, '2026-03-03', 'completed', 50, 1 FROM generate_series(1, 80) i WHERE i <= 10 OR i BETWEEN 41 AND 44;
INSERT INTO shop.orders VALUES (900100, 100045, '2026-03-20', 'completed', 50, 1);
SELECT offer_key, treatment_customers, treatment_converted, treatment_conversion, treatment_revenue_per_customer,
       holdout_customers, holdout_converted, holdout_conversion, holdout_revenue_per_customer,
       conversion_uplift, revenue_uplift, round(z::numeric, 4) AS z, round(p_value::numeric, 4) AS p_value
FROM personalize.offer_uplift();
SELECT pg_temp.error_of($$SELECT * FROM personalize.offer_uplift(attribution => '-1 day')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.offer_uplift(attribution => NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.offer_uplift(NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.offer_contexts(NULL)$$);

-- pg_dump keeps the catalogue, the log and the configuration.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) t(oid) JOIN pg_class c ON c.oid = t.oid
WHERE e.extname = 'pg_personalize' AND c.relname LIKE 'offer%' ORDER BY 1;

SELECT personalize.live_cpp_objects() AS live_cpp_objects;

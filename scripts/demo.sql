-- The pg_personalize showcase, run by scripts/demo.sh against a throwaway
-- cluster. Each pillar adds its part here.
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION pg_personalize;

\echo
\echo '== The demo shop: a deterministic web shop generated in C++ (size demo, seed 42) =='
SELECT table_name AS "table", row_count AS "rows" FROM personalize.load_demo_shop('shop', 'demo', 42);

\echo
\echo '== Customer summary: one aggregate call per customer (the input of RFM and lifetime models) =='
\echo 'Repeat purchases (frequency) across customers who ordered, as of 2026-01-01:'
CREATE TEMP TABLE summary AS
SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total::float8, '2026-01-01', '1 week')).*
FROM shop.orders o
WHERE o.status <> 'cancelled'
GROUP BY o.customer_id;
SELECT CASE WHEN frequency >= 10 THEN '10+' ELSE frequency::text END AS repeat_purchases,
       count(*) AS customers,
       round(avg(total)::numeric, 2) AS "avg spent £",
       round(avg(age)::numeric, 1) AS "avg weeks since first order"
FROM summary
GROUP BY 1 ORDER BY min(frequency);

\echo
\echo 'The five biggest spenders (recency and age in weeks, monetary = mean repeat order £):'
SELECT customer_id, orders, frequency, round(recency::numeric, 1) AS recency, round(age::numeric, 1) AS age,
       round(monetary::numeric, 2) AS monetary, round(total::numeric, 2) AS total
FROM summary ORDER BY total DESC, customer_id LIMIT 5;

\echo
\echo 'Signed up but never ordered (the first-order offer audience):'
SELECT count(*) AS customers_without_orders
FROM shop.customers c
WHERE NOT EXISTS (SELECT 1 FROM shop.orders o WHERE o.customer_id = c.customer_id AND o.status <> 'cancelled');

\echo
\echo '== Customer lifetime: BG/NBD and Gamma-Gamma fitted in C++ on those summaries =='
CREATE TEMP TABLE models AS
SELECT personalize.bgnbd_fit(frequency, recency, age) AS bgnbd,
       personalize.gamma_gamma_fit(frequency, monetary) AS spend
FROM summary;
SELECT 'BG/NBD' AS model, bgnbd->'converged' AS converged,
       (SELECT string_agg(key || ' ' || round(value::numeric, 3), ', ') FROM jsonb_each_text(bgnbd->'params')) AS parameters
FROM models
UNION ALL
SELECT 'Gamma-Gamma', spend->'converged',
       (SELECT string_agg(key || ' ' || round(value::numeric, 3), ', ') FROM jsonb_each_text(spend->'params'))
FROM models;

\echo
\echo 'Win-back list: no order for 90+ days, ranked by P(alive) x 12-month CLV (docs/lifetime.md):'
SELECT customer_id, days_since_last_order AS "days quiet", round(p_alive::numeric, 2) AS "P(alive)",
       round(clv::numeric, 0) AS "CLV 12m £",
       CASE WHEN p_alive >= 0.5 THEN 'A: likely to come back'
            WHEN p_alive >= 0.2 THEN 'B: worth an offer'
            ELSE 'C: long shot' END AS tier
FROM (SELECT s.customer_id, round((s.age - s.recency) * 7) AS days_since_last_order,
             personalize.probability_alive(m.bgnbd, s.frequency, s.recency, s.age) AS p_alive,
             personalize.customer_lifetime_value(m.bgnbd, m.spend, s.frequency, s.recency, s.age, s.monetary,
                                                 12, 4.345, 0.01) AS clv
      FROM summary s, models m
      WHERE (s.age - s.recency) * 7 >= 90) lapsed
ORDER BY p_alive * clv DESC, customer_id
LIMIT 5;

\echo
\echo '== RFM segments (scores 1..5 by population quantiles, the rf_grid map) =='
CREATE TEMP TABLE rfm AS
SELECT s.customer_id, sc.r, sc.f, sc.m,
       personalize.segment('rf_grid', sc.r, sc.f) AS segment
FROM summary s,
     (SELECT personalize.rfm_breakpoints(age - recency, frequency, total) AS b FROM summary) bp,
     personalize.rfm_score(bp.b, s.age - s.recency, s.frequency, s.total) sc;
SELECT segment, count(*) AS customers FROM rfm GROUP BY segment ORDER BY customers DESC;

\echo
\echo '== Segments by k-means on log-scaled frequency, recency and spend (k = 4, seed 7) =='
CREATE TEMP TABLE clusters AS
SELECT personalize.kmeans(ARRAY[frequency, age - recency, total], 4, 7, 'log1p_zscore') AS model FROM summary;
SELECT a.cluster, count(*) AS customers, round(avg(s.frequency), 1) AS "avg repeat purchases",
       round(avg(s.age - s.recency)::numeric, 1) AS "avg weeks quiet", round(avg(s.total)::numeric, 0) AS "avg spent £"
FROM summary s, clusters c, personalize.kmeans_assign(ARRAY[s.frequency, s.age - s.recency, s.total], c.model) a
GROUP BY a.cluster ORDER BY a.cluster;

\echo
\echo 'A few customers with their scores, segment and cluster:'
SELECT r.customer_id, r.r, r.f, r.m, r.segment, a.cluster
FROM rfm r JOIN summary s USING (customer_id), clusters c,
     personalize.kmeans_assign(ARRAY[s.frequency, s.age - s.recency, s.total], c.model) a
WHERE r.customer_id IN (8609, 536, 42, 1000, 5000)
ORDER BY r.customer_id;

\echo
\echo '== Complementary products: association rules mined in C++ from 554k order lines =='
SET personalize.memory_limit = '1GB';
CREATE TEMP TABLE product_rules AS  -- in production: a materialized view, refreshed by pg_cron
SELECT r.*
FROM personalize.association_rules(
    (SELECT personalize.baskets(l.order_id, l.product_id)
     FROM shop.order_lines l JOIN shop.orders o USING (order_id)
     WHERE o.status = 'completed'),
    min_count => 20, min_len => 1) r;
CREATE UNIQUE INDEX ON product_rules (antecedent, consequent);
CREATE INDEX ON product_rules (consequent_support DESC) WHERE antecedent = '{}';
ANALYZE product_rules;
SELECT count(*) AS rules, count(*) FILTER (WHERE lift > 10) AS "rules with lift > 10" FROM product_rules;

\echo
\echo 'Bought together: the top complement of some products (planted pairs come out on top):'
SELECT p.name AS product, c.name AS "top complement", round(x.confidence::numeric, 2) AS confidence,
       round(x.lift::numeric, 1) AS lift
FROM shop.products p
CROSS JOIN LATERAL personalize.product_complements('product_rules', p.product_id, 1) x
JOIN shop.products c ON c.product_id = x.complement
WHERE p.name IN ('Phone case 1', 'Printer 1', 'Coffee machine 1', 'Tent 1', 'Razor 1')
ORDER BY p.name;

\echo
\echo 'Cart cross-sell for a cart holding a phone case and a printer:'
SELECT c.name AS suggestion, round(s.score::numeric, 3) AS score, s.source,
       (SELECT string_agg(p.name, ', ') FROM shop.products p WHERE p.product_id = ANY (s.evidence)) AS because
FROM personalize.cart_suggestions(
         (SELECT array_agg(product_id) FROM shop.products WHERE name IN ('Phone case 1', 'Printer 1')),
         'product_rules', 5) s
JOIN shop.products c ON c.product_id = s.item
ORDER BY s.score DESC, c.name;

\echo
\echo 'An empty cart falls back to the best sellers:'
SELECT c.name AS suggestion, s.source
FROM personalize.cart_suggestions('{}', 'product_rules', 3) s JOIN shop.products c ON c.product_id = s.item;

\echo
\echo '== Personal suggestions for e-mail: item-item scores from every customer''s history (docs/suggestions.md) =='
CREATE TEMP VIEW history AS
SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM shop.orders o JOIN shop.order_lines l USING (order_id) WHERE o.status = 'completed';
CREATE TEMP VIEW items AS  -- consumables may be suggested again
SELECT product_id AS item_id, category,
       name ~ '^(Coffee beans|Paper filters|Ink cartridge|Printer paper|Photo paper|Razor blades|Shampoo|Lip balm|Dog treats|Cat litter|Cat food|Seed packet) '
           AS rebuyable
FROM shop.products;
-- The model: each product's 50 most similar products (cosine over the customers who bought them).
CREATE TEMP TABLE item_sims AS
SELECT * FROM personalize.item_similarities((SELECT personalize.baskets(customer_id, item_id) FROM history));
CREATE INDEX ON item_sims (item);
-- The fallback: best sellers of each RFM segment (computed above), and overall.
CREATE TEMP TABLE popular AS SELECT * FROM personalize.popular_items('history', 'rfm', 50);
SELECT count(*) FILTER (WHERE item <> neighbour) AS "product pairs kept",
       (SELECT count(DISTINCT segment) FROM popular) AS "segments with best sellers"
FROM item_sims;

\echo
\echo 'What three customers bought, and their top 4 (at most 2 per category), with why:'
SELECT h.customer_id AS customer, string_agg(DISTINCT p.name, ', ') AS bought
FROM history h JOIN shop.products p ON p.product_id = h.item_id
WHERE h.customer_id IN (103, 122, 338) GROUP BY 1 ORDER BY 1;
SELECT c.customer_id AS customer, s.rank, p.name AS suggestion, p.category, s.source,
       'because you bought ' || (SELECT string_agg(b.name, ', ' ORDER BY array_position(s.because, b.product_id))
                                 FROM shop.products b WHERE b.product_id = ANY (s.because)) AS why
FROM rfm c,
     personalize.suggestions(c.customer_id, 'history', 'item_sims', 4, items => 'items', popular => 'popular',
                             segment => c.segment, category_cap => 2) s
JOIN shop.products p ON p.product_id = s.item_id
WHERE c.customer_id IN (103, 122, 338)
ORDER BY 1, 2;

\echo
\echo 'A visitor without history, in segment "Loyal Customers", gets the segment''s best sellers:'
SELECT s.rank, p.name AS suggestion, s.source
FROM personalize.suggestions(NULL, 'history', 'item_sims', 3, popular => 'popular', segment => 'Loyal Customers') s
JOIN shop.products p ON p.product_id = s.item_id ORDER BY s.rank;

\echo
\echo 'The campaign table: top 5 for every opted-in customer in one call:'
CREATE TEMP VIEW campaign_audience AS
SELECT c.customer_id, r.segment FROM shop.customers c LEFT JOIN rfm r USING (customer_id) WHERE c.email_opt_in;
CREATE TEMP TABLE campaign AS
SELECT * FROM personalize.batch_suggestions('campaign_audience', 'history', 'item_sims', 5,
                                            items => 'items', popular => 'popular', category_cap => 2);
SELECT count(DISTINCT customer_id) AS customers, count(*) AS rows,
       count(*) FILTER (WHERE source = 'item-item') AS "item-item rows",
       count(*) FILTER (WHERE source = 'popular') AS "popular rows",
       count(DISTINCT item_id) AS "distinct products suggested"
FROM campaign;

\echo
\echo '== Offers: rules as data in personalize.offers, evaluated in C++ (docs/offers.md) =='
-- Model outputs per customer, as a nightly refresh would store them.
CREATE TABLE shop.customer_features AS
SELECT s.customer_id, r.segment, r.r, r.f, r.m,
       personalize.probability_alive(m.bgnbd, s.frequency, s.recency, s.age) AS p_alive,
       personalize.customer_lifetime_value(m.bgnbd, m.spend, s.frequency, s.recency, s.age, s.monetary, 12, 4.345, 0.01) AS clv
FROM summary s JOIN rfm r USING (customer_id), models m;
ALTER TABLE shop.customer_features ADD PRIMARY KEY (customer_id);
SELECT personalize.configure_offer_context('shop.orders', 'shop.customers', 'shop.customer_features', 'GBP') \gset
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, free_shipping, reward_item, channels,
                                priority, stacking, cap_count, cap_interval, holdout_share, experiment_key)
SELECT * FROM (VALUES
    ('first_order', '10% off and free shipping on a first order of £30 or more',
     'customer.orders = 0 and cart.total >= 30 GBP', 10, true, NULL::bigint, '{web,app}'::text[], 10, 'exclusive',
     NULL::int, NULL::interval, 0.1::float8, 'first_order_2026'),
    ('win_back', '10% to come back after 90 days without an order',
     'customer.orders > 0 and days_since(customer.last_order_at) > 90 and customer.p_alive < 0.5',
     10, false, NULL, '{email,web}', 20, 'exclusive', 1, '30 days', 0.2, NULL),
    ('exit_save', '5% off if you complete your order now',
     'session.exit_intent and cart.items > 0 and cart.total >= 100 GBP and not session.offer_shown and coalesce(session.propensity, 0) < 0.3',
     5, false, NULL, '{exit}', 5, 'exclusive', 1, '1 day', 0, NULL),
    ('protect_your_phone', '15% off a screen protector with your phone case',
     format('contains(cart.items, %s) and not contains(cart.items, %s)',
            (SELECT product_id FROM shop.products WHERE name = 'Phone case 1'),
            (SELECT product_id FROM shop.products WHERE name = 'Screen protector 1')),
     15, false, (SELECT product_id FROM shop.products WHERE name = 'Screen protector 1'), '{web,product_page}', 50,
     'stackable', NULL, NULL, 0, NULL),
    ('loyal_free_shipping', 'Free shipping this week for our best customers',
     'customer.email_opt_in and customer.segment in [''Champions'', ''Loyal Customers'', ''Potential Loyalists'']',
     NULL, true, NULL, '{email,web}', 30, 'stackable', 1, '7 days', 0, NULL)) v;
SELECT offer_key, channels, priority, stacking, rule FROM personalize.offers ORDER BY priority;

\echo
\echo 'Decisions right now (decide_offer: history + cart + session, holdout, caps, priority, stacking; logged):'
CREATE TEMP TABLE shoppers (who text, customer_id bigint, cart jsonb, session jsonb, channel text);
INSERT INTO shoppers
SELECT 'new visitor, £45 cart', (SELECT min(i) FROM generate_series(100001, 100100) i
                                 WHERE personalize.holdout_draw(i, 'first_order_2026') >= 0.1),
       '{"total": 45.00, "items": [1]}'::jsonb, '{"id": "web-1"}'::jsonb, 'web'
UNION ALL
SELECT 'new visitor in the control group', (SELECT min(i) FROM generate_series(100001, 100100) i
                                            WHERE personalize.holdout_draw(i, 'first_order_2026') < 0.1),
       '{"total": 45.00, "items": [1]}', '{"id": "web-2"}', 'web'
UNION ALL
SELECT 'lapsed customer (e-mail)', (SELECT f.customer_id FROM shop.customer_features f
                                    WHERE f.p_alive < 0.5 AND personalize.holdout_draw(f.customer_id, 'win_back') >= 0.2
                                    ORDER BY f.clv DESC LIMIT 1), '{}', '{}', 'email'
UNION ALL
SELECT 'champion leaving a £180 cart', (SELECT f.customer_id FROM shop.customer_features f JOIN shop.customers c USING (customer_id)
                                        WHERE f.segment = 'Champions' AND c.email_opt_in ORDER BY f.customer_id LIMIT 1),
       '{"total": 180.00, "items": [3, 8]}', '{"exit_intent": true, "offer_shown": false}', 'exit'
UNION ALL
SELECT 'champion with a phone case in the cart', (SELECT f.customer_id FROM shop.customer_features f JOIN shop.customers c USING (customer_id)
                                                  WHERE f.segment = 'Champions' AND c.email_opt_in ORDER BY f.customer_id LIMIT 1),
       jsonb_build_object('total', 24.99, 'items', jsonb_build_array((SELECT product_id FROM shop.products WHERE name = 'Phone case 1'))),
       '{}', 'web';
SELECT s.who, s.channel, d.offer_key,
       concat_ws(' + ', d.percent_off || '% off', CASE WHEN d.free_shipping THEN 'free shipping' END) AS reward, d.reason
FROM shoppers s LEFT JOIN LATERAL personalize.decide_offer(s.customer_id, s.cart, s.session, s.channel) d ON true;
\echo 'What was logged (holdout = control group: logged, not shown, so offer_uplift() can compare):'
SELECT l.customer_id, l.offer_key, l.channel, l.holdout, l.session_id FROM personalize.offer_log l ORDER BY l.decision_id;

\echo
\echo 'Why did the shopper with a £12 cart not get the first-order offer? (explain_offer)'
SELECT "check", condition, value, result
FROM personalize.explain_offer('first_order', '{"customer": {"orders": 0}, "cart": {"total": 12.00}, "currency": "GBP"}', 'web');

\echo
\echo 'The e-mail campaign: every opted-in customer''s eligible offers as of 2026-01-01 (eligible_offers in batch):'
SELECT e.offer_key, count(*) AS customers
FROM personalize.offer_contexts('2026-01-01') c
CROSS JOIN LATERAL personalize.eligible_offers(c.context, 'email') e
WHERE (c.context #>> '{customer,email_opt_in}')::boolean
GROUP BY e.offer_key ORDER BY customers DESC;

\echo
\echo 'Exit offers for real exit-intent sessions: a purchase-propensity model (docs/propensity.md) fitted on the'
\echo 'sessions before December scores each one; exit_save goes only to a £100+ cart that would likely be left (< 0.3):'
CREATE TEMP TABLE session_features AS
SELECT s.session_id, s.customer_id, s.started_at, s.converted, s.cart_value, s.exit_intent,
       personalize.session_features(
           s.pages_viewed, s.items_in_cart, s.cart_value::float8, extract(epoch FROM s.ended_at - s.started_at)::float8,
           s.exit_intent, s.customer_id IS NOT NULL, h.prior_orders::int,
           extract(epoch FROM s.started_at - h.last_order_at)::float8 / 86400) AS features
FROM shop.sessions s
CROSS JOIN LATERAL (SELECT count(*) AS prior_orders, max(o.ordered_at) AS last_order_at FROM shop.orders o
                    WHERE o.customer_id = s.customer_id AND o.status <> 'cancelled' AND o.ordered_at < s.started_at) h;
CREATE TEMP TABLE propensity_model AS
SELECT personalize.logistic_fit(converted, features, 1.0, personalize.session_feature_names()) AS model
FROM session_features WHERE started_at < '2025-12-01';
SELECT round(personalize.auc(personalize.logistic_score(m.model, f.features), f.converted)::numeric, 3) AS "held-out AUC"
FROM session_features f, propensity_model m WHERE f.started_at >= '2025-12-01';
WITH exits AS (
    SELECT f.session_id, f.customer_id, f.cart_value, personalize.logistic_score(m.model, f.features) AS propensity
    FROM session_features f, propensity_model m
    WHERE f.started_at >= '2025-12-01' AND f.exit_intent AND f.customer_id IS NOT NULL AND f.cart_value >= 100
), picked AS (
    (SELECT * FROM exits WHERE propensity < 0.3 ORDER BY session_id LIMIT 3)
    UNION ALL
    (SELECT * FROM exits WHERE propensity >= 0.3 ORDER BY session_id LIMIT 2)
)
SELECT p.session_id, p.cart_value AS "cart £", round(p.propensity::numeric, 3) AS propensity,
       coalesce(d.offer_key, '(none)') AS "exit offer"
FROM picked p
LEFT JOIN LATERAL personalize.decide_offer(
    p.customer_id,
    jsonb_build_object('total', p.cart_value,
                       'items', (SELECT coalesce(jsonb_agg(e.product_id), '[]') FROM shop.session_events e
                                 WHERE e.session_id = p.session_id AND e.event_type = 'add_to_cart')),
    jsonb_build_object('id', p.session_id::text, 'exit_intent', true, 'offer_shown', false, 'propensity', p.propensity),
    'exit') d ON true
ORDER BY p.propensity;

\echo
\echo '== The pipeline: all of the above configured once, refreshed in one transaction, served without regclass (docs/pipeline.md) =='
SELECT count(*) AS settings
FROM personalize.configure_shop('shop.orders', 'shop.order_lines', 'shop.customers', 'shop.products', 'shop.sessions',
                                settings => '{"as_of": "2026-01-01", "rules_min_count": 20}');
\echo 'refresh(): one row per stage (a nightly job: SELECT personalize.schedule_refresh(''0 3 * * *''), with pg_cron):'
SELECT stage, rows FROM personalize.refresh();

\echo
\echo 'Quality on the 90-day holdout, kept with every model (personalize.models):'
SELECT 'BG/NBD: predicted / actual repeat purchase days' AS "check",
       round((quality -> 'holdout' ->> 'predicted_purchase_days')::numeric) || ' / ' ||
       (quality -> 'holdout' ->> 'actual_purchase_days') AS result
FROM personalize.models WHERE name = 'lifetime'
UNION ALL
SELECT 'suggestions: nDCG@10 item-item vs best sellers',
       round((quality -> 'holdout' ->> 'ndcg_at_10')::numeric, 3) || ' vs ' ||
       round((quality -> 'holdout' ->> 'popular_ndcg_at_10')::numeric, 3)
FROM personalize.models WHERE name = 'item_similarities'
UNION ALL
SELECT 'exit-offer propensity: AUC on the latest sessions', round((quality -> 'holdout' ->> 'auc')::numeric, 3)::text
FROM personalize.models WHERE name = 'propensity';

\echo
\echo 'customer_profiles: the fields a marketer segments on, fresh after every refresh:'
SELECT lifecycle_stage, count(*) AS customers, round(avg(p_alive)::numeric, 2) AS "avg P(alive)",
       round(avg(clv)::numeric) AS "avg CLV 12m £"
FROM personalize.customer_profiles GROUP BY 1 ORDER BY min(coalesce(days_since_last_order, -1));
SELECT customer_id, lifecycle_stage, segment, previous_segment, cluster, round(p_alive::numeric, 2) AS p_alive,
       round(expected_orders_90d::numeric, 1) AS "orders 90d", round(clv::numeric) AS "CLV 12m £",
       expected_next_order_at::date AS "next order"
FROM personalize.customer_profile(8609)
UNION ALL SELECT customer_id, lifecycle_stage, segment, previous_segment, cluster, round(p_alive::numeric, 2),
       round(expected_orders_90d::numeric, 1), round(clv::numeric), expected_next_order_at::date
FROM personalize.customer_profile(42);

\echo
\echo 'Serving from the refreshed models: complements, cart cross-sell and e-mail suggestions, no table names:'
SELECT p.name AS product, c.name AS "top complement"
FROM shop.products p CROSS JOIN LATERAL personalize.product_complements(p.product_id, 1) x
JOIN shop.products c ON c.product_id = x.complement
WHERE p.name IN ('Phone case 1', 'Printer 1') ORDER BY 1;
SELECT c.name AS suggestion, s.source
FROM personalize.cart_suggestions((SELECT array_agg(product_id) FROM shop.products WHERE name IN ('Phone case 1', 'Printer 1')), 3) s
JOIN shop.products c ON c.product_id = s.item ORDER BY s.score DESC, c.name;
SELECT s.rank, p.name AS "suggestion for customer 103", s.source
FROM personalize.suggestions(103, 4) s JOIN shop.products p ON p.product_id = s.item_id ORDER BY s.rank;

\echo
\echo 'Offers read the profile fields too (customer.segment, customer.p_alive, customer.attributes.lifecycle_stage):'
SELECT e.offer_key, count(*) AS customers
FROM personalize.offer_contexts('2026-01-01') c
CROSS JOIN LATERAL personalize.eligible_offers(c.context, 'email') e
WHERE (c.context #>> '{customer,email_opt_in}')::boolean
GROUP BY e.offer_key ORDER BY customers DESC;

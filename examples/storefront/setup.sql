-- The storefront's database: the demo shop, its events table (the demo's
-- session events moved so the latest is now, then the storefront's own),
-- the pipeline configured and refreshed twice (so segments have a previous
-- snapshot to move from), the signals configured and the demo's offers.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_personalize;
SELECT table_name, row_count FROM personalize.load_demo_shop('shop', 'demo', 42);

CREATE TABLE shop.events (
    event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  bigint NOT NULL,
    customer_id bigint,
    event_at    timestamptz NOT NULL,
    event_type  text NOT NULL,
    product_id  bigint);
INSERT INTO shop.events (session_id, customer_id, event_at, event_type, product_id)
SELECT e.session_id, s.customer_id, e.event_at + (now() - (SELECT max(event_at) FROM shop.session_events)),
       e.event_type, nullif(e.product_id, 0)
FROM shop.session_events e JOIN shop.sessions s USING (session_id)
ORDER BY e.event_at, e.session_id, e.seq;
CREATE INDEX ON shop.events (customer_id, event_at);
CREATE INDEX ON shop.events (session_id, event_at);
CREATE INDEX ON shop.events (event_at);
ANALYZE shop.events;
-- Every completed purchase, the history buy_again reads.
CREATE VIEW shop.purchases AS
SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM shop.orders o JOIN shop.order_lines l USING (order_id) WHERE o.status = 'completed';

SELECT count(*) AS settings
FROM personalize.configure_shop('shop.orders', 'shop.order_lines', 'shop.customers', 'shop.products', 'shop.sessions',
                                settings => '{"as_of": "2025-10-01", "rules_min_count": 20}');
SELECT stage, rows FROM personalize.refresh(ARRAY['customer_profiles']);
UPDATE personalize.shop_settings SET value = '2026-01-01' WHERE key = 'as_of';
SELECT stage, rows FROM personalize.refresh();
SELECT personalize.configure_signals('shop.events');

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
SELECT offer_key, channels FROM personalize.offers ORDER BY priority;

-- Behaviour signals (src/sql/98_signals.sql): configure_signals and its
-- checks, recently_viewed, trending_items with its decay, the browse and
-- cart abandonment cohorts (with and without a configured shop), NULLs,
-- empty tables and bad arguments with the exact errors.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';

\i test/sql/include/error_of.sql

-- Nothing configured yet.
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items('1 day')$$);

CREATE SCHEMA sig;
CREATE TABLE sig.events (session_id bigint, customer_id bigint, event_at timestamptz NOT NULL,
                         event_type text NOT NULL, product_id bigint);
CREATE TABLE sig.text_events (session_id text, customer_id integer, event_at timestamptz,
                              event_type text, product_id integer);
CREATE VIEW sig.no_session AS SELECT customer_id, event_at, event_type, product_id FROM sig.events;
CREATE VIEW sig.date_events AS SELECT session_id, customer_id, event_at::date AS event_at, event_type, product_id FROM sig.events;
CREATE VIEW sig.float_session AS SELECT session_id::float8 AS session_id, customer_id, event_at, event_type, product_id FROM sig.events;

-- configure_signals checks the table, naming the argument and the column.
SELECT pg_temp.error_of($$SELECT personalize.configure_signals(NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_signals('sig.no_session')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_signals('sig.date_events')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_signals('sig.float_session')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_signals('sig.missing')$$);
SELECT personalize.configure_signals('sig.events');

-- Empty table: no rows, no error.
SELECT count(*) AS recently_viewed_empty FROM personalize.recently_viewed(1, NULL);
SELECT count(*) AS trending_empty FROM personalize.trending_items('1 day');
SELECT count(*) AS browse_empty FROM personalize.browse_abandonment();
SELECT count(*) AS cart_empty FROM personalize.cart_abandonment();

-- As of 2026-01-10 12:00. Customer 1 (session 10, then 11) browses 101,
-- 102, 101 and leaves; customer 2 carts 201 and leaves; customer 3 carts
-- 301 and checks out; customer 4 browsed 401 five minutes ago (not quiet
-- yet); anonymous session 50 views 101 and 501; customer 5 carted 601 nine
-- days ago (outside the week).
INSERT INTO sig.events VALUES
    (10, 1, '2026-01-10 08:00', 'page_view', 101),
    (10, 1, '2026-01-10 08:01', 'page_view', 102),
    (10, 1, '2026-01-10 08:02', 'page_view', NULL),
    (11, 1, '2026-01-10 09:00', 'page_view', 101),
    (20, 2, '2026-01-10 10:00', 'page_view', 201),
    (20, 2, '2026-01-10 10:01', 'add_to_cart', 201),
    (20, 2, '2026-01-10 10:02', 'exit_intent', NULL),
    (30, 3, '2026-01-10 07:00', 'page_view', 301),
    (30, 3, '2026-01-10 07:01', 'add_to_cart', 301),
    (30, 3, '2026-01-10 07:05', 'checkout', NULL),
    (40, 4, '2026-01-10 11:55', 'page_view', 401),
    (50, NULL, '2026-01-10 11:00', 'page_view', 101),
    (50, NULL, '2026-01-10 11:10', 'page_view', 501),
    (60, 5, '2026-01-01 12:00', 'add_to_cart', 601),
    (10, 1, '2026-01-10 13:00', 'page_view', 103);  -- after as_of: never seen

-- recently_viewed: one row per product, latest first; a customer across
-- sessions, a session, or both.
SELECT * FROM personalize.recently_viewed(1, NULL, 10, '2026-01-10 12:00');
SELECT * FROM personalize.recently_viewed(NULL, '50', 10, '2026-01-10 12:00');
SELECT * FROM personalize.recently_viewed(1, '50', 2, '2026-01-10 12:00');
SELECT count(*) AS unknown_customer FROM personalize.recently_viewed(999, NULL, 10, '2026-01-10 12:00');

-- trending_items: views weigh 1, adds to cart 3, halved every half-life.
SELECT product_id, round(score::numeric, 4) AS score, views, carts
FROM personalize.trending_items('1 day', 5, '1 hour', '2026-01-10 12:00');
-- The decay by hand: 101 was viewed 4 h, 3 h and 1 h before as_of.
SELECT round((0.5 ^ 4 + 0.5 ^ 3 + 0.5 ^ 1)::numeric, 4) AS expected_101;
-- Default half-life (a quarter of the window: 6 h) and a short window.
SELECT product_id, round(score::numeric, 4) AS score FROM personalize.trending_items('1 day', 3, NULL, '2026-01-10 12:00');
SELECT product_id, views FROM personalize.trending_items('30 minutes', 10, NULL, '2026-01-10 12:00');

-- Abandonment without a configured shop: the events' checkouts count.
SELECT * FROM personalize.browse_abandonment('7 days', '1 hour', '2026-01-10 12:00');
SELECT * FROM personalize.cart_abandonment('7 days', '1 hour', '2026-01-10 12:00');
-- quiet 0: customer 4 counts at once; a 30-day window finds customer 5.
SELECT customer_id FROM personalize.browse_abandonment('7 days', '0', '2026-01-10 12:00');
SELECT customer_id, products FROM personalize.cart_abandonment('30 days', '1 hour', '2026-01-10 12:00');

-- With a configured shop: an order of customer 2 after the cart ends it,
-- an order of customer 1 in the window ends the browse abandonment. In a
-- transaction rolled back, so the shop configuration does not outlive it.
BEGIN;
CREATE TABLE sig.orders (order_id bigint, customer_id bigint, ordered_at timestamptz, status text, total numeric);
CREATE TABLE sig.order_lines (order_id bigint, product_id bigint);
SELECT count(*) > 0 AS configured FROM personalize.configure_shop('sig.orders', 'sig.order_lines');
INSERT INTO sig.orders VALUES (1, 2, '2026-01-10 11:00', 'pending', 20), (2, 1, '2026-01-09 08:00', 'completed', 10);
SELECT customer_id FROM personalize.browse_abandonment('7 days', '1 hour', '2026-01-10 12:00');
SELECT customer_id FROM personalize.cart_abandonment('7 days', '1 hour', '2026-01-10 12:00');
-- An order before the cart does not end it.
UPDATE sig.orders SET ordered_at = '2026-01-10 09:00' WHERE order_id = 1;
SELECT customer_id FROM personalize.cart_abandonment('7 days', '1 hour', '2026-01-10 12:00');
ROLLBACK;

-- A text session id.
INSERT INTO sig.text_events VALUES ('s-abc', NULL, '2026-01-10 10:00', 'page_view', 7);
SELECT personalize.configure_signals('sig.text_events');
SELECT product_id, views FROM personalize.recently_viewed(NULL, 's-abc', 10, '2026-01-10 12:00');
CREATE TABLE sig.varchar_events (session_id varchar(20), customer_id bigint, event_at timestamptz,
                                 event_type varchar, product_id bigint);
INSERT INTO sig.varchar_events VALUES ('web-7', NULL, '2026-01-10 10:00', 'page_view', 8);
SELECT personalize.configure_signals('sig.varchar_events');
SELECT product_id, views FROM personalize.recently_viewed(NULL, 'web-7', 10, '2026-01-10 12:00');
SELECT personalize.configure_signals('sig.events');

-- Bad arguments: the exact errors, naming the argument.
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_viewed(NULL, NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_viewed(1, NULL, 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_viewed(1, NULL, 1001)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_viewed(1, NULL, NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_viewed(1, NULL, 5, NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_viewed(1, NULL, 5, 'infinity')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_viewed(NULL, 'abc')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items(NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items('0')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items('-1 day')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items('100000 days')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items('1 day', 10, '0')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.browse_abandonment(NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.browse_abandonment('1 day', NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_abandonment('1 day', '-1 hour')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_abandonment('1 day', '1 hour', NULL)$$);

-- A configured table checked again on every call: a column dropped, a
-- column of another type, a domain over the right type.
CREATE TABLE sig.later (session_id bigint, customer_id bigint, event_at timestamptz, event_type text, product_id bigint);
SELECT personalize.configure_signals('sig.later');
ALTER TABLE sig.later DROP COLUMN event_type;
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items('1 day')$$);
ALTER TABLE sig.later ADD COLUMN event_type integer;
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items('1 day')$$);
CREATE DOMAIN sig.kind AS text;
ALTER TABLE sig.later DROP COLUMN event_type, ADD COLUMN event_type sig.kind;
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items('1 day')$$);
SELECT personalize.configure_signals('sig.events');

-- A configured table that is gone.
DROP TABLE sig.events CASCADE;
SELECT pg_temp.error_of($$SELECT * FROM personalize.trending_items('1 day')$$);

-- Honest markings: readers are STABLE, configure_signals VOLATILE and not PUBLIC.
SELECT p.proname, p.provolatile, p.proparallel
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'personalize'
  AND p.proname IN ('configure_signals', 'recently_viewed', 'trending_items', 'browse_abandonment', 'cart_abandonment')
ORDER BY 1;
SELECT has_function_privilege('public', 'personalize.configure_signals(regclass)', 'EXECUTE') AS public_may_configure;

DROP SCHEMA sig CASCADE;
DELETE FROM personalize.signal_source;

-- "Buy again": replenishment lists from a customer's own repeat purchases:
-- the typical gap, the score's shape, as_of replaying the past, the one-
-- customer and batch forms agreeing, NULLs and bad input.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';

\i test/sql/include/error_of.sql

CREATE TEMP TABLE h (customer_id bigint, item_id bigint, bought_at timestamptz);
INSERT INTO h VALUES
    -- customer 1: item 10 every 10 days (three days, one of them twice), item 20 after 30 days, item 30 once
    (1, 10, '2025-01-01 09:00'), (1, 10, '2025-01-11 09:00'), (1, 10, '2025-01-11 18:00'), (1, 10, '2025-01-21 09:00'),
    (1, 20, '2025-01-01 09:00'), (1, 20, '2025-01-31 09:00'),
    (1, 30, '2025-01-05 10:00'),
    -- customer 2: item 10 on 2 days 4 days apart; NULLs are skipped
    (2, 10, '2025-01-02'), (2, 10, '2025-01-06'), (2, NULL, '2025-01-07'), (NULL, 10, '2025-01-07'), (2, 10, NULL);
-- On 10 February: item 10 is 20 days after its last purchase with a 10-day
-- habit (r = 2: 2 e^-1 (1 - 1/3) = 0.4905), item 20 is 10 days into a 30-day
-- gap (r = 1/3: (1/3) e^(2/3) (1 - 1/2) = 0.3246); item 30 was bought once.
SELECT rank, item_id, round(score::numeric, 4) AS score, purchases, last_bought, typical_gap_days,
       round(due_in_days::numeric, 4) AS due_in_days
FROM personalize.buy_again(1, 'h', 10, '2025-02-10 09:00');
SELECT round((2 * exp(-1.0) * (2 / 3.0))::numeric, 4) AS item_10, round(((1 / 3.0) * exp(2 / 3.0) * 0.5)::numeric, 4) AS item_20;
-- Replayed on 26 January: the purchase of item 20 on the 31st is not known yet.
SELECT rank, item_id, round(score::numeric, 4) AS score, purchases, round(due_in_days::numeric, 4) AS due_in_days
FROM personalize.buy_again(1, 'h', 10, '2025-01-26 09:00');
-- Exactly due: score 0.6667 = 1 - 1/3 (the most a 3-purchase habit scores).
SELECT item_id, round(score::numeric, 4) AS score, due_in_days FROM personalize.buy_again(1, 'h', 1, '2025-01-31 09:00');
-- Three purchase days needed: item 10 of customer 1 only.
SELECT customer_id, item_id FROM personalize.batch_buy_again(NULL, 'h', 10, '2025-02-10', min_purchases => 3);
-- The batch form: every customer, or the listed ones.
SELECT customer_id, rank, item_id, round(score::numeric, 4) AS score, round(due_in_days::numeric, 4) AS due_in_days
FROM personalize.batch_buy_again(NULL, 'h', 10, '2025-02-10 09:00');
CREATE TEMP TABLE only2 AS SELECT 2::bigint AS customer_id;
SELECT customer_id, item_id FROM personalize.batch_buy_again('only2', 'h', 10, '2025-02-10 09:00');
-- Unknown and NULL customers: no rows.
SELECT count(*) AS rows FROM personalize.buy_again(99, 'h', 10, '2025-02-10');
SELECT count(*) AS rows FROM personalize.buy_again(NULL, 'h', 10, '2025-02-10');

-- The demo shop: the one-customer and the batch form agree.
SELECT count(*) AS tables FROM personalize.load_demo_shop('ba', 'tiny', 1);
CREATE VIEW ba.history AS
SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM ba.orders o JOIN ba.order_lines l USING (order_id) WHERE o.status = 'completed';
CREATE TEMP TABLE last_day AS SELECT max(bought_at) AS at FROM ba.history;
WITH batch AS (SELECT b.* FROM last_day, personalize.batch_buy_again(NULL, 'ba.history', 5, last_day.at) b),
     one AS (SELECT c.customer_id, s.* FROM last_day, (SELECT DISTINCT customer_id FROM batch) c,
                    LATERAL personalize.buy_again(c.customer_id, 'ba.history', 5, last_day.at) s)
SELECT count(*) > 0 AS some_rows, count(DISTINCT b.customer_id) > 0 AS some_customers,
       count(*) FILTER (WHERE b.item_id IS DISTINCT FROM o.item_id OR b.score IS DISTINCT FROM o.score) AS different,
       bool_and(b.purchases >= 2 AND b.score >= 0 AND b.score <= 1) AS in_range
FROM batch b FULL JOIN one o USING (customer_id, rank);

-- Bad input.
SELECT pg_temp.error_of($$SELECT * FROM personalize.buy_again(1, 'h', 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.buy_again(1, 'h', NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.buy_again(1, NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.buy_again(1, 'h', min_purchases => 1)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.buy_again(1, 'h', as_of => 'infinity')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.buy_again(1, 'h', as_of => NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_buy_again(NULL, 'h', -1)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_buy_again(NULL, NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_buy_again(NULL, 'h', min_purchases => 0)$$);
CREATE TEMP TABLE no_dates (customer_id bigint, item_id bigint);
SELECT pg_temp.error_of($$SELECT * FROM personalize.buy_again(1, 'no_dates')$$);
-- Column types are checked, by name: a numeric item_id would be rounded by
-- the cast, a text bought_at compared as text.
CREATE TABLE numeric_items (customer_id bigint, item_id numeric, bought_at timestamptz);
SELECT pg_temp.error_of($$SELECT * FROM personalize.buy_again(1, 'numeric_items')$$);
CREATE TABLE text_dates (customer_id bigint, item_id bigint, bought_at text);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_buy_again(NULL, 'text_dates')$$);
CREATE TABLE text_customers (customer_id text);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_buy_again('text_customers', 'h')$$);
DROP TABLE numeric_items, text_dates, text_customers;

DROP SCHEMA ba CASCADE;

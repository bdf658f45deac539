-- The demo shop generator: determinism, consistency between tables, bad
-- input, and statement_timeout stopping a long call inside C++.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

\i test/sql/include/error_of.sql

SELECT * FROM personalize.load_demo_shop('regress_shop', 'tiny', 1);

-- Same (size, seed), same data; another seed, other data.
SELECT count(*) AS differing_lines FROM (
    (SELECT * FROM personalize.demo_order_lines('tiny', 1) EXCEPT ALL SELECT * FROM regress_shop.order_lines)
    UNION ALL
    (SELECT * FROM regress_shop.order_lines EXCEPT ALL SELECT * FROM personalize.demo_order_lines('tiny', 1))) d;
SELECT (SELECT count(*) FROM personalize.demo_orders('tiny', 2)) <> (SELECT count(*) FROM regress_shop.orders)
    OR EXISTS (SELECT * FROM personalize.demo_orders('tiny', 2) EXCEPT SELECT * FROM regress_shop.orders)
    AS other_seed_differs;

-- The tables agree with each other.
SELECT count(*) AS orders_whose_total_is_not_the_sum_of_lines
FROM regress_shop.orders o
JOIN (SELECT order_id, sum(amount) AS amount, count(*) AS n FROM regress_shop.order_lines GROUP BY order_id) l
  USING (order_id)
WHERE o.total <> l.amount OR o.line_count <> l.n;
SELECT count(*) AS orders_without_lines
FROM regress_shop.orders o WHERE NOT EXISTS (SELECT 1 FROM regress_shop.order_lines l WHERE l.order_id = o.order_id);
SELECT count(*) AS lines_with_unknown_order_or_product
FROM regress_shop.order_lines l
WHERE NOT EXISTS (SELECT 1 FROM regress_shop.orders o WHERE o.order_id = l.order_id)
   OR NOT EXISTS (SELECT 1 FROM regress_shop.products p WHERE p.product_id = l.product_id);
SELECT count(*) AS duplicate_products_in_an_order
FROM (SELECT order_id, product_id FROM regress_shop.order_lines GROUP BY 1, 2 HAVING count(*) > 1) d;
SELECT count(*) AS orders_before_signup_or_after_history
FROM regress_shop.orders o JOIN regress_shop.customers c USING (customer_id)
WHERE o.ordered_at < c.signed_up_at OR o.ordered_at >= '2026-01-01';
SELECT count(*) AS converted_sessions_not_matching_their_order
FROM regress_shop.sessions s LEFT JOIN regress_shop.orders o USING (order_id)
WHERE s.converted AND (o.order_id IS NULL OR o.customer_id <> s.customer_id OR s.started_at > o.ordered_at
                       OR s.cart_value <> o.total OR s.items_in_cart <> o.line_count);
SELECT count(*) AS events_outside_their_session
FROM regress_shop.session_events e JOIN regress_shop.sessions s USING (session_id)
WHERE e.event_at < s.started_at OR e.event_at > s.ended_at;
SELECT status, count(*) > 0 AS present FROM regress_shop.orders GROUP BY status ORDER BY status;

-- Planted complementary pairs really co-occur far more than chance.
WITH baskets AS (SELECT count(DISTINCT order_id)::float8 AS n FROM regress_shop.order_lines),
pairs AS (
    SELECT p.antecedent, p.consequent,
           (SELECT count(DISTINCT order_id) FROM regress_shop.order_lines WHERE product_id = p.antecedent) AS a,
           (SELECT count(DISTINCT order_id) FROM regress_shop.order_lines WHERE product_id = p.consequent) AS c,
           (SELECT count(*) FROM regress_shop.order_lines x JOIN regress_shop.order_lines y USING (order_id)
             WHERE x.product_id = p.antecedent AND y.product_id = p.consequent) AS both_
    FROM regress_shop.planted_pairs p)
SELECT count(*) AS planted_pairs, count(*) FILTER (WHERE both_ * n / nullif(a * c, 0) > 3) AS pairs_with_lift_above_3
FROM pairs, baskets;

-- Bad input. STRICT: a NULL argument gives no rows.
SELECT pg_temp.error_of($$SELECT * FROM personalize.demo_customers('huge', 1)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.load_demo_shop('regress_shop', 'huge', 1)$$);
SELECT count(*) AS rows_for_null_size FROM personalize.demo_customers(NULL, 1);
-- Negative seeds are ordinary seeds.
SELECT count(*) > 0 AS negative_seed_works FROM personalize.demo_customers('tiny', -7);
-- Identifiers are quoted: a schema name is never SQL.
SELECT count(*) AS tables FROM personalize.load_demo_shop('odd "schema"; DROP TABLE x', 'tiny', 3);
SELECT count(*) AS customers FROM "odd ""schema""; DROP TABLE x".customers;
DROP SCHEMA "odd ""schema""; DROP TABLE x" CASCADE;

-- statement_timeout stops a long generation that runs inside one C++ call
-- (the core polls the interrupt flag; PostgreSQL reports the reason), and
-- the backend is usable afterwards with nothing leaked.
SET statement_timeout = '300ms';
SELECT count(*) FROM personalize.demo_order_lines('bench', 1);
RESET statement_timeout;
SELECT count(*) AS customers_after_timeout FROM regress_shop.customers;
SELECT personalize.live_cpp_objects() AS live_cpp_objects;

DROP SCHEMA regress_shop CASCADE;

-- Serving complements from a materialized view of rules: the refresh
-- recipe, product_complements, cart_suggestions (evidence combination,
-- fallback, bad input).
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;

\i test/sql/include/error_of.sql

SELECT count(*) AS tables FROM personalize.load_demo_shop('serve_shop', 'tiny', 1);

-- The recipe (docs/complements.md): the strongest rules of completed orders
-- in a materialized view, with the unique index that REFRESH ... CONCURRENTLY
-- needs and that lookups use, and a small index for the popularity fallback.
CREATE MATERIALIZED VIEW shop_rules AS
SELECT antecedent, consequent, count, support, confidence, lift, certainty, consequent_support
FROM (SELECT r.*, row_number() OVER (PARTITION BY r.antecedent ORDER BY r.certainty DESC, r.consequent) AS strength_rank
      FROM personalize.association_rules(
          (SELECT personalize.baskets(l.order_id, l.product_id)
           FROM serve_shop.order_lines l JOIN serve_shop.orders o USING (order_id)
           WHERE o.status = 'completed'),
          min_count => 5, min_len => 1) r) ranked
WHERE strength_rank <= 100 OR antecedent = '{}';
CREATE UNIQUE INDEX shop_rules_key ON shop_rules (antecedent, consequent);
CREATE INDEX shop_rules_popular ON shop_rules (consequent_support DESC) WHERE antecedent = '{}';
SELECT count(*) > 1000 AS many_rules, count(*) FILTER (WHERE antecedent = '{}') AS popularity_rows FROM shop_rules;

-- New orders arrive; a concurrent refresh picks them up without blocking readers.
INSERT INTO serve_shop.orders VALUES (999001, 1, '2025-12-31 12:00+00', 'completed', 0, 2);
INSERT INTO serve_shop.order_lines
SELECT 999001, 1, p.antecedent, 1, 1, 1 FROM serve_shop.planted_pairs p ORDER BY p.antecedent LIMIT 1;
REFRESH MATERIALIZED VIEW CONCURRENTLY shop_rules;
SELECT (SELECT count FROM shop_rules WHERE antecedent = '{}' AND consequent = p.antecedent) AS count_after_refresh,
       (SELECT count(DISTINCT l.order_id) FROM serve_shop.order_lines l JOIN serve_shop.orders o USING (order_id)
        WHERE o.status = 'completed' AND l.product_id = p.antecedent) AS orders_with_product
FROM (SELECT antecedent FROM serve_shop.planted_pairs ORDER BY antecedent LIMIT 1) p;

-- Product page: the planted complement is the top complement of every planted product.
SELECT count(*) AS planted_pairs,
       count(*) FILTER (WHERE (SELECT c.complement FROM personalize.product_complements('shop_rules', p.antecedent, 1) c)
                               = p.consequent) AS planted_complement_on_top
FROM serve_shop.planted_pairs p;
SELECT pr.name AS complement, round(c.confidence::numeric, 2) AS confidence, round(c.lift::numeric, 1) > 3 AS strong
FROM serve_shop.planted_pairs p
CROSS JOIN LATERAL personalize.product_complements('shop_rules', p.antecedent, 1) c
JOIN serve_shop.products pr ON pr.product_id = c.complement
ORDER BY 1;

-- Cart cross-sell: two planted products in the cart; their complements lead,
-- each with the cart item that is its evidence; cart items never come back.
CREATE TEMP TABLE cart AS SELECT array_agg(antecedent ORDER BY antecedent) AS items
FROM (SELECT antecedent FROM serve_shop.planted_pairs ORDER BY antecedent LIMIT 2) p;
SELECT s.item IN (SELECT consequent FROM serve_shop.planted_pairs) AS planted, s.evidence <@ c.items AS evidence_in_cart,
       s.source, s.score > 0.3 AS strong
FROM cart c, personalize.cart_suggestions(c.items, 'shop_rules', 2) s;
SELECT count(*) AS suggestions, count(*) FILTER (WHERE s.item = ANY (c.items)) AS cart_items_suggested,
       count(*) FILTER (WHERE s.source = 'rules') > 0 AS some_from_rules
FROM cart c, personalize.cart_suggestions(c.items, 'shop_rules', 10) s;
-- Two cart items pointing at one product combine (noisy-OR of certainties):
-- the score is 1 - (1 - c1)(1 - c2), above either alone.
WITH pair AS (SELECT antecedent[1] AS a, consequent AS c FROM shop_rules
              WHERE cardinality(antecedent) = 1 AND certainty > 0.05 ORDER BY consequent, antecedent LIMIT 1),
other AS (SELECT r.antecedent[1] AS b FROM shop_rules r, pair
          WHERE cardinality(r.antecedent) = 1 AND r.consequent = pair.c AND r.antecedent[1] > pair.a AND r.certainty > 0.05
          ORDER BY 1 LIMIT 1)
SELECT abs((SELECT score FROM personalize.cart_suggestions(ARRAY[pair.a, other.b], 'shop_rules', 100) WHERE item = pair.c)
           - (1 - (1 - ra.certainty) * (1 - rb.certainty)
                * coalesce((SELECT 1 - certainty FROM shop_rules WHERE antecedent = ARRAY[pair.a, other.b] AND consequent = pair.c
                            AND certainty > 0), 1))) < 1e-9 AS noisy_or_combination
FROM pair, other
JOIN shop_rules ra ON true JOIN shop_rules rb ON true
WHERE ra.antecedent = ARRAY[pair.a] AND ra.consequent = pair.c AND rb.antecedent = ARRAY[other.b] AND rb.consequent = pair.c;

-- Empty, unknown and NULL carts fall back to the most popular items, k rows.
SELECT s.item = (SELECT consequent FROM shop_rules WHERE antecedent = '{}' ORDER BY consequent_support DESC, consequent LIMIT 1)
           AS most_popular_first, count(*) OVER () AS k_rows, s.source, s.score
FROM personalize.cart_suggestions('{}', 'shop_rules', 5) s LIMIT 1;
SELECT count(*) AS rows_for_unknown_cart, count(*) FILTER (WHERE source = 'popular') AS popular
FROM personalize.cart_suggestions(ARRAY[-1, -2], 'shop_rules', 5);
SELECT count(*) AS rows_for_null_cart FROM personalize.cart_suggestions(NULL, 'shop_rules', 5);
-- min_score: weak evidence is dropped and the list is filled from popular items.
SELECT count(*) AS rows, count(*) FILTER (WHERE source = 'rules') AS from_rules
FROM cart c, personalize.cart_suggestions(c.items, 'shop_rules', 10, min_score => 0.99) s;
-- A 10,000-item cart (NULLs and duplicates inside) is served, not a crash:
-- it holds every product, so nothing is left to suggest; with unknown ids
-- only, the popular items come back.
SELECT count(*) AS rows_for_cart_of_everything
FROM personalize.cart_suggestions(ARRAY(SELECT CASE WHEN i % 100 = 0 THEN NULL ELSE i % 5000 END FROM generate_series(1, 10000) i), 'shop_rules', 10);
SELECT count(*) AS rows_for_huge_unknown_cart
FROM personalize.cart_suggestions(ARRAY(SELECT 100000 + i % 7000 FROM generate_series(1, 10000) i), 'shop_rules', 10);

-- Bad input names the argument.
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', 'shop_rules', 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', 'shop_rules', 5, 1.5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', 'shop_rules', 5, 'NaN')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', NULL, 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', 'shop_rules', NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', 'shop_rules', 5, NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', 'no_such_rules', 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions('{1}', 'serve_shop.orders', 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.product_complements('shop_rules', 1, 0)$$);
SELECT count(*) AS complements_of_unknown FROM personalize.product_complements('shop_rules', -1, 5);

DROP MATERIALIZED VIEW shop_rules;
DROP SCHEMA serve_shop CASCADE;

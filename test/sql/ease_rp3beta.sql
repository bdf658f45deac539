-- The EASE and RP3beta models: exact rows on tiny baskets, the same table
-- shape as item_similarities (so suggestions, batch_suggestions and
-- "because" serve them unchanged), NULLs, bad input with exact errors, the
-- memory limit and cancellation.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
SET personalize.memory_limit = '256MB';

\i test/sql/include/error_of.sql

-- Two items: P = (G + lambda I)^-1 gives B[a][b] = c_ab / (c_a + lambda).
-- Counts: 10 in 3 baskets, 20 in 2, both in 2.
CREATE TEMP TABLE two AS SELECT personalize.baskets(b, i) AS b
FROM (VALUES (1, 10), (1, 20), (2, 10), (2, 20), (3, 10), (4, 30)) v(b, i);
SELECT item, neighbour, round(score::numeric, 6) AS score, together,
       round(CASE WHEN item = neighbour THEN 0 WHEN item = 10 THEN 2 / (3 + 1.0) WHEN item = 20 THEN 2 / (2 + 1.0) ELSE 0 END, 6) AS expected
FROM two, personalize.ease_similarities(two.b, lambda => 1, min_count => 2)
ORDER BY item, neighbour <> item, score DESC;

-- RP3beta by hand: baskets {1,2,3} {1,2} {2,3} {1,2,4}; alpha 1, beta 0.5:
-- W[1][2] = (1/3)(1/3 + 1/2 + 1/3) / sqrt(4) = 7/36, W[1][4] = 1/9, W[1][3] = 1/(9 sqrt 2).
CREATE TEMP TABLE small AS SELECT personalize.baskets(b, i) AS b
FROM (VALUES (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (3, 2), (3, 3), (4, 1), (4, 2), (4, 4)) v(b, i);
SELECT item, neighbour, round(score::numeric, 12) AS score, together
FROM small, personalize.rp3beta_similarities(small.b, min_count => 1)
WHERE item = 1 ORDER BY neighbour <> item, score DESC;
SELECT round(7 / 36.0, 12) AS w12, round(1 / 9.0, 12) AS w14, round((1 / (9 * sqrt(2)))::numeric, 12) AS w13;
-- beta 0: the plain two-step walk, every row of P(j | i) (own row included) sums to 1.
SELECT item, round(sum(score)::numeric, 12) AS total
FROM small, personalize.rp3beta_similarities(small.b, beta => 0, min_count => 1) GROUP BY item ORDER BY item;

-- The demo shop: both models in the table suggestions() reads.
SELECT count(*) AS tables FROM personalize.load_demo_shop('er', 'tiny', 1);
CREATE VIEW er.history AS
SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM er.orders o JOIN er.order_lines l USING (order_id) WHERE o.status = 'completed';
CREATE TABLE er.baskets AS SELECT personalize.baskets(customer_id, item_id) AS b FROM er.history;
CREATE TABLE er.ease AS SELECT s.* FROM er.baskets, personalize.ease_similarities(er.baskets.b, 50, 10) s;
CREATE TABLE er.rp3 AS SELECT s.* FROM er.baskets, personalize.rp3beta_similarities(er.baskets.b, neighbours => 10) s;
CREATE TABLE er.cos AS SELECT s.* FROM er.baskets, personalize.item_similarities(er.baskets.b, neighbours => 10) s;
CREATE INDEX ON er.ease (item);
CREATE INDEX ON er.rp3 (item);
-- One own row per item (the same items as item_similarities with min_count 2),
-- at most 10 neighbours, positive scores, together = the pair's customers.
CREATE TEMP TABLE bought AS SELECT DISTINCT customer_id, item_id FROM er.history;
SELECT model, count(*) FILTER (WHERE item = neighbour) AS own_rows, max(n) AS most_neighbours,
       bool_and(score > 0) FILTER (WHERE item <> neighbour) AS positive,
       bool_and(score = 0) FILTER (WHERE item = neighbour) AS own_zero,
       count(*) FILTER (WHERE item <> neighbour AND together <> (
           SELECT count(*) FROM bought a JOIN bought b USING (customer_id) WHERE a.item_id = m.item AND b.item_id = m.neighbour)) AS wrong_together
FROM (SELECT 'ease' AS model, * FROM er.ease UNION ALL SELECT 'rp3beta', * FROM er.rp3 UNION ALL SELECT 'cosine', * FROM er.cos) m,
     LATERAL (SELECT count(*) - 1 AS n FROM er.ease t WHERE t.item = m.item) x
GROUP BY model ORDER BY model;
-- RP3beta's scores from the definition in SQL (n_u: the customer's kept items).
WITH kept AS (SELECT b.* FROM bought b JOIN (SELECT item_id FROM bought GROUP BY 1 HAVING count(*) >= 2) k USING (item_id)),
     c AS (SELECT item_id, count(*)::float8 AS n FROM kept GROUP BY 1),
     u AS (SELECT customer_id, count(*)::float8 AS n FROM kept GROUP BY 1),
     w AS (SELECT a.item_id AS i, b.item_id AS j, sum(1 / u.n) AS mass
           FROM kept a JOIN kept b USING (customer_id) JOIN u USING (customer_id) GROUP BY 1, 2)
SELECT count(*) AS rows_checked, count(*) FILTER (WHERE abs(r.score - w.mass / ci.n / sqrt(cj.n)) > 1e-12) AS wrong
FROM er.rp3 r JOIN w ON w.i = r.item AND w.j = r.neighbour JOIN c ci ON ci.item_id = r.item JOIN c cj ON cj.item_id = r.neighbour;
-- Served like item_similarities: suggestions with "because", and the batch
-- form gives the same lists.
SELECT model, count(*) AS rows, count(*) FILTER (WHERE source = 'item-item') AS item_item,
       bool_and(cardinality(because) BETWEEN 1 AND 3) FILTER (WHERE source = 'item-item') AS because_given
FROM (VALUES ('er.ease'), ('er.rp3')) t(model), LATERAL personalize.suggestions(8, 'er.history', t.model::regclass, 10) s
GROUP BY model ORDER BY model;
WITH one AS (SELECT c.customer_id, s.* FROM (SELECT DISTINCT customer_id FROM er.history ORDER BY 1 LIMIT 20) c,
             LATERAL personalize.suggestions(c.customer_id, 'er.history', 'er.ease', 10) s),
     batch AS (SELECT * FROM personalize.batch_suggestions(NULL, 'er.history', 'er.ease', 10)
               WHERE customer_id IN (SELECT customer_id FROM one))
SELECT count(*) AS rows, count(*) FILTER (WHERE o.item_id IS DISTINCT FROM b.item_id OR o.because IS DISTINCT FROM b.because) AS different
FROM one o FULL JOIN batch b USING (customer_id, rank);
-- More lambda: weights shrink.
SELECT lambda, round(max(score)::numeric, 2) < round(lag(max(score)) OVER (ORDER BY lambda)::numeric, 2) AS smaller
FROM unnest(ARRAY[5, 50, 500]) AS l(lambda), er.baskets, personalize.ease_similarities(er.baskets.b, l.lambda, 10) s
GROUP BY lambda ORDER BY lambda;

-- The default lambda is 3000 (the validation splits picked 2000-5000 on every
-- dataset, docs/suggestions.md section 6): an omitted lambda gives its rows.
SELECT pg_get_function_arguments('personalize.ease_similarities'::regproc) ~ 'lambda double precision DEFAULT 3000' AS default_3000;
SELECT (SELECT array_agg(s ORDER BY s.item, s.neighbour) FROM er.baskets, personalize.ease_similarities(er.baskets.b, neighbours => 10) s)
     = (SELECT array_agg(s ORDER BY s.item, s.neighbour) FROM er.baskets, personalize.ease_similarities(er.baskets.b, 3000, 10) s)
       AS omitted_is_3000;

-- NULLs and too little data.
SELECT count(*) AS rows FROM personalize.ease_similarities(NULL);
SELECT count(*) AS rows FROM personalize.rp3beta_similarities(NULL);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities('{}')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities('{1:{10,20,30}}')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.rp3beta_similarities('{1:{10,20,30}}', min_count => 1)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities('{1:{10},2:{10,20},3:{10}}')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.rp3beta_similarities('{1:{10},2:{10,20},3:{10}}')$$);

-- Bad input: each error names its argument.
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities(NULL, 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities(NULL, -1)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities(NULL, 'NaN')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities(NULL, 'infinity')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities(NULL, NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities(NULL, neighbours => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities(NULL, min_count => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ease_similarities(NULL, max_basket_size => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.rp3beta_similarities(NULL, beta => -0.5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.rp3beta_similarities(NULL, alpha => -1)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.rp3beta_similarities(NULL, beta => 'NaN')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.rp3beta_similarities(NULL, beta => NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.rp3beta_similarities(NULL, neighbours => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.rp3beta_similarities(NULL, min_count => 0)$$);

-- A catalogue too large for the memory limit: 53200 naming the limit, the
-- item count and the sparse fallback.
CREATE TEMP TABLE wide AS SELECT personalize.baskets(g % 300, g % 1500) AS b FROM generate_series(1::bigint, 9000) g;
SET personalize.memory_limit = '4MB';
CREATE FUNCTION pg_temp.error_and_hint(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text; h text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || m || E'\nHINT: ' || h;
END $$;
SELECT pg_temp.error_and_hint($$SELECT count(*) FROM wide, personalize.ease_similarities(wide.b, min_count => 1)$$);
SELECT count(*) AS rp3beta_rows FROM wide, personalize.rp3beta_similarities(wide.b, min_count => 1);
SET personalize.memory_limit = '256MB';  -- the suite runs on a stock server (work_mem 4MB)
SELECT personalize.live_cpp_objects() AS live_cpp_objects;

-- statement_timeout stops the inverse of a 3,000-item catalogue.
CREATE TEMP TABLE big AS SELECT personalize.baskets(g / 10, (g * 7919) % 3000) AS b FROM generate_series(1::bigint, 300000) g;
SET statement_timeout = '300ms';
SELECT count(*) FROM big, personalize.ease_similarities(big.b, min_count => 1);
RESET statement_timeout;
SELECT personalize.live_cpp_objects() AS live_cpp_objects;

DROP SCHEMA er CASCADE;

-- Personal suggestions: item similarities from customer baskets, one
-- customer's top-n and the batch form against the same scoring written in
-- plain SQL, exclusions, re-buyable items, the category cap, the popular
-- fallback, "because", bad input with exact errors, memory and cancellation.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;
SET TimeZone = 'UTC';

\i test/sql/include/error_of.sql

SELECT count(*) AS tables FROM personalize.load_demo_shop('sug', 'tiny', 1);
CREATE VIEW sug.history AS
SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM sug.orders o JOIN sug.order_lines l USING (order_id) WHERE o.status = 'completed';
-- Consumables may be suggested again.
CREATE VIEW sug.items AS
SELECT product_id AS item_id, category,
       name ~ '^(Coffee beans|Ink cartridge|Razor blades|Dog treats|Cat food) ' AS rebuyable
FROM sug.products;
CREATE TABLE sug.sims AS
SELECT * FROM personalize.item_similarities(
    (SELECT personalize.baskets(customer_id, item_id) FROM sug.history), 'cosine', 10, 2);
CREATE INDEX ON sug.sims (item);

-- The model: an own row per item (score 1, together = its customers), at
-- most 10 neighbours each, scores as defined from the counts.
SELECT count(*) FILTER (WHERE item = neighbour) AS own_rows,
       max(n) AS most_neighbours,
       bool_and(score > 0 AND score <= 1) AS cosine_in_0_1
FROM sug.sims s, LATERAL (SELECT count(*) - 1 AS n FROM sug.sims t WHERE t.item = s.item) x;
CREATE TEMP TABLE bought AS SELECT DISTINCT customer_id, item_id FROM sug.history;
CREATE TEMP TABLE item_customers AS SELECT item_id, count(*) AS n FROM bought GROUP BY 1;
CREATE TEMP TABLE pair_customers AS
SELECT a.item_id AS a, b.item_id AS b, count(*) AS n
FROM bought a JOIN bought b ON a.customer_id = b.customer_id AND a.item_id <> b.item_id GROUP BY 1, 2;
WITH c AS (SELECT * FROM item_customers), p AS (SELECT * FROM pair_customers)
SELECT count(*) AS rows_checked,
       count(*) FILTER (WHERE s.item = s.neighbour AND (s.together <> ca.n OR s.score <> 1)) AS wrong_own_rows,
       count(*) FILTER (WHERE s.item <> s.neighbour AND (s.together <> p.n
                        OR abs(s.score - p.n / sqrt(ca.n::float8 * cb.n)) > 1e-12)) AS wrong_pairs
FROM sug.sims s JOIN c ca ON ca.item_id = s.item JOIN c cb ON cb.item_id = s.neighbour
LEFT JOIN p ON p.a = s.item AND p.b = s.neighbour;
-- Each item keeps its best: no dropped pair scores above its 10th neighbour.
WITH c AS (SELECT * FROM item_customers), p AS (SELECT * FROM pair_customers WHERE n >= 2),
     scored AS (SELECT p.a, p.b, p.n / sqrt(ca.n::float8 * cb.n) AS score
                FROM p JOIN c ca ON ca.item_id = p.a JOIN c cb ON cb.item_id = p.b),
     kept AS (SELECT item, min(score) AS worst FROM sug.sims WHERE item <> neighbour GROUP BY item)
SELECT count(*) AS better_pairs_left_out
FROM scored x JOIN kept k ON k.item = x.a
WHERE NOT EXISTS (SELECT 1 FROM sug.sims s WHERE s.item = x.a AND s.neighbour = x.b) AND x.score > k.worst + 1e-12;

-- The other measures.
SELECT measure, count(*) AS rows, round(max(score) FILTER (WHERE item = neighbour)::numeric, 3) AS max_own_score,
       bool_and(score > 0) AS positive
FROM unnest(ARRAY['cosine', 'jaccard', 'lift', 'confidence']) AS m(measure),
     LATERAL personalize.item_similarities((SELECT personalize.baskets(customer_id, item_id) FROM sug.history),
                                           m.measure, 10, 2)
GROUP BY measure ORDER BY measure;
-- confidence is P(neighbour | item): not symmetric.
WITH c AS (SELECT * FROM personalize.item_similarities(
               (SELECT personalize.baskets(customer_id, item_id) FROM sug.history), 'confidence', 1000, 1))
SELECT count(*) FILTER (WHERE abs(x.score * cx.together - y.score * cy.together) > 1e-9) AS not_bayes
FROM c x JOIN c y ON y.item = x.neighbour AND y.neighbour = x.item
JOIN c cx ON cx.item = x.item AND cx.neighbour = x.item JOIN c cy ON cy.item = y.item AND cy.neighbour = y.item
WHERE x.item <> x.neighbour;

-- The baskets aggregate behind the model is parallel: same model.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE sug.lines AS SELECT * FROM sug.history;
EXPLAIN (COSTS OFF) SELECT personalize.baskets(customer_id, item_id) FROM sug.lines;
CREATE TEMP TABLE parallel_sims AS
SELECT * FROM personalize.item_similarities((SELECT personalize.baskets(customer_id, item_id) FROM sug.lines), 'cosine', 10, 2);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT count(*) AS differing_rows FROM (
    (SELECT * FROM parallel_sims EXCEPT ALL SELECT * FROM sug.sims)
    UNION ALL (SELECT * FROM sug.sims EXCEPT ALL SELECT * FROM parallel_sims)) d;

-- One customer: rank, item, score, source, because.
SELECT rank, item_id, round(score::numeric, 6) AS score, source, because
FROM personalize.suggestions(8, 'sug.history', 'sug.sims', 5);

-- The scores equal the item-item scoring written in plain SQL (90-day
-- half-life, bought items left out) for every customer, in the same order.
CREATE TEMP TABLE plain AS
WITH h AS (SELECT customer_id, item_id, max(bought_at) AS last FROM sug.history GROUP BY 1, 2),
w AS (SELECT customer_id, item_id,
             power(2::float8, -extract(epoch FROM max(last) OVER (PARTITION BY customer_id) - last)::float8
                              / (90 * 86400)) AS w FROM h),
s AS (SELECT w.customer_id, s.neighbour AS item_id, sum(w.w * s.score) AS score
      FROM w JOIN sug.sims s ON s.item = w.item_id AND s.neighbour <> s.item GROUP BY 1, 2),
f AS (SELECT s.* FROM s WHERE s.score > 0
      AND NOT EXISTS (SELECT 1 FROM h WHERE h.customer_id = s.customer_id AND h.item_id = s.item_id))
SELECT customer_id, item_id, score,
       row_number() OVER (PARTITION BY customer_id ORDER BY score DESC, item_id)::integer AS rank FROM f;
CREATE TEMP TABLE batch AS SELECT * FROM personalize.batch_suggestions(NULL, 'sug.history', 'sug.sims');
SELECT count(DISTINCT customer_id) AS customers, count(*) AS rows, count(*) FILTER (WHERE source = 'popular') AS popular
FROM batch;
SELECT count(*) AS item_item_rows,
       count(*) FILTER (WHERE p.item_id IS DISTINCT FROM b.item_id) AS other_item,
       count(*) FILTER (WHERE abs(p.score - b.score) > 1e-12 * p.score) AS other_score
FROM batch b LEFT JOIN plain p USING (customer_id, rank) WHERE b.source = 'item-item';
-- Fewer than 10 candidates only where plain SQL has fewer too.
SELECT count(*) AS customers_short_of_candidates
FROM (SELECT customer_id, count(*) FILTER (WHERE source = 'item-item') AS n FROM batch GROUP BY 1) b
WHERE b.n < 10 AND b.n <> (SELECT count(*) FROM plain p WHERE p.customer_id = b.customer_id);
-- The single-customer form gives the batch's rows.
SELECT count(*) AS customers_differing
FROM (SELECT DISTINCT customer_id FROM batch) c
WHERE (SELECT array_agg(row(b.rank, b.item_id, b.score, b.source, b.because) ORDER BY b.rank)
       FROM batch b WHERE b.customer_id = c.customer_id)
   IS DISTINCT FROM
      (SELECT array_agg(row(s.rank, s.item_id, s.score, s.source, s.because) ORDER BY s.rank)
       FROM personalize.suggestions(c.customer_id, 'sug.history', 'sug.sims') s);
-- because: bought items, the first one the largest contributor.
SELECT count(*) AS because_not_bought
FROM batch b, unnest(b.because) AS x(item)
WHERE NOT EXISTS (SELECT 1 FROM sug.history h WHERE h.customer_id = b.customer_id AND h.item_id = x.item);
WITH w AS (SELECT customer_id, item_id,
                  power(2::float8, -extract(epoch FROM max(max(bought_at)) OVER (PARTITION BY customer_id)
                                                        - max(bought_at))::float8 / (90 * 86400)) AS w
           FROM sug.history GROUP BY 1, 2),
top AS (SELECT DISTINCT ON (b.customer_id, b.rank) b.customer_id, b.rank, w.item_id
        FROM batch b JOIN w USING (customer_id) JOIN sug.sims s ON s.item = w.item_id AND s.neighbour = b.item_id
        WHERE b.source = 'item-item'
        ORDER BY b.customer_id, b.rank, w.w * s.score DESC, w.item_id)
SELECT count(*) AS first_because_not_top FROM top t JOIN batch b USING (customer_id, rank) WHERE b.because[1] <> t.item_id;

-- Bought items never come back, unless re-buyable.
CREATE TEMP TABLE with_items AS
SELECT * FROM personalize.batch_suggestions(NULL, 'sug.history', 'sug.sims', 10, items => 'sug.items');
SELECT count(*) FILTER (WHERE NOT i.rebuyable) AS bought_again_not_rebuyable,
       count(*) FILTER (WHERE i.rebuyable) > 0 AS some_rebuyable_suggested_again
FROM with_items b JOIN sug.items i USING (item_id)
WHERE EXISTS (SELECT 1 FROM sug.history h WHERE h.customer_id = b.customer_id AND h.item_id = b.item_id);
-- A re-buyable item counts as its own neighbour: its own row is in "because".
SELECT count(*) > 0 AS rebuy_because_itself
FROM with_items b JOIN sug.items i USING (item_id) WHERE i.rebuyable AND b.item_id = ANY (b.because);

-- At most category_cap suggestions per category.
CREATE TEMP TABLE capped AS
SELECT * FROM personalize.batch_suggestions(NULL, 'sug.history', 'sug.sims', 10, items => 'sug.items', category_cap => 2);
SELECT max(n) AS most_per_category, count(DISTINCT customer_id) AS customers, min(k) AS fewest_rows
FROM (SELECT customer_id, count(*) AS n FROM capped JOIN sug.items USING (item_id) GROUP BY customer_id, category) x,
     (SELECT min(c) AS k FROM (SELECT count(*) AS c FROM capped GROUP BY customer_id) y) z;
SELECT count(*) AS differing FROM (
    SELECT customer_id, rank, item_id FROM capped WHERE customer_id IN (8, 42, 100)
    EXCEPT
    SELECT c.id, s.rank, s.item_id FROM unnest(ARRAY[8, 42, 100]) AS c(id),
           personalize.suggestions(c.id, 'sug.history', 'sug.sims', 10, items => 'sug.items', category_cap => 2) s) d;

-- Fallback: thin history, unknown customers, customers with no orders, the
-- anonymous visitor (NULL) get the popular items of their segment, then overall.
CREATE TABLE sug.segments AS
SELECT customer_id, CASE WHEN customer_id % 2 = 0 THEN 'even' ELSE 'odd' END AS segment FROM sug.customers;
CREATE TABLE sug.popular AS SELECT * FROM personalize.popular_items('sug.history', 'sug.segments', 20);
SELECT segment, count(*) AS items, max(buyers) AS most_buyers, round(max(score)::numeric, 3) AS top_share
FROM sug.popular GROUP BY segment ORDER BY segment NULLS FIRST;
SELECT (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM (SELECT * FROM sug.popular WHERE segment IS NULL LIMIT 3) p)
     = (SELECT array_agg(item_id) FROM personalize.suggestions(NULL, 'sug.history', 'sug.sims', 3, popular => 'sug.popular'))
    AS anonymous_gets_overall;
SELECT s.rank, s.item_id, s.source, s.item_id IN (SELECT item_id FROM sug.popular WHERE segment = 'even') AS popular_in_segment
FROM personalize.suggestions(123456789, 'sug.history', 'sug.sims', 3, popular => 'sug.popular', segment => 'even') s;
SELECT c.customer_id AS never_ordered, count(s.*) AS rows, bool_and(s.source = 'popular') AS all_popular
FROM sug.customers c, personalize.suggestions(c.customer_id, 'sug.history', 'sug.sims', 4) s
WHERE NOT EXISTS (SELECT 1 FROM sug.history h WHERE h.customer_id = c.customer_id)
GROUP BY 1 ORDER BY 1 LIMIT 3;
-- min_history: customers with fewer distinct items get popular items only.
SELECT count(DISTINCT customer_id) FILTER (WHERE source = 'item-item') AS item_item_customers,
       count(DISTINCT customer_id) AS customers
FROM personalize.batch_suggestions(NULL, 'sug.history', 'sug.sims', 3, min_history => 30);
SELECT min(n) >= 30 AS item_item_only_with_30_items
FROM (SELECT b.customer_id, (SELECT count(DISTINCT item_id) FROM sug.history h WHERE h.customer_id = b.customer_id) AS n
      FROM personalize.batch_suggestions(NULL, 'sug.history', 'sug.sims', 3, min_history => 30) b
      WHERE b.source = 'item-item') x;
-- The campaign: every opted-in customer gets a full list (with their segment).
CREATE TABLE sug.campaign AS
SELECT b.* FROM personalize.batch_suggestions(
    'sug.segments', 'sug.history', 'sug.sims', 5, items => 'sug.items', popular => 'sug.popular', category_cap => 2) b
JOIN sug.customers c USING (customer_id) WHERE c.email_opt_in;
SELECT count(DISTINCT customer_id) = (SELECT count(*) FROM sug.customers WHERE email_opt_in) AS every_opted_in_customer,
       min(rank) AS first_rank, max(rank) AS last_rank, count(*) / count(DISTINCT customer_id) AS rows_each
FROM sug.campaign;
-- A huge n gives every candidate, then the popular items.
SELECT count(*) AS rows, count(DISTINCT item_id) AS distinct_items, max(rank) AS last_rank
FROM personalize.suggestions(8, 'sug.history', 'sug.sims', 2147483647);
-- Decay off (NULL half_life): the same candidates, other weights.
SELECT count(*) AS rows FROM personalize.suggestions(8, 'sug.history', 'sug.sims', 5, half_life => NULL);

-- Composable: a LATERAL call per customer, a table with quoted names.
CREATE TABLE sug."Odd ""Name""" AS SELECT customer_id, item_id, bought_at FROM sug.history;
SELECT c.customer_id, s.rank, s.item_id
FROM (VALUES (8), (42)) AS c(customer_id),
     LATERAL personalize.suggestions(c.customer_id, 'sug."Odd ""Name"""', 'sug.sims', 2) s
ORDER BY 1, 2;

-- Bad input: each error names its argument.
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', 'sug.sims', 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', 'sug.sims', -5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', 'sug.sims', NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, NULL, 'sug.sims')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', 'sug.sims', category_cap => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', 'sug.sims', category_cap => 2)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', 'sug.sims', half_life => '-1 day')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', 'sug.sims', half_life => '0')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', 'sug.sims', min_history => -1)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.orders', 'sug.sims')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_suggestions('sug.products', 'sug.history', 'sug.sims')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_suggestions(NULL, 'sug.history', 'sug.sims', 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(8, 'sug.history', 'sug.sims', popular => 'sug.items')$$);
CREATE TABLE sug.bad_sims AS SELECT * FROM sug.sims;
UPDATE sug.bad_sims SET score = 'NaN' WHERE item = 1 AND neighbour <> 1;
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_suggestions(NULL, 'sug.history', 'sug.bad_sims')$$);
CREATE TABLE sug.forever AS SELECT 1::bigint AS customer_id, 1::bigint AS item_id, 'infinity'::timestamptz AS bought_at;
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'sug.forever', 'sug.sims')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_suggestions(NULL, 'sug.forever', 'sug.sims')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.item_similarities(NULL, 'pearson')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.item_similarities(NULL, neighbours => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.item_similarities(NULL, min_count => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.item_similarities(NULL, measure => NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.item_similarities(NULL, max_basket_size => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.popular_items('sug.history', k => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.popular_items('sug.history', k => NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.popular_items(NULL)$$);

-- NULLs and empty input: NULL ids are skipped, NULL times count as the
-- oldest purchase, no baskets give no model, an empty model gives popular
-- items only.
CREATE TABLE sug.nulls (customer_id bigint, item_id bigint, bought_at timestamptz);
INSERT INTO sug.nulls VALUES (1, NULL, now()), (NULL, 5, now()), (1, 3, NULL), (1, 4, '2025-06-01');
SELECT rank, source FROM personalize.suggestions(1, 'sug.nulls', 'sug.sims', 2);
SELECT count(*) AS rows FROM personalize.item_similarities(NULL);
SELECT count(*) AS rows FROM personalize.item_similarities('{}');
CREATE TABLE sug.empty_sims AS SELECT * FROM sug.sims WHERE false;
SELECT count(*) AS rows, count(*) FILTER (WHERE source = 'popular') AS popular
FROM personalize.suggestions(8, 'sug.history', 'sug.empty_sims', popular => 'sug.popular');
SELECT count(*) AS rows FROM personalize.suggestions(8, 'sug.history', 'sug.empty_sims');
SELECT count(*) AS rows FROM personalize.batch_suggestions(NULL, 'sug.nulls', 'sug.empty_sims');

-- Offline metrics.
SELECT * FROM personalize.ranking_metrics(ARRAY[10, 20, 30, 40]::bigint[], ARRAY[30, 10, 99]::bigint[], 4);
SELECT * FROM personalize.ranking_metrics(ARRAY[5, 5, NULL, 6]::bigint[], ARRAY[6, 5]::bigint[], 3);
SELECT * FROM personalize.ranking_metrics(NULL, ARRAY[1]::bigint[], 10);
SELECT * FROM personalize.ranking_metrics(ARRAY[1]::bigint[], '{}', 10);
SELECT * FROM personalize.ranking_metrics(ARRAY[1]::bigint[], NULL, 10);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ranking_metrics(ARRAY[1]::bigint[], ARRAY[1]::bigint[], 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.ranking_metrics(ARRAY[1]::bigint[], ARRAY[1]::bigint[], NULL)$$);
CREATE TEMP TABLE recs (customer_id bigint, recommended bigint[]);
INSERT INTO recs VALUES (1, '{10,20,30}'), (2, '{30}'), (3, '{40,50}');
CREATE TEMP TABLE truth (customer_id bigint, relevant bigint[]);
INSERT INTO truth VALUES (1, '{20}'), (2, '{30,31}'), (4, '{60}'), (5, '{}');
SELECT customers, round(precision_at_k::numeric, 4) AS p, round(recall_at_k::numeric, 4) AS r,
       round(ndcg_at_k::numeric, 4) AS ndcg, coverage, items_recommended
FROM personalize.evaluate_recommendations('recs', 'truth', 2, 100);
-- Popularity bias over the same first k: 3 items recommended once each out of
-- 100 (Gini (95 + 97 + 99) / 300 = 0.97; over the 3 shown items alone 0);
-- ARP from a popularity table: customer 1 (0.5 + 0.1) / 2, customer 2 0.3.
CREATE TEMP TABLE pop (item_id bigint, popularity float8);
INSERT INTO pop VALUES (10, 0.5), (20, 0.1), (30, 0.3);
SELECT round(gini::numeric, 4) AS gini, round(arp::numeric, 4) AS arp
FROM personalize.evaluate_recommendations('recs', 'truth', 2, 100, 'pop');
SELECT round(gini::numeric, 4) AS gini, arp FROM personalize.evaluate_recommendations('recs', 'truth', 2);
SELECT pg_temp.error_of($$SELECT * FROM personalize.evaluate_recommendations('recs', 'truth', 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.evaluate_recommendations('recs', 'truth', NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.evaluate_recommendations(NULL, 'truth')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.evaluate_recommendations('recs', 'truth', 10, 0)$$);
-- No recommendations at all: every customer with relevant items counts, as a miss.
CREATE TEMP TABLE no_recs (customer_id bigint, recommended bigint[]);
SELECT * FROM personalize.evaluate_recommendations('no_recs', 'truth');

-- Memory: over personalize.memory_limit a clear error; nothing leaks.
SET personalize.memory_limit = '64kB';
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_suggestions(NULL, 'sug.history', 'sug.sims')$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM personalize.item_similarities((SELECT personalize.baskets(customer_id, item_id) FROM sug.history))$$) LIKE '53200: %memory_limit%' AS similarities_over_limit;
SET personalize.memory_limit = '128MB';
SELECT personalize.live_cpp_objects() AS live_cpp_objects;

-- statement_timeout stops a long pair count inside C++.
CREATE TEMP TABLE big AS
SELECT personalize.baskets(g / 500, (g * 7919) % 4000) AS b FROM generate_series(1::bigint, 500000) g;
SET statement_timeout = '100ms';
SELECT count(*) FROM big, personalize.item_similarities(big.b, neighbours => 100, min_count => 1);
RESET statement_timeout;
SELECT personalize.live_cpp_objects() AS live_cpp_objects;

DROP SCHEMA sug CASCADE;

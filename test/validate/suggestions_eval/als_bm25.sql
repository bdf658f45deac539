-- ALS with BM25 confidence weighting (as implicit's bm25_weight; docs/als.md,
-- "Weighting"): each (customer, item) count n becomes
--   n (K1 + 1) / (K1 ((1 - B) + B len / avg_len) + n) * idf,   idf = ln(N / (1 + df))
-- (len: the customer's purchases, N customers, df: the item's customers;
-- K1 100, B 0.8), so best sellers weigh less and long histories are damped;
-- an idf below 0.1 is raised to 0.1. Then als.sql's fit and serving.
-- Variables: factors, iterations, regularization, alpha.
DROP TABLE IF EXISTS eval.als, eval.recs;
CREATE TABLE eval.als AS
WITH c AS (SELECT customer_id, item_id, count(*)::float8 AS n FROM eval.train GROUP BY customer_id, item_id),
     u AS (SELECT customer_id, sum(n) AS len FROM c GROUP BY customer_id),
     s AS (SELECT avg(len) AS avg_len, count(*)::float8 AS customers FROM u),
     i AS (SELECT item_id, count(*)::float8 AS df FROM c GROUP BY item_id)
SELECT personalize.als_fit(c.customer_id, c.item_id,
                           c.n * 101 / (100 * (0.2 + 0.8 * u.len / s.avg_len) + c.n) * greatest(ln(s.customers / (1 + i.df)), 0.1),
                           :factors, :iterations, :regularization, :alpha, 0) AS model
FROM c JOIN u USING (customer_id) JOIN i USING (item_id), s;
CREATE TABLE eval.recs AS
SELECT r.customer_id, r.items AS recommended
FROM eval.als m, personalize.als_recommend_batch(m.model, 10, (SELECT array_agg(customer_id) FROM eval.customers)) r;

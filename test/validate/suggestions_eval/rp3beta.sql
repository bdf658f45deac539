-- RP3beta (docs/suggestions.md): rp3beta_similarities over customer
-- baskets, served by batch_suggestions like the item-item scorer.
-- Variables: alpha, beta, neighbours, min_count.
DROP TABLE IF EXISTS eval.sims, eval.recs;
CREATE TABLE eval.sims AS
SELECT * FROM personalize.rp3beta_similarities(
    (SELECT personalize.baskets(customer_id, item_id) FROM eval.train), :alpha, :beta, :neighbours, :min_count);
CREATE TABLE eval.recs AS
SELECT customer_id, array_agg(item_id ORDER BY rank) AS recommended
FROM personalize.batch_suggestions('eval.customers', 'eval.train', 'eval.sims', 10, items => 'eval.items')
GROUP BY customer_id;

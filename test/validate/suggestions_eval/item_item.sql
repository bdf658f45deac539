-- The extension's item-item scorer: item_similarities over baskets of
-- :basket (customer_id or basket_id) and batch_suggestions.
-- Variables: measure, neighbours, min_count, basket, half_life (an interval
-- literal or NULL), min_history.
DROP TABLE IF EXISTS eval.sims, eval.recs;
CREATE TABLE eval.sims AS
SELECT * FROM personalize.item_similarities(
    (SELECT personalize.baskets(:basket, item_id) FROM eval.train), :'measure', :neighbours, :min_count);
CREATE TABLE eval.recs AS
SELECT customer_id, array_agg(item_id ORDER BY rank) AS recommended
FROM personalize.batch_suggestions('eval.customers', 'eval.train', 'eval.sims', 10, items => 'eval.items',
                                   half_life => :half_life, min_history => :min_history)
GROUP BY customer_id;

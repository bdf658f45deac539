-- The demo shop's bench data (loaded in schema bench_shop): completed orders
-- before :train_end train, the following period to :test_end tests (the
-- test split: 2025-10-01, 2026-01-01; the validation split one quarter earlier).
-- Consumables are re-buyable, as in the demo.
CREATE TABLE eval.items AS
SELECT product_id AS item_id, category,
       name ~ '^(Coffee beans|Paper filters|Ink cartridge|Printer paper|Photo paper|Razor blades|Shampoo|Lip balm|Dog treats|Cat litter|Cat food|Seed packet) '
           AS rebuyable
FROM bench_shop.products;
CREATE TABLE eval.train AS
SELECT o.customer_id, o.order_id AS basket_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id)
WHERE o.status = 'completed' AND o.ordered_at < :'train_end';
CREATE TABLE eval.test_lines AS
SELECT o.customer_id, l.product_id AS item_id
FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id)
WHERE o.status = 'completed' AND o.ordered_at >= :'train_end' AND o.ordered_at < :'test_end';

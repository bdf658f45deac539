-- The demo shop's bench data (loaded in schema bench_shop): completed orders
-- before 2025-10-01 train, the last quarter (to 2026-01-01) tests.
-- Consumables are re-buyable, as in the demo.
CREATE TABLE eval.items AS
SELECT product_id AS item_id, category,
       name ~ '^(Coffee beans|Paper filters|Ink cartridge|Printer paper|Photo paper|Razor blades|Shampoo|Lip balm|Dog treats|Cat litter|Cat food|Seed packet) '
           AS rebuyable
FROM bench_shop.products;
CREATE TABLE eval.train AS
SELECT o.customer_id, o.order_id AS basket_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id)
WHERE o.status = 'completed' AND o.ordered_at < '2025-10-01';
CREATE TABLE eval.test_lines AS
SELECT o.customer_id, l.product_id AS item_id
FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id)
WHERE o.status = 'completed' AND o.ordered_at >= '2025-10-01' AND o.ordered_at < '2026-01-01';

-- The incremental refresh (refresh(full => false), docs/pipeline.md): after
-- new orders, a changed order, a cancelled one, a new customer and a later
-- as_of, it writes what a full refresh writes, on every output table
-- (EXCEPT both ways), recomputing only the customers whose orders changed.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';

\i test/sql/include/error_of.sql
-- The segment snapshots of the tests before, put back at the end.
CREATE TEMP TABLE saved_segment_history AS SELECT * FROM personalize.segment_history;

SELECT count(*) AS tables FROM personalize.load_demo_shop('inc_shop', 'tiny', 1);
SELECT count(*) AS settings
FROM personalize.configure_shop('inc_shop.orders', 'inc_shop.order_lines', 'inc_shop.customers',
                                'inc_shop.products', 'inc_shop.sessions',
                                settings => '{"as_of": "2026-01-01", "rules_min_count": 5}');

-- Every output of a refresh, as rows to compare (refreshed_at and
-- trained_at are the refresh's own time).
CREATE FUNCTION pg_temp.snapshot(name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS pg_temp.%1$I_profiles, pg_temp.%1$I_history, pg_temp.%1$I_items,
                        pg_temp.%1$I_rules, pg_temp.%1$I_sims, pg_temp.%1$I_popular, pg_temp.%1$I_segments,
                        pg_temp.%1$I_models', name);
    EXECUTE format('CREATE TEMP TABLE %I_profiles AS SELECT customer_id, lifecycle_stage, signed_up_at, orders,
                        first_order_at, last_order_at, days_since_last_order, frequency, recency, age, monetary, total,
                        r, f, m, segment, previous_segment, cluster, p_alive, churn_risk, expected_orders_30d,
                        expected_orders_90d, expected_orders_365d, clv, clv_lower, clv_upper, expected_next_order_at,
                        as_of FROM personalize.customer_profiles', name);
    EXECUTE format('CREATE TEMP TABLE %I_history AS SELECT * FROM personalize.purchase_history', name);
    EXECUTE format('CREATE TEMP TABLE %I_items AS SELECT * FROM personalize.shop_items', name);
    EXECUTE format('CREATE TEMP TABLE %I_rules AS SELECT * FROM personalize.product_rules', name);
    EXECUTE format('CREATE TEMP TABLE %I_sims AS SELECT * FROM personalize.item_similarities', name);
    EXECUTE format('CREATE TEMP TABLE %I_popular AS SELECT * FROM personalize.popular_items', name);
    EXECUTE format('CREATE TEMP TABLE %I_segments AS SELECT * FROM personalize.segment_history', name);
    -- The holdout check of the similarities too: after an incremental
    -- purchase_history it is taken anew, and equals a full refresh's.
    EXECUTE format('CREATE TEMP TABLE %I_models AS SELECT name, parameters, as_of, trained_on,
                        CASE WHEN name = ''item_similarities'' THEN quality -> ''holdout'' END AS holdout
                    FROM personalize.models', name);
END $$;
-- Rows of each output in one snapshot and not the other, both ways.
CREATE FUNCTION pg_temp.differences(a text, b text)
    RETURNS TABLE (output text, only_in_first bigint, only_in_second bigint) LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['profiles', 'history', 'items', 'rules', 'sims', 'popular', 'segments', 'models'] LOOP
        output := t;
        EXECUTE format('SELECT count(*) FROM (SELECT * FROM pg_temp.%1$I EXCEPT ALL SELECT * FROM pg_temp.%2$I) x',
                       a || '_' || t, b || '_' || t) INTO only_in_first;
        EXECUTE format('SELECT count(*) FROM (SELECT * FROM pg_temp.%2$I EXCEPT ALL SELECT * FROM pg_temp.%1$I) x',
                       a || '_' || t, b || '_' || t) INTO only_in_second;
        RETURN NEXT;
    END LOOP;
END $$;

-- The first refresh has nothing to start from: every stage rebuilds.
SELECT stage, quality ->> 'mode' AS mode FROM personalize.refresh()
WHERE stage IN ('summaries', 'purchase_history', 'product_rules', 'item_similarities');

-- Nothing changed: nobody is recomputed, rules and similarities are kept,
-- and the result is the full refresh's.
SELECT stage, quality ->> 'mode' AS mode, quality ->> 'customers_recomputed' AS recomputed
FROM personalize.refresh()
WHERE stage IN ('summaries', 'purchase_history', 'product_rules', 'item_similarities');
SELECT pg_temp.snapshot('inc');
SELECT count(*) AS stages FROM personalize.refresh(full => true);
SELECT pg_temp.snapshot('rebuilt');
SELECT * FROM pg_temp.differences('inc', 'rebuilt');

-- The shop changes: three new orders of existing customers, a new
-- customer with an order, a prospect signing up, an order's total
-- changed, another's time moved, one cancelled; and as_of moves on.
CREATE TEMP TABLE picked AS
SELECT array_agg(customer_id ORDER BY customer_id) AS ids FROM (
    SELECT customer_id FROM inc_shop.orders WHERE status = 'completed' GROUP BY customer_id HAVING count(*) >= 3
    ORDER BY customer_id LIMIT 6) c;
INSERT INTO inc_shop.customers VALUES (900001, '2025-12-01', 'GB', true), (900002, '2025-12-20', 'GB', false);
INSERT INTO inc_shop.orders (order_id, customer_id, ordered_at, status, total, line_count)
SELECT 990000 + i, CASE WHEN i = 4 THEN 900001 ELSE (SELECT ids[i] FROM picked) END,
       timestamptz '2026-01-05 10:00' + i * interval '1 day', 'completed', 20 + i, 2
FROM generate_series(1, 4) i;
INSERT INTO inc_shop.order_lines (order_id, line_no, product_id, quantity, unit_price, amount)
SELECT 990000 + i, n, (SELECT min(product_id) FROM inc_shop.products) + i * 3 + n, 1, 10, 10
FROM generate_series(1, 4) i, generate_series(1, 2) n;
UPDATE inc_shop.orders SET total = total + 7
WHERE order_id = (SELECT min(order_id) FROM inc_shop.orders WHERE customer_id = (SELECT ids[4] FROM picked));
UPDATE inc_shop.orders SET ordered_at = ordered_at - interval '3 days'
WHERE order_id = (SELECT max(order_id) FROM inc_shop.orders WHERE customer_id = (SELECT ids[5] FROM picked)
                                                             AND ordered_at < '2026-01-01');
UPDATE inc_shop.orders SET status = 'cancelled'
WHERE order_id = (SELECT max(order_id) FROM inc_shop.orders WHERE customer_id = (SELECT ids[6] FROM picked)
                                                             AND ordered_at < '2026-01-01');
UPDATE personalize.shop_settings SET value = '2026-01-15' WHERE key = 'as_of';

-- The incremental refresh recomputes the six changed customers and the
-- new one (orders after the old as_of count now too: their customers
-- change as well), rebuilds the rules and similarities, and equals a full
-- refresh.
CREATE TEMP TABLE changed_now AS
SELECT count(DISTINCT customer_id) AS customers FROM inc_shop.orders
WHERE (ordered_at > '2026-01-01' AND ordered_at <= '2026-01-15' AND status = 'completed')
   OR customer_id IN (SELECT unnest(ids[4:6]) FROM picked);
-- purchase_history merges the new orders' lines of the three customers
-- whose earlier orders are as they were and of the new customer, and
-- recomputes the others.
SELECT stage, quality ->> 'mode' AS mode,
       (quality ->> 'customers_recomputed')::bigint = (SELECT customers FROM changed_now) AS recomputed_the_changed,
       quality ->> 'customers_merged' AS merged
FROM personalize.refresh()
WHERE stage IN ('summaries', 'purchase_history', 'product_rules', 'item_similarities');
SELECT pg_temp.snapshot('inc');
SELECT stage, quality ->> 'mode' AS mode FROM personalize.refresh(full => true)
WHERE stage IN ('summaries', 'purchase_history', 'product_rules', 'item_similarities');
SELECT pg_temp.snapshot('rebuilt');
SELECT * FROM pg_temp.differences('inc', 'rebuilt');
SELECT (SELECT count(*) FROM rebuilt_profiles WHERE customer_id = 900001 AND orders = 1) AS new_customer,
       (SELECT count(*) FROM rebuilt_profiles WHERE customer_id = 900002 AND lifecycle_stage = 'prospect') AS new_prospect;

-- An order deleted, and a setting changed (every stage rebuilds: another
-- basis); then an incremental refresh after a deletion alone.
DELETE FROM inc_shop.order_lines WHERE order_id = 990002;
DELETE FROM inc_shop.orders WHERE order_id = 990002;
UPDATE personalize.shop_settings SET value = '6' WHERE key = 'rules_min_count';
SELECT stage, quality ->> 'mode' AS mode FROM personalize.refresh()
WHERE stage IN ('summaries', 'purchase_history', 'product_rules', 'item_similarities');
DELETE FROM inc_shop.order_lines WHERE order_id = 990003;
DELETE FROM inc_shop.orders WHERE order_id = 990003;
SELECT stage, quality ->> 'mode' AS mode, quality ->> 'customers_recomputed' AS recomputed
FROM personalize.refresh()
WHERE stage IN ('summaries', 'purchase_history', 'product_rules', 'item_similarities');
SELECT pg_temp.snapshot('inc');
SELECT count(*) AS stages FROM personalize.refresh(full => true);
SELECT pg_temp.snapshot('rebuilt');
SELECT * FROM pg_temp.differences('inc', 'rebuilt');

-- Profiles edited by hand: the summaries are rebuilt rather than trusted.
DELETE FROM personalize.customer_profiles WHERE customer_id = (SELECT ids[1] FROM picked);
SELECT stage, quality ->> 'mode' AS mode FROM personalize.refresh(ARRAY['customer_profiles']) WHERE stage = 'summaries';
SELECT count(*) AS profile_back FROM personalize.customer_profiles WHERE customer_id = (SELECT ids[1] FROM picked);

-- Two refreshes in one transaction, the orders changing in between.
BEGIN;
SELECT count(*) AS stages FROM personalize.refresh();
INSERT INTO inc_shop.orders VALUES (990010, (SELECT ids[2] FROM picked), '2026-01-10', 'completed', 15, 0);
SELECT stage, quality ->> 'customers_recomputed' AS recomputed FROM personalize.refresh(ARRAY['customer_profiles'])
WHERE stage = 'summaries';
COMMIT;
SELECT orders = (SELECT count(*) FROM inc_shop.orders o WHERE o.customer_id = p.customer_id AND o.status = 'completed'
                                                       AND o.ordered_at <= '2026-01-15') AS counted
FROM personalize.customer_profiles p WHERE customer_id = (SELECT ids[2] FROM picked);

-- The nightly case: only new orders, after the previous as_of. Customers
-- whose earlier orders are as they were get the new orders' lines merged
-- into their purchase_history rows (an item bought before as well: its
-- count adds up), the rules merge the new baskets into the stored
-- collection, and both equal a full refresh.
SELECT count(*) AS stages FROM personalize.refresh(full => true);
INSERT INTO inc_shop.orders (order_id, customer_id, ordered_at, status, total, line_count)
SELECT 990020 + i, (SELECT ids[i] FROM picked), timestamptz '2026-01-20 10:00' + i * interval '1 day', 'completed',
       30 + i, 2
FROM generate_series(1, 3) i;
INSERT INTO inc_shop.order_lines (order_id, line_no, product_id, quantity, unit_price, amount)
SELECT 990020 + i, 1, (SELECT min(l.product_id) FROM inc_shop.order_lines l JOIN inc_shop.orders o USING (order_id)
                       WHERE o.customer_id = (SELECT ids[i] FROM picked) AND o.status = 'completed'), 1, 10, 10
FROM generate_series(1, 3) i
UNION ALL
SELECT 990020 + i, 2, (SELECT max(product_id) FROM inc_shop.products) - i, 1, 10, 10 FROM generate_series(1, 3) i;
UPDATE personalize.shop_settings SET value = '2026-01-31' WHERE key = 'as_of';
SELECT stage, quality ->> 'mode' AS mode, quality ->> 'customers_recomputed' AS recomputed,
       quality ->> 'customers_merged' AS merged
FROM personalize.refresh()
WHERE stage IN ('summaries', 'purchase_history', 'product_rules', 'item_similarities');
SELECT pg_temp.snapshot('inc');
SELECT count(*) AS stages FROM personalize.refresh(full => true);
SELECT pg_temp.snapshot('rebuilt');
SELECT * FROM pg_temp.differences('inc', 'rebuilt');
SELECT count(*) AS baskets_stored FROM personalize.refresh_baskets;

DELETE FROM personalize.segment_history;
INSERT INTO personalize.segment_history SELECT * FROM saved_segment_history;
DELETE FROM personalize.shop_settings;
DELETE FROM personalize.shop_source;
DELETE FROM personalize.offer_context_source;
DELETE FROM personalize.refresh_state;
DELETE FROM personalize.refresh_fingerprints;
DELETE FROM personalize.refresh_baskets;
DROP SCHEMA inc_shop CASCADE;

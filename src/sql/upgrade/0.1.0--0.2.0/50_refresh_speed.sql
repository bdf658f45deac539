-- The refresh's speed (issue 14, docs/BENCHMARKS.md): purchase_history keeps
-- each item's first purchase, so a full refresh writes the history once (the
-- holdout check of the suggestions reads it instead of a temporary copy),
-- and the stages below as they are in src/sql/97_pipeline.sql.
-- purchase_history is new in 0.2.0 and empty here: NOT NULL needs no default.
ALTER TABLE purchase_history ADD COLUMN first_bought_at timestamptz NOT NULL;
COMMENT ON COLUMN purchase_history.first_bought_at IS 'the earliest completed order with it (the suggestions'' holdout check)';

-- The basket collection (one basket per completed order) product_rules was
-- last built from: an incremental refresh merges the new orders' baskets
-- into it (merge_baskets) instead of collecting every order line again.
-- Not dumped: after a restore the rules are rebuilt once.
CREATE TABLE refresh_baskets (
    stage   text PRIMARY KEY,
    baskets baskets NOT NULL,
    as_of   timestamptz NOT NULL
);
COMMENT ON TABLE refresh_baskets IS 'internal: the basket collection of the last product_rules refresh (incremental refresh)';
COMMENT ON COLUMN refresh_baskets.stage IS 'the stage (product_rules)';
COMMENT ON COLUMN refresh_baskets.baskets IS 'its baskets: one per completed order up to as_of';
COMMENT ON COLUMN refresh_baskets.as_of IS 'the as_of they were collected for';

-- Internal: records what `stage` was built from: the fingerprints of the
-- changed customers (incremental) or of all (a rebuild), and the basis.
CREATE OR REPLACE FUNCTION refresh_record(stage text, as_of timestamptz, incremental boolean)
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF incremental THEN
        EXECUTE format('DELETE FROM personalize.refresh_fingerprints f
                        WHERE f.stage = $1 AND f.customer_id IN (SELECT c.customer_id FROM pg_temp.%1$I c)',
                       'personalize_changed_' || stage) USING stage;
        EXECUTE format('INSERT INTO personalize.refresh_fingerprints (stage, customer_id, orders, digest)
                        SELECT $1, p.customer_id, p.orders, p.digest FROM pg_temp.personalize_refresh_fingerprints p
                        WHERE p.customer_id IN (SELECT c.customer_id FROM pg_temp.%1$I c)',
                       'personalize_changed_' || stage) USING stage;
    ELSE
        -- Only the rows that differ are rewritten: after a full refresh of
        -- an unchanged shop that is none (rewriting all 172k rows of the
        -- bench shop took 2 s per stage).
        DELETE FROM personalize.refresh_fingerprints f
        WHERE f.stage = refresh_record.stage
          AND NOT EXISTS (SELECT 1 FROM pg_temp.personalize_refresh_fingerprints p
                          WHERE p.customer_id = f.customer_id AND p.orders = f.orders AND p.digest = f.digest);
        INSERT INTO personalize.refresh_fingerprints (stage, customer_id, orders, digest)
        SELECT stage, p.customer_id, p.orders, p.digest FROM pg_temp.personalize_refresh_fingerprints p
        WHERE NOT EXISTS (SELECT 1 FROM personalize.refresh_fingerprints f
                          WHERE f.stage = refresh_record.stage AND f.customer_id = p.customer_id);
    END IF;
    INSERT INTO personalize.refresh_state AS s (stage, basis, as_of)
    VALUES (stage, personalize.refresh_basis(), as_of)
    ON CONFLICT ON CONSTRAINT refresh_state_pkey DO UPDATE SET basis = excluded.basis, as_of = excluded.as_of;
END
$fn$;
COMMENT ON FUNCTION refresh_record(text, timestamptz, boolean) IS
    'internal: records the fingerprints and basis a stage was built from';

-- Internal: of the customers refresh_changes(stage) found changed, those
-- whose completed orders up to `previous` (the stage's last as_of) are the
-- ones it was built from (the same fingerprint; none then and none now for
-- a new customer): only their orders after `previous` are new, and an
-- additive output merges them instead of recomputing the customer. In
-- pg_temp.personalize_appended_<stage>; returns their number.
CREATE OR REPLACE FUNCTION refresh_appended(stage text, previous timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET extra_float_digits = 3  -- the totals' text in the digest, as refresh_changes() takes it
AS $fn$
DECLARE
    appended text := 'personalize_appended_' || stage;
    n bigint;
BEGIN
    PERFORM personalize.drop_temp_tables(ARRAY[appended]);
    EXECUTE format($q$
        CREATE TEMP TABLE %1$I ON COMMIT DROP AS
        SELECT ch.customer_id
        FROM pg_temp.%2$I ch
        LEFT JOIN (SELECT * FROM personalize.refresh_fingerprints x WHERE x.stage = %3$L) f
            ON f.customer_id = ch.customer_id
        LEFT JOIN (SELECT o.customer_id, count(*) AS orders,
                          sum(hashtextextended(concat_ws('|', o.order_id, extract(epoch FROM o.ordered_at), o.total),
                                               0)::numeric) AS digest
                   FROM (%4$s) o
                   WHERE o.customer_id IN (SELECT c.customer_id FROM pg_temp.%2$I c)
                   GROUP BY o.customer_id) c
            ON c.customer_id = ch.customer_id
        WHERE (f.orders, f.digest) IS NOT DISTINCT FROM (c.orders, c.digest)$q$,
        appended, 'personalize_changed_' || stage, stage, personalize.completed_orders_sql())
        USING previous;
    GET DIAGNOSTICS n = ROW_COUNT;
    EXECUTE format('ANALYZE pg_temp.%I', appended);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION refresh_appended(text, timestamptz) IS
    'internal: the changed customers of a stage whose only change is orders after its last as_of';

-- Internal: the number of customers with rows in purchase_history. During
-- a refresh they are among the customers of the fingerprints taken from the
-- orders, so one probe of the primary key each counts them, far cheaper
-- than count(DISTINCT) over every row (8.46M on the bench shop).
CREATE OR REPLACE FUNCTION history_customers()
    RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
    IF to_regclass('pg_temp.personalize_refresh_fingerprints') IS NULL THEN
        SELECT count(*) INTO n FROM (SELECT DISTINCT h.customer_id FROM personalize.purchase_history h) d;
    ELSE
        SELECT count(*) INTO n FROM pg_temp.personalize_refresh_fingerprints f
        WHERE EXISTS (SELECT 1 FROM personalize.purchase_history h WHERE h.customer_id = f.customer_id);
    END IF;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION history_customers() IS 'internal: the customers with a purchase history';

-- purchase_history and shop_items. Incremental: the rows of the customers
-- whose orders changed are replaced, from their orders only (the orders'
-- index on customer_id and the order lines' on order_id make it touch just
-- those rows). first_bought_at is what the holdout check of the suggestions
-- needs (bought before the split or not), so the history is written once.
CREATE OR REPLACE FUNCTION refresh_purchase_history(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    items bigint := 0;
    cols text;
    changed bigint := personalize.refresh_changes('purchase_history', as_of);
    previous timestamptz;
BEGIN
    IF changed IS NOT NULL THEN
        SELECT s.as_of INTO previous FROM personalize.refresh_state s WHERE s.stage = 'purchase_history';
        IF changed > 0 AND previous <= as_of THEN
            -- The customers whose only change is orders after the previous
            -- as_of: the new orders' lines are merged into their rows
            -- (counts add up, the latest and earliest purchase are the
            -- greatest and least), reading just the new orders.
            PERFORM personalize.refresh_appended('purchase_history', previous);
            EXECUTE format($q$
                INSERT INTO personalize.purchase_history AS h (customer_id, item_id, bought_at, lines, first_bought_at)
                SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at), count(*), min(o.ordered_at)
                FROM (%s) o JOIN %s l ON l.order_id = o.order_id
                WHERE l.product_id IS NOT NULL AND o.ordered_at > $2
                  AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_appended_purchase_history c)
                GROUP BY 1, 2 ORDER BY 1, 2
                ON CONFLICT ON CONSTRAINT purchase_history_pkey DO UPDATE
                SET bought_at = greatest(h.bought_at, excluded.bought_at), lines = h.lines + excluded.lines,
                    first_bought_at = least(h.first_bought_at, excluded.first_bought_at)$q$,
                personalize.completed_orders_sql(), src.order_lines)
                USING as_of, previous;
        ELSE
            PERFORM personalize.drop_temp_tables(ARRAY['personalize_appended_purchase_history']);
            CREATE TEMP TABLE personalize_appended_purchase_history (customer_id bigint) ON COMMIT DROP;
        END IF;
        -- The others: their rows replaced from all their orders.
        DELETE FROM personalize.purchase_history h
        WHERE h.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_purchase_history c
                                EXCEPT SELECT a.customer_id FROM pg_temp.personalize_appended_purchase_history a);
        IF changed > 0 THEN
            EXECUTE format($q$
                INSERT INTO personalize.purchase_history (customer_id, item_id, bought_at, lines, first_bought_at)
                SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at), count(*), min(o.ordered_at)
                FROM (%s) o JOIN %s l ON l.order_id = o.order_id
                WHERE l.product_id IS NOT NULL
                  AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_purchase_history c
                                        EXCEPT SELECT a.customer_id FROM pg_temp.personalize_appended_purchase_history a)
                GROUP BY 1, 2 ORDER BY 1, 2$q$,
                personalize.completed_orders_sql(), src.order_lines)
                USING as_of;
        END IF;
        SELECT count(*) INTO rows FROM personalize.purchase_history;
    ELSE
        DELETE FROM personalize.purchase_history;
        -- In key order: the primary key's index is then appended to, not
        -- written at random places (8.46M rows of the bench shop: 62 s
        -- against 174 s unordered, docs/BENCHMARKS.md).
        EXECUTE format($q$
            INSERT INTO personalize.purchase_history (customer_id, item_id, bought_at, lines, first_bought_at)
            SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at), count(*), min(o.ordered_at)
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id
            WHERE l.product_id IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2$q$,
            personalize.completed_orders_sql(), src.order_lines)
            USING as_of;
        GET DIAGNOSTICS rows = ROW_COUNT;
    END IF;
    PERFORM personalize.refresh_record('purchase_history', as_of, changed IS NOT NULL);
    DELETE FROM personalize.shop_items;
    IF src.products IS NOT NULL THEN
        SELECT string_agg(CASE a.attname WHEN 'category' THEN 'p.category::text' ELSE 'coalesce(p.rebuyable, false)' END,
                          ', ' ORDER BY a.attname)
        INTO cols
        FROM pg_attribute a WHERE a.attrelid = src.products AND a.attname IN ('category', 'rebuyable')
                              AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('INSERT INTO personalize.shop_items (item_id, category, rebuyable)
                        SELECT DISTINCT ON (p.product_id) p.product_id::bigint, %s, %s FROM %s p
                        WHERE p.product_id IS NOT NULL ORDER BY p.product_id',
                       CASE WHEN cols LIKE '%category%' THEN 'p.category::text' ELSE 'NULL::text' END,
                       CASE WHEN cols LIKE '%rebuyable%' THEN 'coalesce(p.rebuyable, false)' ELSE 'false' END,
                       src.products);
        GET DIAGNOSTICS items = ROW_COUNT;
    END IF;
    -- The customers with a history: a probe of the primary key per
    -- customer with orders, cheaper than count(DISTINCT) over every row.
    quality := jsonb_build_object('customers', personalize.history_customers(),
                                  'items', items, 'mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'incremental' END,
                                  'customers_recomputed',
                                  coalesce(changed, (SELECT count(*) FROM pg_temp.personalize_refresh_fingerprints)));
    IF changed IS NOT NULL THEN
        quality := quality || jsonb_build_object('customers_merged',
                                                 (SELECT count(*) FROM pg_temp.personalize_appended_purchase_history));
    END IF;
END
$fn$;
COMMENT ON FUNCTION refresh_purchase_history(timestamptz, timestamptz) IS 'refresh stage: purchase_history and shop_items';

-- Association rules of the completed orders (model product_rules).
CREATE OR REPLACE FUNCTION refresh_product_rules(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    min_count bigint := personalize.shop_setting('rules_min_count')::bigint;
    per_item integer := personalize.shop_setting('rules_per_item')::integer;
    orders bigint;
    changed bigint := personalize.refresh_changes('product_rules', as_of);
    previous timestamptz;
    collected personalize.baskets;
    added personalize.baskets;
    merged boolean := false;
BEGIN
    -- Rules count every basket: any changed order rebuilds them; no change
    -- keeps them (and their model row, now as of this refresh).
    IF changed = 0 AND EXISTS (SELECT 1 FROM personalize.models m WHERE m.name = 'product_rules') THEN
        UPDATE personalize.models m SET as_of = refresh_product_rules.as_of WHERE m.name = 'product_rules';
        SELECT count(*) INTO rows FROM personalize.product_rules;
        SELECT m.quality || jsonb_build_object('mode', 'kept: no order changed') INTO quality
        FROM personalize.models m WHERE m.name = 'product_rules';
        UPDATE personalize.refresh_baskets r SET as_of = refresh_product_rules.as_of WHERE r.stage = 'product_rules';
        PERFORM personalize.refresh_record('product_rules', as_of, true);
        RETURN;
    END IF;
    -- Only orders after the previous as_of are new (refresh_appended() of
    -- every changed customer) and the collection they were added to is
    -- stored: their baskets are merged into it; otherwise every order's.
    SELECT s.as_of INTO previous FROM personalize.refresh_state s WHERE s.stage = 'product_rules';
    SELECT r.baskets INTO collected FROM personalize.refresh_baskets r
    WHERE r.stage = 'product_rules' AND r.as_of = previous;
    IF changed > 0 AND previous <= as_of AND collected IS NOT NULL THEN
        merged := personalize.refresh_appended('product_rules', previous) = changed;
    END IF;
    IF merged THEN
        EXECUTE format($q$
            SELECT personalize.baskets(o.order_id, l.product_id::bigint)
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id
            WHERE o.ordered_at > $2
              AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_appended_product_rules c)$q$,
            personalize.completed_orders_sql(), src.order_lines)
            INTO added USING as_of, previous;
        collected := coalesce(personalize.merge_baskets(collected, added), collected);
    ELSE
        EXECUTE format($q$
            SELECT personalize.baskets(o.order_id, l.product_id::bigint)
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id$q$,
            personalize.completed_orders_sql(), src.order_lines)
            INTO collected USING as_of;
    END IF;
    DELETE FROM personalize.product_rules;
    WITH rules AS (
        SELECT r.*, row_number() OVER (PARTITION BY r.antecedent ORDER BY r.certainty DESC, r.consequent) AS strength
        FROM personalize.association_rules(collected, min_count => min_count, min_len => 1) r),
    ins AS (
        INSERT INTO personalize.product_rules
        SELECT r.antecedent, r.consequent, r.count, r.antecedent_support, r.consequent_support, r.support,
               r.confidence, r.lift, r.leverage, r.conviction, r.jaccard, r.certainty, r.kulczynski, r.zhangs_metric
        FROM rules r WHERE r.strength <= per_item OR r.antecedent = '{}'
        RETURNING 1)
    SELECT count(*) INTO rows FROM ins;
    orders := (personalize.basket_stats(collected)).basket_count;
    DELETE FROM personalize.refresh_baskets r WHERE r.stage = 'product_rules';
    IF collected IS NOT NULL THEN
        INSERT INTO personalize.refresh_baskets (stage, baskets, as_of) VALUES ('product_rules', collected, as_of);
    END IF;
    quality := jsonb_build_object('orders', coalesce(orders, 0), 'rules', rows,
                                  'items', (SELECT count(*) FROM personalize.product_rules r WHERE r.antecedent = '{}'));
    PERFORM personalize.store_model('product_rules',
                                    jsonb_build_object('min_count', min_count, 'min_len', 1, 'rules_per_item', per_item),
                                    as_of, coalesce(orders, 0), quality);
    PERFORM personalize.refresh_record('product_rules', as_of, changed IS NOT NULL);
    quality := quality || jsonb_build_object('mode', CASE WHEN changed IS NULL THEN 'full'
                                                          WHEN merged THEN 'merged: new orders'
                                                          ELSE 'rebuilt: orders changed' END);
END
$fn$;
COMMENT ON FUNCTION refresh_product_rules(timestamptz, timestamptz) IS 'refresh stage: association rules';

-- Internal: nDCG@10 of the item-item suggestions against the best sellers
-- on the holdout: both built from the purchases up to holdout_from, scored
-- on the items a sample of customers bought after it (and not before).
-- Reads purchase_history (first_bought_at tells bought before the split or
-- not); the sampled customers' latest purchase of each item before the
-- split, which the suggestions weigh by recency, comes from their orders.
CREATE OR REPLACE FUNCTION evaluate_suggestions(as_of timestamptz, holdout_from timestamptz)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    model record;
    popular record;
    n_customers bigint;
BEGIN
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_eval_relevant', 'personalize_eval_sims',
        'personalize_eval_no_sims', 'personalize_eval_popular', 'personalize_eval_model', 'personalize_eval_baseline',
        'personalize_eval_customers', 'personalize_eval_before']);
    -- The sample: customers with items bought before the split and items
    -- first bought after it.
    CREATE TEMP TABLE personalize_eval_customers ON COMMIT DROP AS
    SELECT h.customer_id
    FROM personalize.purchase_history h
    GROUP BY h.customer_id
    HAVING bool_or(h.first_bought_at <= holdout_from) AND bool_or(h.first_bought_at > holdout_from)
    ORDER BY hashint8(h.customer_id), h.customer_id
    LIMIT personalize.shop_setting('evaluation_customers')::bigint;
    CREATE TEMP TABLE personalize_eval_relevant ON COMMIT DROP AS
    SELECT h.customer_id, array_agg(h.item_id ORDER BY h.item_id) AS relevant
    FROM personalize.purchase_history h
    WHERE h.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_eval_customers c)
      AND h.first_bought_at > holdout_from
    GROUP BY h.customer_id
    ORDER BY hashint8(h.customer_id), h.customer_id;
    SELECT count(*) INTO n_customers FROM pg_temp.personalize_eval_relevant;
    IF n_customers = 0 THEN
        RETURN jsonb_build_object('days', personalize.shop_setting('holdout_days')::integer, 'customers', 0);
    END IF;
    -- Their history before the split: the orders up to holdout_from ($1 of
    -- completed_orders_sql()).
    CREATE TEMP TABLE personalize_eval_before (customer_id bigint, item_id bigint, bought_at timestamptz)
        ON COMMIT DROP;
    EXECUTE format($q$
        INSERT INTO pg_temp.personalize_eval_before
        SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at)
        FROM (%s) o JOIN %s l ON l.order_id = o.order_id
        WHERE l.product_id IS NOT NULL
          AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_eval_customers c)
        GROUP BY 1, 2$q$,
        personalize.completed_orders_sql(), src.order_lines)
        USING holdout_from;
    ANALYZE pg_temp.personalize_eval_before;
    CREATE TEMP TABLE personalize_eval_sims ON COMMIT DROP AS
    SELECT * FROM personalize.item_similarities(
        (SELECT personalize.baskets(h.customer_id, h.item_id) FROM personalize.purchase_history h
         WHERE h.first_bought_at <= holdout_from),
        personalize.shop_setting('similarity_measure'), personalize.shop_setting('similarity_neighbours')::integer);
    CREATE TEMP TABLE personalize_eval_no_sims ON COMMIT DROP AS SELECT * FROM pg_temp.personalize_eval_sims WHERE false;
    CREATE TEMP TABLE personalize_eval_popular ON COMMIT DROP AS
    SELECT NULL::text AS segment, h.item_id, count(*)::float8 AS score, count(*) AS buyers  -- score: the order only
    FROM personalize.purchase_history h WHERE h.first_bought_at <= holdout_from
    GROUP BY h.item_id ORDER BY count(*) DESC, h.item_id LIMIT 50;
    CREATE TEMP TABLE personalize_eval_model ON COMMIT DROP AS
    SELECT b.customer_id, array_agg(b.item_id ORDER BY b.rank) AS recommended
    FROM personalize.batch_suggestions('pg_temp.personalize_eval_relevant', 'pg_temp.personalize_eval_before',
                                       'pg_temp.personalize_eval_sims', 10, items => 'personalize.shop_items',
                                       popular => 'pg_temp.personalize_eval_popular') b
    GROUP BY b.customer_id;
    CREATE TEMP TABLE personalize_eval_baseline ON COMMIT DROP AS
    SELECT b.customer_id, array_agg(b.item_id ORDER BY b.rank) AS recommended
    FROM personalize.batch_suggestions('pg_temp.personalize_eval_relevant', 'pg_temp.personalize_eval_before',
                                       'pg_temp.personalize_eval_no_sims', 10, items => 'personalize.shop_items',
                                       popular => 'pg_temp.personalize_eval_popular') b
    GROUP BY b.customer_id;
    SELECT * INTO model FROM personalize.evaluate_recommendations('pg_temp.personalize_eval_model',
                                                                  'pg_temp.personalize_eval_relevant', 10);
    SELECT * INTO popular FROM personalize.evaluate_recommendations('pg_temp.personalize_eval_baseline',
                                                                    'pg_temp.personalize_eval_relevant', 10);
    RETURN jsonb_build_object('days', personalize.shop_setting('holdout_days')::integer, 'customers', model.customers,
                              'ndcg_at_10', model.ndcg_at_k, 'precision_at_10', model.precision_at_k,
                              'recall_at_10', model.recall_at_k, 'popular_ndcg_at_10', popular.ndcg_at_k,
                              'popular_precision_at_10', popular.precision_at_k);
END
$fn$;
COMMENT ON FUNCTION evaluate_suggestions(timestamptz, timestamptz) IS
    'internal: holdout nDCG@10 of item-item suggestions against the best sellers';

-- Item similarities over purchase_history (model item_similarities);
-- quality: evaluate_suggestions().
CREATE OR REPLACE FUNCTION refresh_item_similarities(as_of timestamptz, holdout_from timestamptz, OUT rows bigint,
                                          OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    measure text := personalize.shop_setting('similarity_measure');
    neighbours integer := personalize.shop_setting('similarity_neighbours')::integer;
    customers bigint;
    changed bigint := personalize.refresh_changes('item_similarities', as_of);
BEGIN
    -- No purchase changed: the similarities (and their quality) are kept.
    IF changed = 0 AND EXISTS (SELECT 1 FROM personalize.models m WHERE m.name = 'item_similarities') THEN
        UPDATE personalize.models m SET as_of = refresh_item_similarities.as_of WHERE m.name = 'item_similarities';
        SELECT count(*) INTO rows FROM personalize.item_similarities;
        SELECT m.quality || jsonb_build_object('mode', 'kept: no order changed') INTO quality
        FROM personalize.models m WHERE m.name = 'item_similarities';
        PERFORM personalize.refresh_record('item_similarities', as_of, true);
        RETURN;
    END IF;
    DELETE FROM personalize.item_similarities;
    INSERT INTO personalize.item_similarities (item, neighbour, score, together)
    SELECT s.item, s.neighbour, s.score, s.together
    FROM personalize.item_similarities(
        (SELECT personalize.baskets(h.customer_id, h.item_id) FROM personalize.purchase_history h),
        measure, neighbours) s;
    GET DIAGNOSTICS rows = ROW_COUNT;
    customers := personalize.history_customers();
    quality := jsonb_build_object('items', (SELECT count(*) FROM personalize.item_similarities s WHERE s.item = s.neighbour));
    IF holdout_from IS NOT NULL THEN
        quality := quality || jsonb_build_object('holdout', personalize.evaluate_suggestions(as_of, holdout_from));
    END IF;
    PERFORM personalize.store_model('item_similarities', jsonb_build_object('measure', measure, 'neighbours', neighbours),
                                    as_of, customers, quality);
    PERFORM personalize.refresh_record('item_similarities', as_of, changed IS NOT NULL);
    quality := quality || jsonb_build_object('mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'rebuilt: orders changed' END);
END
$fn$;
COMMENT ON FUNCTION refresh_item_similarities(timestamptz, timestamptz) IS 'refresh stage: item similarities and their holdout check';

-- Best sellers per segment of customer_profiles and overall: the rows
-- popular_items('personalize.purchase_history', 'personalize.customer_profiles', k)
-- gives, counted without its DISTINCT passes (purchase_history already has
-- one row per customer and item).
CREATE OR REPLACE FUNCTION refresh_popular_items(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k integer := personalize.shop_setting('popular_k')::integer;
BEGIN
    DELETE FROM personalize.popular_items;
    -- One pass over purchase_history joined to the profiles counts both the
    -- overall and the per-segment buyers (grouping sets).
    WITH counts AS (
        SELECT CASE WHEN grouping(p.segment) = 0 THEN p.segment END AS segment, grouping(p.segment) = 1 AS overall,
               h.item_id, count(*) AS buyers
        FROM personalize.purchase_history h LEFT JOIN personalize.customer_profiles p USING (customer_id)
        GROUP BY GROUPING SETS ((h.item_id), (p.segment, h.item_id))),
    sizes AS (
        SELECT NULL::text AS segment, personalize.history_customers() AS n
        UNION ALL
        SELECT p.segment, count(*) FROM personalize.customer_profiles p
        WHERE p.segment IS NOT NULL
          AND EXISTS (SELECT 1 FROM personalize.purchase_history h WHERE h.customer_id = p.customer_id)
        GROUP BY p.segment),
    ranked AS (
        SELECT c.segment, c.item_id, c.buyers::float8 / z.n AS score, c.buyers,
               row_number() OVER (PARTITION BY c.segment ORDER BY c.buyers DESC, c.item_id) AS r
        FROM counts c JOIN sizes z ON z.segment IS NOT DISTINCT FROM c.segment
        WHERE c.overall OR c.segment IS NOT NULL)
    INSERT INTO personalize.popular_items (segment, item_id, score, buyers)
    SELECT r.segment, r.item_id, r.score, r.buyers FROM ranked r WHERE r.r <= k;
    GET DIAGNOSTICS rows = ROW_COUNT;
    quality := jsonb_build_object('segments', (SELECT count(DISTINCT p.segment) FROM personalize.popular_items p));
    PERFORM personalize.store_model('popular_items', jsonb_build_object('k', k), as_of,
                                    personalize.history_customers(), quality);
END
$fn$;
COMMENT ON FUNCTION refresh_popular_items(timestamptz, timestamptz) IS 'refresh stage: best sellers';

-- Erases a customer everywhere the extension keeps them (an erasure
-- request, docs/pipeline.md): their rows of customer_profiles,
-- purchase_history, segment_history, offer_log, offer_customer_lock and
-- refresh_fingerprints, and records the id in forgotten_customers so every
-- later refresh leaves their orders, sessions and customers row out. The
-- fitted models hold no per-customer rows (aggregate parameters only); the
-- next refresh rebuilds every stage, refitting them without the customer.
-- Returns the rows erased per table (forgotten_customers: 1 when newly
-- recorded). An unknown id is recorded
-- all the same (a customer not refreshed yet stays out). Waits for a
-- running refresh (its lock), so none writes the customer back after.
CREATE OR REPLACE FUNCTION forget_customer(customer_id bigint)
    RETURNS TABLE (erased_from text, rows bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    n bigint;
BEGIN
    IF customer_id IS NULL THEN
        RAISE EXCEPTION 'forget_customer: "customer_id" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM pg_advisory_xact_lock(personalize.refresh_lock_key());
    INSERT INTO personalize.forgotten_customers AS f (customer_id) VALUES (customer_id) ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'forgotten_customers'; rows := n; RETURN NEXT;
    DELETE FROM personalize.customer_profiles t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'customer_profiles'; rows := n; RETURN NEXT;
    DELETE FROM personalize.purchase_history t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'purchase_history'; rows := n; RETURN NEXT;
    DELETE FROM personalize.segment_history t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'segment_history'; rows := n; RETURN NEXT;
    DELETE FROM personalize.offer_log t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'offer_log'; rows := n; RETURN NEXT;
    DELETE FROM personalize.offer_customer_lock t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'offer_customer_lock'; rows := n; RETURN NEXT;
    DELETE FROM personalize.refresh_fingerprints t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'refresh_fingerprints'; rows := n; RETURN NEXT;
    -- The kept rules and similarities counted their orders: the next
    -- refresh rebuilds every stage; the stored baskets held their orders.
    DELETE FROM personalize.refresh_state;
    DELETE FROM personalize.refresh_baskets;
END
$fn$;
REVOKE EXECUTE ON FUNCTION forget_customer(bigint) FROM PUBLIC;
COMMENT ON FUNCTION forget_customer(bigint) IS
    'erases a customer from every table of the extension and keeps later refreshes from using them; rows erased per table';

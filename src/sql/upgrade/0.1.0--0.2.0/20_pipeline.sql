-- Issue 14, items 3 and 7 (src/sql/97_pipeline.sql): forget_customer and
-- the tables that remember erased customers, the incremental refresh
-- (refresh_fingerprints, refresh_state and their helpers), and the stages
-- that now leave forgotten customers out and recompute only what changed.
-- Runs after 00_main.sql, which creates the pipeline; the definitions here
-- are those of the install script.

-- The customers forget_customer() erased: every refresh leaves them out
-- (their orders, sessions and customers row), though the shop's own
-- tables still hold them. Dumped, so a restore keeps forgetting them.
CREATE TABLE forgotten_customers (
    customer_id  bigint PRIMARY KEY,
    forgotten_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE forgotten_customers IS
    'customers erased by forget_customer(): refreshes leave them out of every model and output';
COMMENT ON COLUMN forgotten_customers.customer_id IS 'the customer (the shop''s id; the only thing kept about them)';
COMMENT ON COLUMN forgotten_customers.forgotten_at IS 'when forget_customer() was first called for them';
SELECT pg_catalog.pg_extension_config_dump('personalize.forgotten_customers', '');

-- The incremental refresh (refresh(full => false), docs/pipeline.md): what
-- each incremental stage was last built from, per customer: the number and
-- a digest (a sum of hashes of order id, time and total) of the customer's
-- completed orders up to as_of. A customer whose row differs from what the
-- orders give now (new, changed, cancelled or deleted orders, a customer
-- gone or forgotten) is recomputed; the others are kept.
CREATE TABLE refresh_fingerprints (
    stage       text NOT NULL,
    customer_id bigint NOT NULL,
    orders      bigint NOT NULL,
    digest      numeric NOT NULL,
    PRIMARY KEY (stage, customer_id)
);
COMMENT ON TABLE refresh_fingerprints IS
    'internal: per stage and customer, the fingerprint of the completed orders the stage was last built from (incremental refresh)';
COMMENT ON COLUMN refresh_fingerprints.stage IS 'summaries, purchase_history, product_rules or item_similarities';
COMMENT ON COLUMN refresh_fingerprints.customer_id IS 'the customer';
COMMENT ON COLUMN refresh_fingerprints.orders IS 'their completed orders up to as_of';
COMMENT ON COLUMN refresh_fingerprints.digest IS 'sum of hashes of each order''s id, time and total';
SELECT pg_catalog.pg_extension_config_dump('personalize.refresh_fingerprints', '');

-- What each incremental stage was last built with: the configured tables
-- and every setting but as_of. Another basis: the stage rebuilds everything.
CREATE TABLE refresh_state (
    stage text PRIMARY KEY,
    basis jsonb NOT NULL,
    as_of timestamptz NOT NULL
);
COMMENT ON TABLE refresh_state IS 'internal: the configuration each incremental stage was last built with';
COMMENT ON COLUMN refresh_state.stage IS 'the stage';
COMMENT ON COLUMN refresh_state.basis IS 'the configured tables and the settings but as_of (refresh_basis())';
COMMENT ON COLUMN refresh_state.as_of IS 'the as_of it was built for';
SELECT pg_catalog.pg_extension_config_dump('personalize.refresh_state', '');

-- Internal: what an incremental stage's output depends on besides the
-- orders: the configured tables and the settings (but as_of, whose effect
-- on the orders the fingerprints see).
CREATE FUNCTION refresh_basis()
    RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT jsonb_build_object(
        'tables', (SELECT jsonb_build_array(s.orders, s.order_lines, s.customers, s.products, s.sessions)
                   FROM personalize.shop_source s),
        'settings', (SELECT jsonb_object_agg(d.key, personalize.shop_setting(d.key))
                     FROM personalize.shop_setting_definitions() d WHERE d.key <> 'as_of'))
$fn$;
COMMENT ON FUNCTION refresh_basis() IS 'internal: the configuration an incremental stage''s output depends on';

-- Internal: the customers whose completed orders changed since `stage`
-- last ran, in pg_temp.personalize_changed_<stage>; their number, or NULL
-- when the stage is to rebuild everything (refresh(full => true), no
-- earlier run, another basis). The fingerprints of the orders now are taken
-- once per refresh (pg_temp.personalize_refresh_fingerprints).
CREATE FUNCTION refresh_changes(stage text, as_of timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET extra_float_digits = 3  -- the totals' text in the digest: exact
AS $fn$
DECLARE
    changed text := 'personalize_changed_' || stage;
    n bigint;
BEGIN
    IF to_regclass('pg_temp.personalize_refresh_fingerprints') IS NULL THEN
        CREATE TEMP TABLE personalize_refresh_fingerprints (
            customer_id bigint PRIMARY KEY, orders bigint NOT NULL, digest numeric NOT NULL) ON COMMIT DROP;
        EXECUTE format($q$
            INSERT INTO pg_temp.personalize_refresh_fingerprints
            SELECT o.customer_id, count(*),
                   sum(hashtextextended(concat_ws('|', o.order_id, extract(epoch FROM o.ordered_at), o.total), 0)::numeric)
            FROM (%s) o GROUP BY o.customer_id$q$, personalize.completed_orders_sql())
            USING as_of;
        ANALYZE pg_temp.personalize_refresh_fingerprints;
    END IF;
    PERFORM personalize.drop_temp_tables(ARRAY[changed]);
    IF current_setting('pg_personalize.refresh_full', true) IS DISTINCT FROM 'false'
       OR NOT EXISTS (SELECT 1 FROM personalize.refresh_state s
                      WHERE s.stage = refresh_changes.stage AND s.basis = personalize.refresh_basis()) THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        CREATE TEMP TABLE %I ON COMMIT DROP AS
        SELECT coalesce(c.customer_id, f.customer_id) AS customer_id
        FROM pg_temp.personalize_refresh_fingerprints c
        FULL JOIN (SELECT * FROM personalize.refresh_fingerprints x WHERE x.stage = %L) f
            ON f.customer_id = c.customer_id
        WHERE (c.orders, c.digest) IS DISTINCT FROM (f.orders, f.digest)$q$, changed, stage);
    GET DIAGNOSTICS n = ROW_COUNT;
    EXECUTE format('ANALYZE pg_temp.%I', changed);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION refresh_changes(text, timestamptz) IS
    'internal: the customers whose orders changed since a stage last ran (NULL: rebuild everything)';

-- Internal: records what `stage` was built from: the fingerprints of the
-- changed customers (incremental) or of all (a rebuild), and the basis.
CREATE FUNCTION refresh_record(stage text, as_of timestamptz, incremental boolean)
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
        DELETE FROM personalize.refresh_fingerprints f WHERE f.stage = refresh_record.stage;
        INSERT INTO personalize.refresh_fingerprints (stage, customer_id, orders, digest)
        SELECT stage, p.customer_id, p.orders, p.digest FROM pg_temp.personalize_refresh_fingerprints p;
    END IF;
    INSERT INTO personalize.refresh_state AS s (stage, basis, as_of)
    VALUES (stage, personalize.refresh_basis(), as_of)
    ON CONFLICT ON CONSTRAINT refresh_state_pkey DO UPDATE SET basis = excluded.basis, as_of = excluded.as_of;
END
$fn$;
COMMENT ON FUNCTION refresh_record(text, timestamptz, boolean) IS
    'internal: records the fingerprints and basis a stage was built from';

-- The stages and the refresh, as in the install script.

CREATE OR REPLACE FUNCTION completed_orders_sql()
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format('SELECT o.order_id::bigint AS order_id, o.customer_id::bigint AS customer_id, o.ordered_at,
                          o.total::float8 AS total
                   FROM %s o WHERE o.status = ANY (%L::text[]) AND o.ordered_at <= $1 AND o.customer_id IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM personalize.forgotten_customers f
                                     WHERE f.customer_id = o.customer_id::bigint)',
                  (personalize.configured_shop('refresh')).orders, personalize.shop_setting('completed_statuses'))
$fn$;

CREATE OR REPLACE FUNCTION refresh_summaries(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    unit interval := personalize.shop_setting('time_unit')::interval;
    changed bigint := personalize.refresh_changes('summaries', as_of);
BEGIN
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_refresh_summary']);
    CREATE TEMP TABLE personalize_refresh_summary (
        customer_id bigint PRIMARY KEY, orders bigint, first_order_at timestamptz, last_order_at timestamptz,
        frequency bigint, recency float8, age float8, monetary float8, total float8) ON COMMIT DROP;
    IF changed IS NOT NULL THEN
        EXECUTE format($q$
            INSERT INTO pg_temp.personalize_refresh_summary
            SELECT * FROM (
                SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total, $1, $2)).*
                FROM (%s) o WHERE o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_summaries c)
                GROUP BY o.customer_id
                UNION ALL
                SELECT p.customer_id, p.orders, p.first_order_at, p.last_order_at, p.frequency, p.recency,
                       (personalize.customer_summary(p.first_order_at, 0::float8, $1, $2)).age, p.monetary, p.total
                FROM personalize.customer_profiles p
                WHERE p.orders > 0
                  -- NOT EXISTS (an anti-join), not NOT IN: a NOT IN list too
                  -- large to hash in work_mem is rescanned per profile.
                  AND NOT EXISTS (SELECT 1 FROM pg_temp.personalize_changed_summaries c WHERE c.customer_id = p.customer_id)
                GROUP BY p.customer_id) x
            ORDER BY x.customer_id$q$, personalize.completed_orders_sql())
            USING as_of, unit;
        GET DIAGNOSTICS rows = ROW_COUNT;
        -- Profiles edited by hand since: rebuild rather than trust them.
        IF rows <> (SELECT count(*) FROM pg_temp.personalize_refresh_fingerprints) THEN
            TRUNCATE pg_temp.personalize_refresh_summary;
            changed := NULL;
        END IF;
    END IF;
    IF changed IS NULL THEN
        EXECUTE format('INSERT INTO pg_temp.personalize_refresh_summary
                        SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total, $1, $2)).*
                        FROM (%s) o GROUP BY o.customer_id ORDER BY o.customer_id', personalize.completed_orders_sql())
            USING as_of, unit;
        GET DIAGNOSTICS rows = ROW_COUNT;
    END IF;
    ANALYZE pg_temp.personalize_refresh_summary;
    PERFORM personalize.refresh_record('summaries', as_of, changed IS NOT NULL);
    quality := jsonb_build_object('customers_with_orders', rows, 'mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'incremental' END,
                                  'customers_recomputed', coalesce(changed, rows));
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_customer_profiles(as_of timestamptz, holdout_from timestamptz, OUT rows bigint,
                                          OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    unit interval := personalize.shop_setting('time_unit')::interval;
    unit_days float8 := extract(epoch FROM personalize.shop_setting('time_unit')::interval) / 86400;
    draws integer := personalize.shop_setting('clv_interval_draws')::integer;
    has_signup boolean := src.customers IS NOT NULL AND EXISTS (
        SELECT 1 FROM pg_attribute a WHERE a.attrelid = src.customers AND a.attname = 'signed_up_at'
                                      AND a.attnum > 0 AND NOT a.attisdropped);
BEGIN
    DELETE FROM personalize.customer_profiles;
    EXECUTE format($q$
        WITH mo AS (
            SELECT (SELECT parameters FROM personalize.models WHERE name = 'lifetime') AS bg,
                   (SELECT parameters FROM personalize.models WHERE name = 'spend') AS gg,
                   (SELECT parameters FROM personalize.models WHERE name = 'rfm') AS bp,
                   (SELECT parameters FROM personalize.models WHERE name = 'kmeans') AS km),
        -- segment() of every score cell once, instead of once per customer.
        cells AS (
            SELECT cr, cf, cm, personalize.segment($2, cr, cf, cm) AS segment
            FROM generate_series(1, 5) cr, generate_series(1, 5) cf, generate_series(1, 5) cm),
        prev AS (
            SELECT h.customer_id, h.segment FROM personalize.segment_history h
            WHERE h.map = $2 AND h.as_of = (SELECT max(x.as_of) FROM personalize.segment_history x
                                            WHERE x.map = $2 AND x.as_of < $1::date)),
        ids AS (
            SELECT s.customer_id FROM pg_temp.personalize_refresh_summary s
            %s),
        p AS (
            SELECT k.customer_id, %s AS signed_up_at, s.orders, s.first_order_at, s.last_order_at, s.frequency,
                   s.recency, s.age, s.monetary, s.total, sc.r, sc.f, sc.m, ka.cluster, ci.lower AS clv_lower,
                   ci.upper AS clv_upper,
                   personalize.probability_alive(mo.bg, s.frequency, s.recency, s.age) AS p_alive,
                   personalize.expected_purchases(mo.bg, 30 / $3, s.frequency, s.recency, s.age) AS e30,
                   personalize.expected_purchases(mo.bg, 90 / $3, s.frequency, s.recency, s.age) AS e90,
                   personalize.expected_purchases(mo.bg, 365 / $3, s.frequency, s.recency, s.age) AS e365,
                   personalize.customer_lifetime_value(mo.bg, mo.gg, s.frequency, s.recency, s.age, s.monetary,
                                                       $4, 365.25 / 12 / $3, $5) AS clv,
                   personalize.next_purchase_in(mo.bg, s.frequency, s.recency, s.age) AS next_in
            FROM ids k
            CROSS JOIN mo
            LEFT JOIN pg_temp.personalize_refresh_summary s ON s.customer_id = k.customer_id
            %s
            LEFT JOIN LATERAL personalize.rfm_score(mo.bp, s.age - s.recency, s.frequency, s.total) sc ON true
            LEFT JOIN LATERAL personalize.kmeans_assign(
                CASE WHEN s.customer_id IS NOT NULL THEN ARRAY[s.frequency, s.age - s.recency, s.total]::float8[] END,
                mo.km) ka ON true
            LEFT JOIN LATERAL (%s) ci ON true)
        INSERT INTO personalize.customer_profiles
        SELECT p.customer_id,
               CASE WHEN p.orders IS NULL THEN 'prospect'
                    WHEN p.first_order_at > $1 - $7 * interval '1 day' THEN 'new'
                    WHEN p.last_order_at <= $1 - $9 * interval '1 day' THEN 'churned'
                    WHEN p.last_order_at <= $1 - $8 * interval '1 day' THEN 'lapsed'
                    ELSE 'active' END,
               p.signed_up_at, coalesce(p.orders, 0), p.first_order_at, p.last_order_at,
               extract(epoch FROM $1 - p.last_order_at) / 86400,
               p.frequency, p.recency, p.age, p.monetary, coalesce(p.total, 0),
               p.r, p.f, p.m, cells.segment, prev.segment, p.cluster,
               p.p_alive, 1 - p.p_alive, p.e30, p.e90, p.e365, p.clv,
               p.clv_lower, p.clv_upper,
               CASE WHEN p.next_in < 'Infinity' THEN $1 + p.next_in * $10 END,
               $1, now()
        FROM p LEFT JOIN prev ON prev.customer_id = p.customer_id
        LEFT JOIN cells ON cells.cr = p.r AND cells.cf = p.f AND cells.cm = p.m$q$,
        CASE WHEN src.customers IS NULL THEN ''
             ELSE format('UNION SELECT c.customer_id::bigint FROM %s c WHERE c.customer_id IS NOT NULL
                          AND NOT EXISTS (SELECT 1 FROM personalize.forgotten_customers f
                                          WHERE f.customer_id = c.customer_id::bigint)', src.customers) END,
        CASE WHEN has_signup THEN 'c.signed_up_at' ELSE 'NULL::timestamptz' END,
        CASE WHEN has_signup THEN format('LEFT JOIN %s c ON c.customer_id = k.customer_id', src.customers) ELSE '' END,
        CASE WHEN draws > 0
             THEN 'SELECT x.lower, x.upper FROM personalize.customer_lifetime_value_interval(mo.bg, mo.gg, s.frequency,
                       s.recency, s.age, s.monetary, $4, 365.25 / 12 / $3, $5, 0.9, $6) x'
             ELSE 'SELECT NULL::float8 AS lower, NULL::float8 AS upper' END)
        USING as_of, personalize.shop_setting('segment_map'), unit_days,
              personalize.shop_setting('clv_months')::integer, personalize.shop_setting('discount_rate')::float8,
              draws, personalize.shop_setting('new_days')::integer, personalize.shop_setting('lapsed_days')::integer,
              personalize.shop_setting('churned_days')::integer, unit;
    GET DIAGNOSTICS rows = ROW_COUNT;
    SELECT jsonb_object_agg(x.lifecycle_stage, x.n) INTO quality
    FROM (SELECT p.lifecycle_stage, count(*) AS n FROM personalize.customer_profiles p GROUP BY 1 ORDER BY 1) x;
    quality := jsonb_build_object('lifecycle_stages', coalesce(quality, '{}'));
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_purchase_history(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    items bigint := 0;
    cols text;
    changed bigint := personalize.refresh_changes('purchase_history', as_of);
BEGIN
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_holdout_history']);
    IF changed IS NOT NULL THEN
        DELETE FROM personalize.purchase_history h
        WHERE h.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_purchase_history c);
        EXECUTE format($q$
            INSERT INTO personalize.purchase_history (customer_id, item_id, bought_at, lines)
            SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at), count(*)
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id
            WHERE l.product_id IS NOT NULL
              AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_purchase_history c)
            GROUP BY 1, 2$q$,
            personalize.completed_orders_sql(), src.order_lines)
            USING as_of;
        SELECT count(*) INTO rows FROM personalize.purchase_history;
    ELSE
        DELETE FROM personalize.purchase_history;
        -- The same pass keeps, for the holdout check of the suggestions, each
        -- customer's history up to holdout_from (bought_at NULL: first bought
        -- after it), so the order lines are read once.
        CREATE TEMP TABLE personalize_holdout_history (customer_id bigint, item_id bigint, bought_at timestamptz)
            ON COMMIT DROP;
        EXECUTE format($q$
            WITH agg AS MATERIALIZED (
                SELECT o.customer_id, l.product_id::bigint AS item_id, max(o.ordered_at) AS bought_at, count(*) AS lines,
                       max(o.ordered_at) FILTER (WHERE o.ordered_at <= $2) AS bought_before
                FROM (%s) o JOIN %s l ON l.order_id = o.order_id
                WHERE l.product_id IS NOT NULL
                GROUP BY 1, 2),
            holdout AS (
                INSERT INTO pg_temp.personalize_holdout_history
                SELECT a.customer_id, a.item_id, a.bought_before FROM agg a WHERE $2 IS NOT NULL
                RETURNING 1)
            INSERT INTO personalize.purchase_history (customer_id, item_id, bought_at, lines)
            SELECT a.customer_id, a.item_id, a.bought_at, a.lines FROM agg a$q$,
            personalize.completed_orders_sql(), src.order_lines)
            USING as_of, holdout_from;
        GET DIAGNOSTICS rows = ROW_COUNT;
    END IF;
    IF to_regclass('pg_temp.personalize_holdout_history') IS NOT NULL THEN
        ANALYZE pg_temp.personalize_holdout_history;  -- temporary tables get no autovacuum statistics
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
    quality := jsonb_build_object('customers', (SELECT count(DISTINCT h.customer_id) FROM personalize.purchase_history h),
                                  'items', items, 'mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'incremental' END,
                                  'customers_recomputed',
                                  coalesce(changed, (SELECT count(*) FROM pg_temp.personalize_refresh_fingerprints)));
END
$fn$;

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
BEGIN
    -- Rules count every basket: any changed order rebuilds them; no change
    -- keeps them (and their model row, now as of this refresh).
    IF changed = 0 AND EXISTS (SELECT 1 FROM personalize.models m WHERE m.name = 'product_rules') THEN
        UPDATE personalize.models m SET as_of = refresh_product_rules.as_of WHERE m.name = 'product_rules';
        SELECT count(*) INTO rows FROM personalize.product_rules;
        SELECT m.quality || jsonb_build_object('mode', 'kept: no order changed') INTO quality
        FROM personalize.models m WHERE m.name = 'product_rules';
        PERFORM personalize.refresh_record('product_rules', as_of, true);
        RETURN;
    END IF;
    DELETE FROM personalize.product_rules;
    EXECUTE format($q$
        WITH b AS MATERIALIZED (
            SELECT personalize.baskets(o.order_id, l.product_id::bigint) AS b
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id),
        rules AS (
            SELECT r.*, row_number() OVER (PARTITION BY r.antecedent ORDER BY r.certainty DESC, r.consequent) AS strength
            FROM b, personalize.association_rules(b.b, min_count => $2, min_len => 1) r),
        ins AS (
            INSERT INTO personalize.product_rules
            SELECT r.antecedent, r.consequent, r.count, r.antecedent_support, r.consequent_support, r.support,
                   r.confidence, r.lift, r.leverage, r.conviction, r.jaccard, r.certainty, r.kulczynski, r.zhangs_metric
            FROM rules r WHERE r.strength <= $3 OR r.antecedent = '{}'
            RETURNING 1)
        SELECT (SELECT count(*) FROM ins), (SELECT (personalize.basket_stats(b.b)).basket_count FROM b)$q$,
        personalize.completed_orders_sql(), src.order_lines)
        INTO rows, orders USING as_of, min_count, per_item;
    quality := jsonb_build_object('orders', coalesce(orders, 0), 'rules', rows,
                                  'items', (SELECT count(*) FROM personalize.product_rules r WHERE r.antecedent = '{}'));
    PERFORM personalize.store_model('product_rules',
                                    jsonb_build_object('min_count', min_count, 'min_len', 1, 'rules_per_item', per_item),
                                    as_of, coalesce(orders, 0), quality);
    PERFORM personalize.refresh_record('product_rules', as_of, changed IS NOT NULL);
    quality := quality || jsonb_build_object('mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'rebuilt: orders changed' END);
END
$fn$;

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
    SELECT count(DISTINCT h.customer_id) INTO customers FROM personalize.purchase_history h;
    quality := jsonb_build_object('items', (SELECT count(*) FROM personalize.item_similarities s WHERE s.item = s.neighbour));
    IF holdout_from IS NOT NULL AND to_regclass('pg_temp.personalize_holdout_history') IS NULL
       AND EXISTS (SELECT 1 FROM personalize.models m WHERE m.name = 'item_similarities' AND m.quality ? 'holdout') THEN
        -- An incremental purchase_history took no holdout history: the
        -- figures of the last rebuild stay, marked with their as_of.
        quality := quality || jsonb_build_object('holdout', (
            SELECT (m.quality -> 'holdout') || jsonb_build_object('as_of', coalesce(m.quality -> 'holdout' -> 'as_of',
                                                                                    to_jsonb(m.as_of)))
            FROM personalize.models m WHERE m.name = 'item_similarities'));
    ELSIF holdout_from IS NOT NULL THEN
        quality := quality || jsonb_build_object('holdout', personalize.evaluate_suggestions(as_of, holdout_from));
    END IF;
    PERFORM personalize.store_model('item_similarities', jsonb_build_object('measure', measure, 'neighbours', neighbours),
                                    as_of, customers, quality);
    PERFORM personalize.refresh_record('item_similarities', as_of, changed IS NOT NULL);
    quality := quality || jsonb_build_object('mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'rebuilt: orders changed' END);
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_propensity(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    l2 float8 := personalize.shop_setting('propensity_l2')::float8;
    model jsonb;
    holdout jsonb;
    split timestamptz;
BEGIN
    IF src.sessions IS NULL THEN
        DELETE FROM personalize.models WHERE name = 'propensity';
        rows := 0;
        quality := jsonb_build_object('skipped', 'no sessions table is configured');
        RETURN;
    END IF;
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_refresh_sessions']);
    CREATE TEMP TABLE personalize_refresh_sessions (started_at timestamptz, converted boolean, features float8[])
        ON COMMIT DROP;
    -- Each session's prior completed orders from one sort of orders and
    -- sessions together (a session before an order at the same time).
    EXECUTE format($q$
        WITH ev AS (
            SELECT o.customer_id, o.ordered_at AS at, 1 AS is_order, NULL::timestamptz AS ended_at,
                   NULL::integer AS pages_viewed, NULL::integer AS items_in_cart, NULL::float8 AS cart_value,
                   NULL::boolean AS exit_intent, NULL::boolean AS converted
            FROM (%s) o
            UNION ALL
            SELECT s.customer_id::bigint, s.started_at, 0, s.ended_at, s.pages_viewed::integer, s.items_in_cart::integer,
                   s.cart_value::float8, s.exit_intent, s.converted
            FROM %s s WHERE s.started_at <= $1 AND s.converted IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM personalize.forgotten_customers f
                                        WHERE f.customer_id = s.customer_id::bigint)),
        h AS (
            SELECT ev.*, sum(ev.is_order) OVER w AS prior_orders,
                   max(CASE WHEN ev.is_order = 1 THEN ev.at END) OVER w AS last_order_at
            FROM ev
            WINDOW w AS (PARTITION BY ev.customer_id ORDER BY ev.at, ev.is_order ROWS UNBOUNDED PRECEDING))
        INSERT INTO pg_temp.personalize_refresh_sessions
        SELECT h.at, h.converted,
               personalize.session_features(
                   h.pages_viewed, h.items_in_cart, h.cart_value, extract(epoch FROM h.ended_at - h.at)::float8,
                   h.exit_intent, h.customer_id IS NOT NULL,
                   CASE WHEN h.customer_id IS NULL THEN 0 ELSE h.prior_orders END::integer,
                   CASE WHEN h.customer_id IS NOT NULL THEN extract(epoch FROM h.at - h.last_order_at)::float8 / 86400 END)
        FROM h WHERE h.is_order = 0$q$, personalize.completed_orders_sql(), src.sessions)
        USING as_of;
    GET DIAGNOSTICS rows = ROW_COUNT;
    IF (SELECT count(DISTINCT s.converted) FROM pg_temp.personalize_refresh_sessions s) < 2 THEN
        DELETE FROM personalize.models WHERE name = 'propensity';
        quality := jsonb_build_object('skipped', 'the sessions need both converted and not converted ones');
        RETURN;
    END IF;
    -- Sessions are usually kept for a short time: the holdout is the latest
    -- fifth of them rather than holdout_days.
    SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY s.started_at) INTO split
    FROM pg_temp.personalize_refresh_sessions s;
    IF holdout_from IS NOT NULL
       AND (SELECT count(DISTINCT s.converted) FROM pg_temp.personalize_refresh_sessions s WHERE s.started_at < split) = 2
    THEN
        WITH m AS (SELECT personalize.logistic_fit(s.converted, s.features, l2) AS model
                   FROM pg_temp.personalize_refresh_sessions s WHERE s.started_at < split)
        SELECT jsonb_build_object('from', split, 'sessions', count(*),
                                  'converted', count(*) FILTER (WHERE s.converted),
                                  'auc', personalize.auc(personalize.logistic_score(m.model, s.features), s.converted))
        INTO holdout
        FROM pg_temp.personalize_refresh_sessions s, m WHERE s.started_at >= split;
    END IF;
    SELECT personalize.logistic_fit(s.converted, s.features, l2, personalize.session_feature_names()) INTO model
    FROM pg_temp.personalize_refresh_sessions s;
    quality := jsonb_build_object('converged', model -> 'converged', 'holdout', holdout);
    PERFORM personalize.store_model('propensity', model, as_of, rows, quality);
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_run(models text[], "full" boolean, OUT stages jsonb, OUT error jsonb, OUT as_of timestamptz)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'  -- restores the caller's time zone on exit
AS $fn$
DECLARE
    analyzed text;
    wanted text[];
    unknown text;
    st text;
    t0 timestamptz;
    n bigint;
    q jsonb;
    holdout_days integer;
    holdout_from timestamptz;
    holder integer;
    e_state text;
    e_message text;
    e_detail text;
    e_hint text;
    memory_limit text := current_setting('personalize.memory_limit', true);
    tables personalize.shop_tables;
BEGIN
    stages := '[]';
    BEGIN
        tables := personalize.configured_shop('refresh', true);
        IF cardinality(models) = 0 OR array_position(models, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'refresh: "models" must be NULL (all) or a non-empty list of model names'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT string_agg(quote_literal(m), ', ') INTO unknown FROM unnest(models) m
        WHERE m NOT IN (SELECT o.model FROM personalize.refresh_stage_order() o);
        IF unknown IS NOT NULL THEN
            RAISE EXCEPTION 'refresh: "models" has unknown models %', unknown
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The models: customer_profiles, purchase_history, product_rules, item_similarities, popular_items, propensity.';
        END IF;
        wanted := coalesce(models, ARRAY(SELECT DISTINCT o.model FROM personalize.refresh_stage_order() o));
        IF wanted && ARRAY['item_similarities', 'popular_items'] THEN
            wanted := wanted || 'purchase_history'::text;
        END IF;
        IF NOT pg_try_advisory_xact_lock(personalize.refresh_lock_key()) THEN
            SELECT l.pid INTO holder FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((l.classid::bigint << 32) | l.objid::bigint) = personalize.refresh_lock_key()
            LIMIT 1;
            RAISE EXCEPTION 'refresh: another refresh is running (backend %)', coalesce(holder::text, 'unknown')
                USING ERRCODE = 'lock_not_available',
                      HINT = 'Wait for it to end; its models are swapped in when it commits.';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM personalize.segment_rules r WHERE r.map = personalize.shop_setting('segment_map')) THEN
            RAISE EXCEPTION 'refresh: setting "segment_map" % is not a map in personalize.segment_rules',
                quote_literal(personalize.shop_setting('segment_map')) USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- The offer contexts follow recreated tables too (when configure_shop set them).
        IF EXISTS (SELECT 1 FROM personalize.offer_context_source o
                   WHERE o.features = 'personalize.customer_profile_features'::regclass
                     AND ((o.orders, o.customers) IS DISTINCT FROM (tables.orders, tables.customers)
                          OR o.currency <> personalize.shop_setting('currency'))) THEN
            PERFORM personalize.configure_offer_context(tables.orders, tables.customers,
                                                        'personalize.customer_profile_features',
                                                        personalize.shop_setting('currency'));
        END IF;
        PERFORM set_config('TimeZone', personalize.shop_setting('time_zone'), true);
        PERFORM set_config('personalize.memory_limit', personalize.shop_setting('memory_limit'), true);
        as_of := personalize.refresh_as_of();
        -- The incremental stages read the mode (refresh_changes) and take
        -- the orders' fingerprints anew in each refresh.
        PERFORM set_config('pg_personalize.refresh_full', "full"::text, true);
        PERFORM personalize.drop_temp_tables(ARRAY['personalize_refresh_fingerprints', 'personalize_holdout_history']);
        holdout_days := personalize.shop_setting('holdout_days')::integer;
        holdout_from := CASE WHEN holdout_days > 0 THEN as_of - holdout_days * interval '1 day' END;
        FOR st IN SELECT o.stage FROM personalize.refresh_stage_order() o WHERE o.model = ANY (wanted) ORDER BY o.step
        LOOP
            t0 := clock_timestamp();
            EXECUTE format('SELECT * FROM personalize.%I($1, $2)', 'refresh_' || st) INTO n, q USING as_of, holdout_from;
            stages := stages || jsonb_build_array(jsonb_build_object(
                'stage', st, 'rows', n, 'seconds', extract(epoch FROM clock_timestamp() - t0), 'quality', q));
        END LOOP;
        -- Statistics of the rewritten tables, committed with them: until
        -- autovacuum came by, the serving calls planned on the previous
        -- contents (a seq scan of product_rules per cart_suggestions call,
        -- 15-30 ms instead of about 1 ms on the demo shop).
        st := 'analyze';
        FOR analyzed IN SELECT DISTINCT a.tbl FROM (VALUES
                ('customer_profiles', 'customer_profiles'), ('customer_profiles', 'segment_history'),
                ('purchase_history', 'purchase_history'), ('purchase_history', 'shop_items'),
                ('product_rules', 'product_rules'), ('item_similarities', 'item_similarities'),
                ('popular_items', 'popular_items')) AS a(model, tbl)
            WHERE a.model = ANY (wanted)
        LOOP
            EXECUTE format('ANALYZE personalize.%I', analyzed);
        END LOOP;
        st := NULL;
        IF memory_limit IS NOT NULL THEN
            PERFORM set_config('personalize.memory_limit', memory_limit, true);
        END IF;
    EXCEPTION WHEN query_canceled OR others THEN
        GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT, e_detail = PG_EXCEPTION_DETAIL,
                                e_hint = PG_EXCEPTION_HINT;
        error := jsonb_strip_nulls(jsonb_build_object('stage', st, 'sqlstate', e_state, 'message', e_message,
                                                      'detail', nullif(e_detail, ''), 'hint', nullif(e_hint, '')));
    END;
END
$fn$;

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
CREATE FUNCTION forget_customer(customer_id bigint)
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
    -- refresh rebuilds every stage.
    DELETE FROM personalize.refresh_state;
END
$fn$;
REVOKE EXECUTE ON FUNCTION forget_customer(bigint) FROM PUBLIC;
COMMENT ON FUNCTION forget_customer(bigint) IS
    'erases a customer from every table of the extension and keeps later refreshes from using them; rows erased per table';

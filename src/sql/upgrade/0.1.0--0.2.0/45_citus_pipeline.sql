-- Upgrade part of issue 14, item 6 (the pipeline on a Citus cluster): on a
-- Citus coordinator refresh() reads each Citus-backed shop table once into a
-- temporary copy (citus_refresh_copies, src/sql/98_citus.sql) and its stages
-- read the copies (configured_shop('refresh')); citus_setup() also keeps
-- the refresh's temporary view of the suggestions check on the coordinator
-- (40_citus.sql's body plus that step). configured_shop and
-- refresh_run are replaced by their src/sql/97_pipeline.sql bodies (each
-- gains one call over 00_main.sql's and 20_pipeline.sql's); the Citus
-- helpers are new.

-- The pipeline on distributed shop tables (docs/distributed.md). refresh()'s
-- queries join the shop's tables with the extension's own local tables
-- (forgotten_customers, the stages' temporary tables, customer_profiles),
-- which Citus refuses ("direct joins between distributed and local tables
-- are not supported"). So on a Citus coordinator, each configured table that
-- is a Citus table (or a view reading one) is read once, at the start of the
-- refresh, into a temporary table of the columns the pipeline uses (one
-- distributed read Citus runs on every shard), and the stages read that
-- copy (configured_shop('refresh')). One server: nothing happens.

-- Internal: true when rel is a Citus table (distributed, reference or
-- Citus-managed local) or a view that reads one, at any depth.
CREATE FUNCTION citus_backed(rel regclass)
    RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF rel IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RETURN false;
    END IF;
    RETURN EXISTS (
        WITH RECURSIVE r(oid) AS (
            SELECT rel::oid
            UNION
            SELECT d.refobjid FROM r
            JOIN pg_catalog.pg_rewrite w ON w.ev_class = r.oid
            JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = w.oid
                                       AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> r.oid)
        SELECT 1 FROM r JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = r.oid);
END
$fn$;
COMMENT ON FUNCTION citus_backed(regclass) IS 'internal: true for a Citus table or a view reading one';

-- Internal (refresh_run, before as_of is taken): the temporary copies of
-- the Citus-backed configured tables, the columns of configure_shop's
-- checks only, the orders only those of the completed statuses. Records
-- the copied tables in pg_personalize.refresh_copies (transaction-local,
-- rolled back with a failed refresh) for configured_shop('refresh').
CREATE FUNCTION citus_refresh_copies(t personalize.shop_tables)
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    name text;
    rel regclass;
    cols text;
    copied text[] := '{}';
    wanted constant jsonb := '{"orders": ["order_id", "customer_id", "ordered_at", "status", "total"],
                               "order_lines": ["order_id", "product_id"],
                               "customers": ["customer_id", "signed_up_at"],
                               "products": ["product_id", "category", "rebuyable"],
                               "sessions": ["customer_id", "started_at", "ended_at", "pages_viewed", "items_in_cart",
                                            "cart_value", "exit_intent", "converted"]}';
BEGIN
    PERFORM set_config('pg_personalize.refresh_copies', '', true);
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_shop_orders', 'personalize_shop_order_lines',
        'personalize_shop_customers', 'personalize_shop_products', 'personalize_shop_sessions']);
    FOREACH name IN ARRAY ARRAY['orders', 'order_lines', 'customers', 'products', 'sessions'] LOOP
        rel := CASE name WHEN 'orders' THEN t.orders WHEN 'order_lines' THEN t.order_lines
                         WHEN 'customers' THEN t.customers WHEN 'products' THEN t.products ELSE t.sessions END;
        IF NOT personalize.citus_backed(rel) THEN
            CONTINUE;
        END IF;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname::text IN (SELECT jsonb_array_elements_text(wanted -> name));
        EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT %s FROM %s x %s',
                       'personalize_shop_' || name, cols, rel,
                       CASE WHEN name = 'orders'
                            THEN format('WHERE x.status = ANY (%L::text[]) AND x.customer_id IS NOT NULL',
                                        personalize.shop_setting('completed_statuses'))
                            ELSE '' END);
        EXECUTE format('ANALYZE pg_temp.%I', 'personalize_shop_' || name);
        copied := copied || name;
    END LOOP;
    PERFORM set_config('pg_personalize.refresh_copies', array_to_string(copied, ','), true);
END
$fn$;
COMMENT ON FUNCTION citus_refresh_copies(personalize.shop_tables) IS
    'internal: on a Citus coordinator, reads the Citus-backed shop tables once into temporary tables for a refresh';

-- Internal (configured_shop('refresh')): the configured tables with the
-- refresh's temporary copies in place of the Citus-backed ones.
CREATE FUNCTION citus_refresh_tables(t personalize.shop_tables)
    RETURNS personalize.shop_tables
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    copied text[] := string_to_array(current_setting('pg_personalize.refresh_copies', true), ',');
BEGIN
    IF 'orders' = ANY (copied) THEN t.orders := coalesce(to_regclass('pg_temp.personalize_shop_orders'), t.orders); END IF;
    IF 'order_lines' = ANY (copied) THEN
        t.order_lines := coalesce(to_regclass('pg_temp.personalize_shop_order_lines'), t.order_lines);
    END IF;
    IF 'customers' = ANY (copied) THEN
        t.customers := coalesce(to_regclass('pg_temp.personalize_shop_customers'), t.customers);
    END IF;
    IF 'products' = ANY (copied) THEN
        t.products := coalesce(to_regclass('pg_temp.personalize_shop_products'), t.products);
    END IF;
    IF 'sessions' = ANY (copied) THEN
        t.sessions := coalesce(to_regclass('pg_temp.personalize_shop_sessions'), t.sessions);
    END IF;
    RETURN t;
END
$fn$;
COMMENT ON FUNCTION citus_refresh_tables(personalize.shop_tables) IS
    'internal: the configured tables with a refresh''s temporary copies of the Citus-backed ones';

CREATE OR REPLACE FUNCTION citus_setup(orders regclass DEFAULT NULL) RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $fn$
DECLARE
    t text;
    fn text;
    colocate text := 'default';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'citus_setup: the citus extension is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'On one server pg_personalize needs no setup. On a Citus cluster run CREATE EXTENSION citus and add the workers first (docs/distributed.md).';
    END IF;
    IF orders IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                       WHERE p.logicalrelid = orders AND p.partmethod = 'h') THEN
            RAISE EXCEPTION 'citus_setup: "orders" (%) is not a hash-distributed table', orders
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Distribute the orders by customer first: SELECT create_distributed_table(''orders'', ''customer_id'').';
        END IF;
        colocate := orders::text;
    END IF;
    -- Read by every node (eligible_offers and the segment functions run on
    -- the workers when called per row of a distributed table).
    FOREACH t IN ARRAY ARRAY['offers', 'segment_rules_shipped', 'segment_rules_custom',
                             'segment_maps_customized', 'offer_context_source'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                       WHERE p.logicalrelid = ('personalize.' || t)::regclass) THEN
            PERFORM pg_catalog.create_reference_table(('personalize.' || t)::regclass);
            PERFORM pg_catalog.truncate_local_data_after_distributing_table(('personalize.' || t)::regclass);
        END IF;
        RETURN NEXT 'reference table: personalize.' || t;
    END LOOP;
    -- Per row of a distributed table these run on the workers and read the
    -- reference tables there, which Citus refuses inside a shard's query
    -- unless nested execution is allowed; reading a reference table's copy
    -- is right on any node. Set on every node.
    FOREACH fn IN ARRAY ARRAY['personalize.eligible_offers(jsonb, text)', 'personalize.explain_offer(text, jsonb, text)',
                              'personalize.segment(text, integer, integer, integer)'] LOOP
        EXECUTE format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', fn);
        PERFORM pg_catalog.run_command_on_workers(
            format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', fn));
        RETURN NEXT 'reads reference tables on the workers: ' || fn;
    END LOOP;
    -- The refresh's holdout check of the suggestions creates a temporary
    -- view, which Citus would try to propagate to the workers (and warn on
    -- every refresh that it cannot): nothing it creates is for the workers.
    ALTER FUNCTION personalize.evaluate_suggestions(timestamptz, timestamptz) SET citus.enable_ddl_propagation = off;
    RETURN NEXT 'creates its temporary objects on the coordinator only: personalize.evaluate_suggestions(timestamptz, timestamptz)';
    -- Per customer, co-located with the orders: a customer's decisions,
    -- cap counts and segment snapshots live on the shard of its orders.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                   WHERE p.logicalrelid = 'personalize.offer_log'::regclass) THEN
        -- A distributed table's primary key must hold the distribution column.
        ALTER TABLE personalize.offer_log DROP CONSTRAINT offer_log_pkey;
        ALTER TABLE personalize.offer_log ADD CONSTRAINT offer_log_pkey PRIMARY KEY (customer_id, decision_id);
    END IF;
    FOREACH t IN ARRAY ARRAY['offer_log', 'offer_customer_lock', 'segment_history'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                       WHERE p.logicalrelid = ('personalize.' || t)::regclass) THEN
            PERFORM pg_catalog.create_distributed_table(('personalize.' || t)::regclass, 'customer_id',
                                                        colocate_with => colocate);
            PERFORM pg_catalog.truncate_local_data_after_distributing_table(('personalize.' || t)::regclass);
        END IF;
        RETURN NEXT 'distributed by customer_id: personalize.' || t;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION citus_setup(regclass) IS
    'on a Citus cluster: offers, segment rules and the offer context source become reference tables (read on the workers by eligible_offers, explain_offer, segment), offer_log, offer_customer_lock and segment_history are distributed by customer_id (co-located with orders)';

CREATE OR REPLACE FUNCTION configured_shop(fn text, checked boolean DEFAULT false)
    RETURNS personalize.shop_tables
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_source;
    t personalize.shop_tables;
    missing text;
BEGIN
    SELECT * INTO src FROM personalize.shop_source;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: no shop is configured', fn
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call personalize.configure_shop(orders => ..., order_lines => ...) first.';
    END IF;
    t := ROW(to_regclass(src.orders), to_regclass(src.order_lines), to_regclass(src.customers),
             to_regclass(src.products), to_regclass(src.sessions));
    SELECT string_agg(format('"%s" (%s)', x.arg, x.name), ', ') INTO missing
    FROM (VALUES ('orders', src.orders, t.orders), ('order_lines', src.order_lines, t.order_lines),
                 ('customers', src.customers, t.customers), ('products', src.products, t.products),
                 ('sessions', src.sessions, t.sessions)) x(arg, name, rel)
    WHERE x.name IS NOT NULL AND x.rel IS NULL;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '%: the configured table % no longer exists', fn, missing
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create it again, or call personalize.configure_shop() with the shop''s tables.';
    END IF;
    IF checked THEN
        PERFORM personalize.check_shop_tables(fn, t);
    ELSIF fn = 'refresh' AND current_setting('pg_personalize.refresh_copies', true) <> '' THEN
        t := personalize.citus_refresh_tables(t);  -- Citus: the refresh's copies (98_citus.sql)
    END IF;
    RETURN t;
END
$fn$;
COMMENT ON FUNCTION configured_shop(text, boolean) IS 'internal: the configured tables, resolved (and checked), else an error';

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
        PERFORM personalize.citus_refresh_copies(tables);  -- Citus only (98_citus.sql)
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
COMMENT ON FUNCTION refresh_run(text[], boolean) IS 'internal: the stages of a refresh; a failure rolls them back and is returned';

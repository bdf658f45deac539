-- Real-time behaviour signals: the shop's events table (page views, adds to
-- cart, exit intents, checkouts as they happen), configured once with
-- configure_signals(), read by recently_viewed, trending_items and the
-- browse / cart abandonment cohorts. Plain SQL over the events, no model:
-- an event written now is seen by the next call (docs/reference.md,
-- "Behaviour signals").

-- The events table by schema-qualified name (as shop_source keeps the shop's
-- tables): every call resolves it again, so a table dropped and created anew
-- is followed.
CREATE TABLE signal_source (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    events        text NOT NULL,
    configured_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE signal_source IS 'the shop''s events table the behaviour signals read (configure_signals())';
SELECT pg_catalog.pg_extension_config_dump('personalize.signal_source', '');

-- Internal: checks an events table: session_id (an integer type or text),
-- customer_id and product_id (integer types, NULL allowed in the rows),
-- event_at timestamptz, event_type text.
CREATE FUNCTION check_signal_events(fn text, events regclass)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kind text;
BEGIN
    PERFORM personalize.check_shop_table(fn, 'events', events,
        ARRAY['customer_id id', 'event_at timestamptz', 'event_type text', 'product_id id']);
    SELECT personalize.shop_column_kind(a.atttypid) INTO kind FROM pg_attribute a
    WHERE a.attrelid = events AND a.attname = 'session_id' AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: "events" (%) has no column "session_id"', fn, events
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = '"events" needs the columns session_id, customer_id, event_at, event_type, product_id.',
                  HINT = 'A view can rename and cast the shop''s own columns.';
    ELSIF kind NOT IN ('id', 'text') THEN
        RAISE EXCEPTION '%: "events" (%) column "session_id" must be an integer type or text, not %', fn, events,
            (SELECT format_type(a.atttypid, NULL) FROM pg_attribute a
             WHERE a.attrelid = events AND a.attname = 'session_id')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$fn$;
COMMENT ON FUNCTION check_signal_events(text, regclass) IS 'internal: the column checks of the events table';

-- Configures the events table the signals read (checked); replaces an
-- earlier configuration. Returns the table's qualified name.
CREATE FUNCTION configure_signals(events regclass)
    RETURNS text
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    name text;
BEGIN
    PERFORM personalize.check_signal_events('configure_signals', events);
    SELECT format('%I.%I', n.nspname, c.relname) INTO name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = events;
    INSERT INTO personalize.signal_source AS s (events) VALUES (name)
    ON CONFLICT (singleton) DO UPDATE SET events = EXCLUDED.events, configured_at = now();
    RETURN name;
END
$fn$;
COMMENT ON FUNCTION configure_signals(regclass) IS
    'configures the events table (session_id, customer_id, event_at, event_type, product_id) of the behaviour signals';
REVOKE EXECUTE ON FUNCTION configure_signals(regclass) FROM PUBLIC;

-- Internal: the configured events table, resolved and checked, else an error.
CREATE FUNCTION configured_events(fn text)
    RETURNS regclass
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    name text;
    rel regclass;
BEGIN
    SELECT s.events INTO name FROM personalize.signal_source s;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: no events table is configured', fn
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call personalize.configure_signals(events => ...) first.';
    END IF;
    rel := to_regclass(name);
    IF rel IS NULL THEN
        RAISE EXCEPTION '%: the configured table "events" (%) no longer exists', fn, name
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- The fast path, one catalog query: every column there with a plain
    -- type. Otherwise (a missing column, a wrong type, a domain) the full
    -- check raises the error, or passes a domain over the right type.
    IF (SELECT count(*) FROM pg_attribute a
        WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
          AND ((a.attname IN ('customer_id', 'product_id') AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype))
               OR (a.attname = 'session_id' AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype,
                                                                'text'::regtype, 'varchar'::regtype, 'bpchar'::regtype))
               OR (a.attname = 'event_at' AND a.atttypid = 'timestamptz'::regtype)
               OR (a.attname = 'event_type' AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)))) < 5 THEN
        PERFORM personalize.check_signal_events(fn, rel);
    END IF;
    RETURN rel;
END
$fn$;
COMMENT ON FUNCTION configured_events(text) IS 'internal: the configured events table, resolved and checked';

-- Internal: the argument checks shared by the signal functions. A NULL is
-- 22004, a value out of range 22023, each naming the argument.
CREATE FUNCTION check_signal_args(fn text, n integer, as_of timestamptz, intervals text[], vals interval[])
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
BEGIN
    IF n IS NULL THEN
        RAISE EXCEPTION '%: "n" must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    ELSIF n < 1 OR n > 1000 THEN
        RAISE EXCEPTION '%: "n" must be between 1 and 1000, got %', fn, n USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF as_of IS NULL THEN
        RAISE EXCEPTION '%: "as_of" must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT isfinite(as_of) THEN
        RAISE EXCEPTION '%: "as_of" must be a finite timestamp, got %', fn, as_of
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 1 .. coalesce(array_length(intervals, 1), 0) LOOP
        IF vals[i] IS NULL THEN
            RAISE EXCEPTION '%: "%" must not be NULL', fn, intervals[i] USING ERRCODE = 'null_value_not_allowed';
        ELSIF vals[i] < interval '0' OR vals[i] > interval '36500 days'
              OR (vals[i] = interval '0' AND intervals[i] <> 'quiet') THEN
            RAISE EXCEPTION '%: "%" must be an interval %, got %', fn, intervals[i],
                CASE WHEN intervals[i] = 'quiet' THEN 'between 0 and 36500 days'
                     ELSE 'greater than 0 and at most 36500 days' END, vals[i]
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION check_signal_args(text, integer, timestamptz, text[], interval[]) IS
    'internal: the argument checks of the behaviour signal functions';

-- The products a customer or a session viewed (page_view events with a
-- product), latest first, one row per product, up to as_of. Either id may
-- be NULL (an anonymous session; a customer across sessions), not both;
-- given both, the views of either count (a session that signed in).
CREATE FUNCTION recently_viewed(customer_id bigint, session_id text, n integer DEFAULT 10,
                                as_of timestamptz DEFAULT now())
    RETURNS TABLE (product_id bigint, viewed_at timestamptz, views bigint)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    events regclass := personalize.configured_events('recently_viewed');
    session_type text;
    session_is_integer boolean;
BEGIN
    IF recently_viewed.customer_id IS NULL AND recently_viewed.session_id IS NULL THEN
        RAISE EXCEPTION 'recently_viewed: "customer_id" and "session_id" must not both be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM personalize.check_signal_args('recently_viewed', n, as_of, '{}', '{}');
    SELECT format_type(a.atttypid, a.atttypmod), a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                                                 OR personalize.shop_column_kind(a.atttypid) = 'id'
    INTO session_type, session_is_integer FROM pg_attribute a
    WHERE a.attrelid = events AND a.attname = 'session_id';
    IF recently_viewed.session_id IS NOT NULL AND session_is_integer THEN
        -- Compared in the column's type, so an index on session_id serves.
        IF recently_viewed.session_id !~ '^\s*[+-]?[0-9]{1,18}\s*$' THEN
            RAISE EXCEPTION 'recently_viewed: "session_id" must be an integer (the events'' session_id is %), got ''%''',
                session_type, recently_viewed.session_id USING ERRCODE = 'invalid_text_representation';
        END IF;
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT e.product_id::bigint, max(e.event_at), count(*)::bigint
        FROM %s e
        WHERE e.event_type = 'page_view' AND e.product_id IS NOT NULL AND e.event_at <= $4
          AND (e.customer_id = $1 OR e.session_id = $2::%s)
        GROUP BY e.product_id
        ORDER BY 2 DESC, 1
        LIMIT $3$q$, events, session_type)
        USING recently_viewed.customer_id, recently_viewed.session_id, n, as_of;
END
$fn$;
COMMENT ON FUNCTION recently_viewed(bigint, text, integer, timestamptz) IS
    'products a customer or session viewed, latest first (configured events table)';

-- Time-decayed popularity of the products viewed and carted in
-- (as_of - time_window, as_of]: each event counts weight * 2^(-age / half_life),
-- weight 1 for a page_view and 3 for an add_to_cart, age = as_of - event_at.
-- half_life NULL is a quarter of the window (an event at the window's start
-- counts 1/16 of one now).
CREATE FUNCTION trending_items(time_window interval, n integer DEFAULT 10, half_life interval DEFAULT NULL,
                               as_of timestamptz DEFAULT now())
    RETURNS TABLE (product_id bigint, score float8, views bigint, carts bigint)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    events regclass := personalize.configured_events('trending_items');
    hl interval := coalesce(half_life, time_window / 4);
BEGIN
    PERFORM personalize.check_signal_args('trending_items', n, as_of, ARRAY['time_window', 'half_life'],
                                          ARRAY[time_window, hl]);
    RETURN QUERY EXECUTE format($q$
        SELECT e.product_id::bigint,
               sum(CASE e.event_type WHEN 'add_to_cart' THEN 3.0 ELSE 1.0 END
                   * power(0.5::float8, extract(epoch FROM $1 - e.event_at)::float8 / $4))::float8,
               count(*) FILTER (WHERE e.event_type = 'page_view'),
               count(*) FILTER (WHERE e.event_type = 'add_to_cart')
        FROM %s e
        WHERE e.event_type IN ('page_view', 'add_to_cart') AND e.product_id IS NOT NULL
          AND e.event_at > $1 - $2 AND e.event_at <= $1
        GROUP BY e.product_id
        ORDER BY 2 DESC, 1
        LIMIT $3$q$, events)
        USING as_of, time_window, n, extract(epoch FROM hl)::float8;
END
$fn$;
COMMENT ON FUNCTION trending_items(interval, integer, interval, timestamptz) IS
    'products by time-decayed views (1) and adds to cart (3) in a window, half-life a quarter of the window by default';

-- Internal: the SQL of a customer's orders and checkouts as (customer_id,
-- at): the configured shop's orders (any status: a placed order ends the
-- abandonment) when a shop is configured, and the events' checkout / order
-- events.
CREATE FUNCTION signal_orders_sql(fn text, events regclass)
    RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    q text := format($q$SELECT x.customer_id::bigint AS customer_id, x.event_at AS at FROM %s x
                        WHERE x.event_type IN ('checkout', 'order') AND x.customer_id IS NOT NULL$q$, events);
BEGIN
    IF EXISTS (SELECT 1 FROM personalize.shop_source) THEN
        q := q || format(' UNION ALL SELECT o.customer_id::bigint, o.ordered_at FROM %s o',
                         (personalize.configured_shop(fn)).orders);
    END IF;
    RETURN q;
END
$fn$;
COMMENT ON FUNCTION signal_orders_sql(text, regclass) IS 'internal: the orders and checkouts the abandonment cohorts look for';

-- Browse abandonment: signed-in customers who viewed products in
-- (as_of - time_window, as_of], the latest view at least `quiet` ago, and
-- who neither added to cart, checked out nor ordered in that window.
-- products: the viewed products, latest first (the e-mail's content).
CREATE FUNCTION browse_abandonment(time_window interval DEFAULT '7 days', quiet interval DEFAULT '1 hour',
                                   as_of timestamptz DEFAULT now())
    RETURNS TABLE (customer_id bigint, last_viewed_at timestamptz, views bigint, products bigint[])
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    events regclass := personalize.configured_events('browse_abandonment');
BEGIN
    PERFORM personalize.check_signal_args('browse_abandonment', 1, as_of, ARRAY['time_window', 'quiet'],
                                          ARRAY[time_window, quiet]);
    RETURN QUERY EXECUTE format($q$
        WITH w AS (
            SELECT e.customer_id::bigint AS customer_id, e.product_id::bigint AS product_id, e.event_at, e.event_type
            FROM %s e
            WHERE e.customer_id IS NOT NULL AND e.event_at > $1 - $2 AND e.event_at <= $1
        ), p AS (
            SELECT w.customer_id, w.product_id, max(w.event_at) AS at, count(*) AS views
            FROM w WHERE w.event_type = 'page_view' AND w.product_id IS NOT NULL
            GROUP BY 1, 2
        ), o AS (%s)
        SELECT p.customer_id, max(p.at), sum(p.views)::bigint, array_agg(p.product_id ORDER BY p.at DESC, p.product_id)
        FROM p
        WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.customer_id = p.customer_id AND w.event_type = 'add_to_cart')
          AND NOT EXISTS (SELECT 1 FROM o WHERE o.customer_id = p.customer_id AND o.at > $1 - $2 AND o.at <= $1)
        GROUP BY p.customer_id
        HAVING max(p.at) <= $1 - $3
        ORDER BY 1$q$, events, personalize.signal_orders_sql('browse_abandonment', events))
        USING as_of, time_window, quiet;
END
$fn$;
COMMENT ON FUNCTION browse_abandonment(interval, interval, timestamptz) IS
    'customers who viewed products in a window and left without carting or ordering';

-- Cart abandonment: signed-in customers whose latest add_to_cart in
-- (as_of - time_window, as_of] is at least `quiet` ago and was followed by
-- no checkout and no order up to as_of. products: what they carted in the
-- window, latest first.
CREATE FUNCTION cart_abandonment(time_window interval DEFAULT '7 days', quiet interval DEFAULT '1 hour',
                                 as_of timestamptz DEFAULT now())
    RETURNS TABLE (customer_id bigint, last_carted_at timestamptz, items bigint, products bigint[])
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    events regclass := personalize.configured_events('cart_abandonment');
BEGIN
    PERFORM personalize.check_signal_args('cart_abandonment', 1, as_of, ARRAY['time_window', 'quiet'],
                                          ARRAY[time_window, quiet]);
    RETURN QUERY EXECUTE format($q$
        WITH p AS (
            SELECT e.customer_id::bigint AS customer_id, e.product_id::bigint AS product_id,
                   max(e.event_at) AS at, count(*) AS items
            FROM %s e
            WHERE e.customer_id IS NOT NULL AND e.event_type = 'add_to_cart' AND e.product_id IS NOT NULL
              AND e.event_at > $1 - $2 AND e.event_at <= $1
            GROUP BY 1, 2
        ), c AS (
            SELECT p.customer_id, max(p.at) AS at, sum(p.items)::bigint AS items,
                   array_agg(p.product_id ORDER BY p.at DESC, p.product_id) AS products
            FROM p GROUP BY p.customer_id
        ), o AS (%s)
        SELECT c.customer_id, c.at, c.items, c.products
        FROM c
        WHERE c.at <= $1 - $3
          AND NOT EXISTS (SELECT 1 FROM o WHERE o.customer_id = c.customer_id AND o.at >= c.at AND o.at <= $1)
        ORDER BY 1$q$, events, personalize.signal_orders_sql('cart_abandonment', events))
        USING as_of, time_window, quiet;
END
$fn$;
COMMENT ON FUNCTION cart_abandonment(interval, interval, timestamptz) IS
    'customers who added to cart in a window and did not check out or order since';

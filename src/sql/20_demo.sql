-- The demo shop: a deterministic, realistic web shop (customers, products,
-- orders, order lines, web sessions and their events) generated in C++ from
-- (size, seed). Sizes: 'tiny' (tests), 'demo' (~10k customers), 'bench'
-- (200k customers, 1M orders, 10M order lines). Used by the demo, the tests
-- and the benchmarks; load_demo_shop() turns it into ordinary tables.

CREATE FUNCTION demo_customers(size text DEFAULT 'demo', seed bigint DEFAULT 42)
    RETURNS TABLE (customer_id bigint, signed_up_at timestamptz, country text, email_opt_in boolean)
    AS 'MODULE_PATHNAME', 'personalize_demo_customers'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10000;

CREATE FUNCTION demo_products(size text DEFAULT 'demo', seed bigint DEFAULT 42)
    RETURNS TABLE (product_id bigint, name text, category text, price numeric)
    AS 'MODULE_PATHNAME', 'personalize_demo_products'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

CREATE FUNCTION demo_orders(size text DEFAULT 'demo', seed bigint DEFAULT 42)
    RETURNS TABLE (order_id bigint, customer_id bigint, ordered_at timestamptz, status text,
                   total numeric, line_count integer)
    AS 'MODULE_PATHNAME', 'personalize_demo_orders'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 50000;

CREATE FUNCTION demo_order_lines(size text DEFAULT 'demo', seed bigint DEFAULT 42)
    RETURNS TABLE (order_id bigint, line_no integer, product_id bigint, quantity integer,
                   unit_price numeric, amount numeric)
    AS 'MODULE_PATHNAME', 'personalize_demo_order_lines'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 500000;

CREATE FUNCTION demo_sessions(size text DEFAULT 'demo', seed bigint DEFAULT 42)
    RETURNS TABLE (session_id bigint, customer_id bigint, started_at timestamptz, ended_at timestamptz,
                   pages_viewed integer, items_in_cart integer, cart_value numeric,
                   exit_intent boolean, converted boolean, order_id bigint)
    AS 'MODULE_PATHNAME', 'personalize_demo_sessions'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 50000;

CREATE FUNCTION demo_session_events(size text DEFAULT 'demo', seed bigint DEFAULT 42)
    RETURNS TABLE (session_id bigint, seq integer, event_at timestamptz, event_type text, product_id bigint)
    AS 'MODULE_PATHNAME', 'personalize_demo_session_events'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 250000;

CREATE FUNCTION demo_planted_pairs(size text DEFAULT 'demo', seed bigint DEFAULT 42)
    RETURNS TABLE (antecedent bigint, consequent bigint, attach_rate float8)
    AS 'MODULE_PATHNAME', 'personalize_demo_planted_pairs'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;

-- Creates the demo shop's tables in `target_schema` (created if missing;
-- existing demo tables there are replaced) and fills them. Returns the row
-- count of each table.
CREATE FUNCTION load_demo_shop(target_schema name, size text DEFAULT 'demo', seed bigint DEFAULT 42)
    RETURNS TABLE (table_name text, row_count bigint)
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET client_min_messages = warning
AS $load$
DECLARE
    t text;
    n bigint;
BEGIN
    -- An unknown size fails in the first generator call; the whole load rolls back.
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', target_schema);
    EXECUTE format('DROP TABLE IF EXISTS %1$I.session_events, %1$I.sessions, %1$I.order_lines, %1$I.orders,
                    %1$I.products, %1$I.customers, %1$I.planted_pairs', target_schema);

    EXECUTE format($sql$
        CREATE TABLE %1$I.customers (
            customer_id bigint PRIMARY KEY, signed_up_at timestamptz NOT NULL,
            country text NOT NULL, email_opt_in boolean NOT NULL);
        CREATE TABLE %1$I.products (
            product_id bigint PRIMARY KEY, name text NOT NULL, category text NOT NULL,
            price numeric(10,2) NOT NULL);
        CREATE TABLE %1$I.orders (
            order_id bigint PRIMARY KEY, customer_id bigint NOT NULL, ordered_at timestamptz NOT NULL,
            status text NOT NULL, total numeric(12,2) NOT NULL, line_count integer NOT NULL);
        CREATE TABLE %1$I.order_lines (
            order_id bigint NOT NULL, line_no integer NOT NULL, product_id bigint NOT NULL,
            quantity integer NOT NULL, unit_price numeric(10,2) NOT NULL, amount numeric(12,2) NOT NULL);
        CREATE TABLE %1$I.sessions (
            session_id bigint PRIMARY KEY, customer_id bigint, started_at timestamptz NOT NULL,
            ended_at timestamptz NOT NULL, pages_viewed integer NOT NULL, items_in_cart integer NOT NULL,
            cart_value numeric(12,2) NOT NULL, exit_intent boolean NOT NULL, converted boolean NOT NULL,
            order_id bigint);
        CREATE TABLE %1$I.session_events (
            session_id bigint NOT NULL, seq integer NOT NULL, event_at timestamptz NOT NULL,
            event_type text NOT NULL, product_id bigint);
        CREATE TABLE %1$I.planted_pairs (
            antecedent bigint NOT NULL, consequent bigint NOT NULL, attach_rate float8 NOT NULL);
    $sql$, target_schema);

    FOREACH t IN ARRAY ARRAY['customers', 'products', 'orders', 'order_lines', 'sessions',
                             'session_events', 'planted_pairs'] LOOP
        EXECUTE format('INSERT INTO %I.%I SELECT * FROM personalize.%I($1, $2)', target_schema, t, 'demo_' || t)
            USING size, seed;
        GET DIAGNOSTICS n = ROW_COUNT;
        table_name := t;
        row_count := n;
        RETURN NEXT;
    END LOOP;

    -- Keys and the indexes the examples and benchmarks rely on, built after
    -- loading because that is faster.
    EXECUTE format($sql$
        ALTER TABLE %1$I.order_lines ADD PRIMARY KEY (order_id, line_no);
        ALTER TABLE %1$I.session_events ADD PRIMARY KEY (session_id, seq);
        CREATE INDEX ON %1$I.orders (customer_id, ordered_at);
        CREATE INDEX ON %1$I.order_lines (product_id);
        CREATE INDEX ON %1$I.sessions (customer_id);
    $sql$, target_schema);
    FOREACH t IN ARRAY ARRAY['customers', 'products', 'orders', 'order_lines', 'sessions',
                             'session_events', 'planted_pairs'] LOOP
        EXECUTE format('ANALYZE %I.%I', target_schema, t);
    END LOOP;
END
$load$;
COMMENT ON FUNCTION load_demo_shop(name, text, bigint) IS
    'creates and fills the demo shop tables (customers, products, orders, order_lines, sessions, session_events, planted_pairs) in a schema';

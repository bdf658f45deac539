-- pg_personalize 0.1.0: e-commerce personalisation inside PostgreSQL.
-- Assembled from src/sql/*.sql by the Makefile; every object lives in the
-- schema "personalize" (see pg_personalize.control).

\echo Use "CREATE EXTENSION pg_personalize" to load this file. \quit

CREATE FUNCTION version() RETURNS text
    AS 'MODULE_PATHNAME', 'personalize_version'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION version() IS 'version of the pg_personalize library that is loaded';

CREATE FUNCTION live_cpp_objects() RETURNS bigint
    AS 'MODULE_PATHNAME', 'personalize_live_cpp_objects'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;  -- the leader's own count
COMMENT ON FUNCTION live_cpp_objects() IS
    'C++ objects (aggregate states, models) currently alive in this backend; 0 between queries unless something leaks';
-- customer_summary: the per-customer purchase summary (orders, frequency,
-- recency, age, monetary) that RFM and the lifetime models read.

CREATE TYPE customer_summary_result AS (
    orders          bigint,       -- rows with a non-NULL ordered_at
    first_order_at  timestamptz,
    last_order_at   timestamptz,
    frequency       bigint,       -- repeat purchase days (purchase days - 1)
    recency         float8,       -- t_x: first to last purchase day, in units
    age             float8,       -- T: first purchase day to as_of's day, in units
    monetary        float8,       -- mean amount of the repeat purchase days, 0 if none
    total           float8        -- sum of all amounts
);

CREATE FUNCTION customer_summary_transfn(internal, timestamptz, float8, timestamptz)
    RETURNS internal AS 'MODULE_PATHNAME', 'personalize_customer_summary_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_transfn(internal, timestamptz, float8, timestamptz, interval)
    RETURNS internal AS 'MODULE_PATHNAME', 'personalize_customer_summary_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_combine(internal, internal)
    RETURNS internal AS 'MODULE_PATHNAME', 'personalize_customer_summary_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_serialize(internal)
    RETURNS bytea AS 'MODULE_PATHNAME', 'personalize_customer_summary_serialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customer_summary_deserialize(bytea, internal)
    RETURNS internal AS 'MODULE_PATHNAME', 'personalize_customer_summary_deserialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customer_summary_final(internal)
    RETURNS customer_summary_result AS 'MODULE_PATHNAME', 'personalize_customer_summary_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The calendar day of each order is taken in the session's TimeZone (as
-- ordered_at::date does), hence STABLE transition functions.
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz) (
    SFUNC = customer_summary_transfn,
    STYPE = internal,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    SERIALFUNC = customer_summary_serialize,
    DESERIALFUNC = customer_summary_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz, unit interval) (
    SFUNC = customer_summary_transfn,
    STYPE = internal,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    SERIALFUNC = customer_summary_serialize,
    DESERIALFUNC = customer_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz) IS
    'per-customer orders, frequency, recency, age (days) and monetary value, as lifetimes/BTYD define them';
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz, interval) IS
    'per-customer orders, frequency, recency, age and monetary value in the given unit, as lifetimes/BTYD define them';
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
-- Market baskets: the personalize.baskets type, built from order lines by
-- the baskets() aggregates, mergeable, and mined by association_rules().

CREATE TYPE baskets;
CREATE FUNCTION baskets_in(cstring) RETURNS baskets
    AS 'MODULE_PATHNAME', 'personalize_baskets_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION baskets_out(baskets) RETURNS cstring
    AS 'MODULE_PATHNAME', 'personalize_baskets_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION baskets_recv(internal) RETURNS baskets
    AS 'MODULE_PATHNAME', 'personalize_baskets_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION baskets_send(baskets) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_baskets_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE baskets (
    INPUT = baskets_in, OUTPUT = baskets_out, RECEIVE = baskets_recv, SEND = baskets_send,
    INTERNALLENGTH = VARIABLE, STORAGE = extended
);
COMMENT ON TYPE baskets IS
    'a collection of market baskets: for each basket id the sorted set of its item ids; text form {basket:{item,...},...}';

-- Aggregates: baskets(basket_id, item_id) over order lines, or
-- baskets(basket_id, items) over one array per basket.
CREATE FUNCTION baskets_transfn(internal, bigint, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_baskets_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION baskets_transfn(internal, bigint, bigint[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_baskets_array_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION baskets_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_baskets_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION baskets_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_baskets_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION baskets_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_baskets_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION baskets_final(internal) RETURNS baskets
    AS 'MODULE_PATHNAME', 'personalize_baskets_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE baskets(basket_id bigint, item_id bigint) (
    SFUNC = baskets_transfn, STYPE = internal,
    FINALFUNC = baskets_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = baskets_combine, SERIALFUNC = baskets_serialize, DESERIALFUNC = baskets_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE baskets(basket_id bigint, items bigint[]) (
    SFUNC = baskets_transfn, STYPE = internal,
    FINALFUNC = baskets_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = baskets_combine, SERIALFUNC = baskets_serialize, DESERIALFUNC = baskets_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE baskets(bigint, bigint) IS
    'groups order lines into baskets (duplicate lines count once; NULL ids are skipped)';
COMMENT ON AGGREGATE baskets(bigint, bigint[]) IS
    'collects one item array per basket (rows of one basket are united; NULL ids and elements are skipped)';

CREATE FUNCTION merge_baskets(a baskets, b baskets) RETURNS baskets
    AS 'MODULE_PATHNAME', 'personalize_merge_baskets' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION merge_baskets(baskets, baskets) IS
    'union of two basket collections; a basket id present in both gets the union of its items';

CREATE FUNCTION unnest_baskets(baskets baskets, OUT basket_id bigint, OUT items bigint[]) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'personalize_unnest_baskets' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
CREATE FUNCTION basket_stats(baskets baskets, OUT basket_count bigint, OUT line_count bigint, OUT max_basket_size bigint)
    AS 'MODULE_PATHNAME', 'personalize_basket_stats' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- Association rules with one consequent item and the full metric set.

CREATE FUNCTION association_rules(
    baskets baskets,
    min_support float8 DEFAULT 0.01,
    min_confidence float8 DEFAULT 0,
    max_len integer DEFAULT 2,
    min_len integer DEFAULT 2,
    min_count bigint DEFAULT NULL,
    consequents bigint[] DEFAULT NULL,
    antecedents bigint[] DEFAULT NULL,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (
    antecedent bigint[], consequent bigint, count bigint,
    antecedent_support float8, consequent_support float8, support float8,
    confidence float8, lift float8, leverage float8, conviction float8,
    jaccard float8, certainty float8, kulczynski float8, zhangs_metric float8)
    AS 'MODULE_PATHNAME', 'personalize_association_rules'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION association_rules(baskets, float8, float8, integer, integer, bigint, bigint[], bigint[], integer) IS
    'association rules antecedent => consequent with support, confidence, lift, leverage, conviction, jaccard, certainty, kulczynski and zhangs_metric';
-- Serving complementary products from a rules table (or materialized view)
-- produced by association_rules(). The table needs the columns antecedent
-- bigint[], consequent bigint, confidence, lift, certainty and
-- consequent_support (float8); see docs/complements.md for the indexes that
-- make these calls fast.

-- Top-k complements of one product ("bought together"), strongest first.
CREATE FUNCTION product_complements(rules regclass, item bigint, k integer DEFAULT 10)
    RETURNS TABLE (complement bigint, confidence float8, lift float8, certainty float8)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $fn$
BEGIN
    IF k < 1 THEN
        RAISE EXCEPTION 'product_complements: "k" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT r.consequent, r.confidence::float8, r.lift::float8, r.certainty::float8 FROM %s r
         WHERE r.antecedent = ARRAY[$1]::bigint[]
         ORDER BY r.certainty DESC, r.consequent LIMIT $2', rules)
        USING item, k;
END
$fn$;

-- Top-k cross-sell suggestions for a cart. Every rule whose antecedent is
-- within the cart (single items, and pairs of cart items for carts of up to
-- 64 distinct items) is evidence for its consequent; evidence is combined as
--     score = 1 - prod(1 - certainty)        over the rules with certainty > 0
-- (certainty = (confidence - consequent_support) / (1 - consequent_support):
-- the gain over the item's base rate, so everyday best-sellers do not win by
-- popularity alone; the noisy-OR makes two cart items pointing at the same
-- product stronger than one, and equals the single rule's certainty when
-- only one rule applies). Items in the cart are never suggested. When fewer
-- than k items reach min_score, the most popular items (the rules'
-- consequent_support) fill the list, with source 'popular' and score 0.
-- Implemented in C: the lookups are prepared once per rules table.
CREATE FUNCTION cart_suggestions(cart bigint[], rules regclass, k integer DEFAULT 10, min_score float8 DEFAULT 0)
    RETURNS TABLE (item bigint, score float8, evidence bigint[], source text)
    AS 'MODULE_PATHNAME', 'personalize_cart_suggestions'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
-- Customer lifetime models (buy-till-you-die): BG/NBD, Pareto/NBD and
-- Gamma-Gamma fitted by maximum likelihood in C++, and per-customer
-- predictions. Inputs are customer_summary()'s frequency, recency, age and
-- monetary, in one time unit of your choice (the fitted alpha/beta are in it).

-- Fitting aggregates: (frequency, recency, age [, weight [, penalty]]).
-- Rows with a NULL frequency, recency or age are skipped; weight (default 1)
-- lets you fit on GROUP BY frequency, recency, age rows.
CREATE FUNCTION bgnbd_fit_transfn(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_transfn(internal, float8, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_transfn(internal, float8, float8, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pareto_nbd_fit_transfn(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_transfn(internal, float8, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_transfn(internal, float8, float8, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION gamma_gamma_fit_transfn(internal, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(internal, float8, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE bgnbd_fit(frequency float8, recency float8, age float8) (
    SFUNC = bgnbd_fit_transfn, STYPE = internal, FINALFUNC = bgnbd_fit_final, COMBINEFUNC = bgnbd_fit_combine,
    SERIALFUNC = bgnbd_fit_serialize, DESERIALFUNC = bgnbd_fit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE bgnbd_fit(frequency float8, recency float8, age float8, weight float8) (
    SFUNC = bgnbd_fit_transfn, STYPE = internal, FINALFUNC = bgnbd_fit_final, COMBINEFUNC = bgnbd_fit_combine,
    SERIALFUNC = bgnbd_fit_serialize, DESERIALFUNC = bgnbd_fit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE bgnbd_fit(frequency float8, recency float8, age float8, weight float8, penalty float8) (
    SFUNC = bgnbd_fit_transfn, STYPE = internal, FINALFUNC = bgnbd_fit_final, COMBINEFUNC = bgnbd_fit_combine,
    SERIALFUNC = bgnbd_fit_serialize, DESERIALFUNC = bgnbd_fit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(frequency float8, recency float8, age float8) (
    SFUNC = pareto_nbd_fit_transfn, STYPE = internal, FINALFUNC = pareto_nbd_fit_final,
    COMBINEFUNC = pareto_nbd_fit_combine, SERIALFUNC = pareto_nbd_fit_serialize,
    DESERIALFUNC = pareto_nbd_fit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(frequency float8, recency float8, age float8, weight float8) (
    SFUNC = pareto_nbd_fit_transfn, STYPE = internal, FINALFUNC = pareto_nbd_fit_final,
    COMBINEFUNC = pareto_nbd_fit_combine, SERIALFUNC = pareto_nbd_fit_serialize,
    DESERIALFUNC = pareto_nbd_fit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(frequency float8, recency float8, age float8, weight float8, penalty float8) (
    SFUNC = pareto_nbd_fit_transfn, STYPE = internal, FINALFUNC = pareto_nbd_fit_final,
    COMBINEFUNC = pareto_nbd_fit_combine, SERIALFUNC = pareto_nbd_fit_serialize,
    DESERIALFUNC = pareto_nbd_fit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(frequency float8, monetary float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = internal, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = gamma_gamma_fit_combine, SERIALFUNC = gamma_gamma_fit_serialize,
    DESERIALFUNC = gamma_gamma_fit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(frequency float8, monetary float8, weight float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = internal, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = gamma_gamma_fit_combine, SERIALFUNC = gamma_gamma_fit_serialize,
    DESERIALFUNC = gamma_gamma_fit_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(frequency float8, monetary float8, weight float8, penalty float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = internal, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = gamma_gamma_fit_combine, SERIALFUNC = gamma_gamma_fit_serialize,
    DESERIALFUNC = gamma_gamma_fit_deserialize, PARALLEL = SAFE);

-- Predictions: a BG/NBD or Pareto/NBD model, then the customer's numbers.
CREATE FUNCTION probability_alive(model jsonb, frequency float8, recency float8, age float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_probability_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION expected_purchases(model jsonb, t float8, frequency float8, recency float8, age float8)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_expected_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION expected_purchases_new(model jsonb, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_expected_purchases_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION probability_of_purchases(model jsonb, n integer, t float8, frequency float8, recency float8,
                                         age float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_probability_of_purchases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION expected_spend(spend_model jsonb, frequency float8, monetary float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_expected_spend' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customer_lifetime_value(model jsonb, spend_model jsonb, frequency float8, recency float8,
                                        age float8, monetary float8, periods integer,
                                        period_length float8 DEFAULT 1, discount_rate float8 DEFAULT 0)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_customer_lifetime_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION next_purchase_in(model jsonb, frequency float8, recency float8, age float8,
                                 probability float8 DEFAULT 0.5) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_next_purchase_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION expected_purchases_interval(model jsonb, t float8, frequency float8, recency float8, age float8,
                                            level float8 DEFAULT 0.9, draws integer DEFAULT 200,
                                            seed bigint DEFAULT 1, OUT lower float8, OUT upper float8)
    AS 'MODULE_PATHNAME', 'personalize_expected_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customer_lifetime_value_interval(model jsonb, spend_model jsonb, frequency float8, recency float8,
                                                 age float8, monetary float8, periods integer,
                                                 period_length float8 DEFAULT 1, discount_rate float8 DEFAULT 0,
                                                 level float8 DEFAULT 0.9, draws integer DEFAULT 200,
                                                 seed bigint DEFAULT 1, OUT lower float8, OUT upper float8)
    AS 'MODULE_PATHNAME', 'personalize_clv_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION simulate_customers(model text, params float8[], customers integer, seed bigint DEFAULT 1,
                                   age_min float8 DEFAULT 30, age_max float8 DEFAULT 40,
                                   OUT customer_id bigint, OUT frequency float8, OUT recency float8,
                                   OUT age float8) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'personalize_simulate_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
-- k-means clustering of feature vectors (float8[]): k-means++ seeding from a
-- seed, Hamerly-accelerated Lloyd iterations, optional per-feature scaling.

CREATE FUNCTION kmeans_transfn(internal, float8[], integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_kmeans_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_transfn(internal, float8[], integer, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_kmeans_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_transfn(internal, float8[], integer, bigint, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_kmeans_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_transfn(internal, float8[], integer, bigint, text, integer, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_kmeans_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_kmeans_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_kmeans_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kmeans_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_kmeans_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- Not strict: an empty input gets a NOTICE instead of silence.
CREATE FUNCTION kmeans_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_kmeans_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE kmeans(features float8[], k integer) (
    SFUNC = kmeans_transfn, STYPE = internal, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine,
    SERIALFUNC = kmeans_serialize, DESERIALFUNC = kmeans_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE kmeans(features float8[], k integer, seed bigint) (
    SFUNC = kmeans_transfn, STYPE = internal, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine,
    SERIALFUNC = kmeans_serialize, DESERIALFUNC = kmeans_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE kmeans(features float8[], k integer, seed bigint, scaling text) (
    SFUNC = kmeans_transfn, STYPE = internal, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine,
    SERIALFUNC = kmeans_serialize, DESERIALFUNC = kmeans_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE kmeans(features float8[], k integer, seed bigint, scaling text, max_iterations integer,
                        tolerance float8) (
    SFUNC = kmeans_transfn, STYPE = internal, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine,
    SERIALFUNC = kmeans_serialize, DESERIALFUNC = kmeans_deserialize, PARALLEL = SAFE);

CREATE FUNCTION kmeans_assign(features float8[], model jsonb, OUT cluster integer, OUT distance float8)
    AS 'MODULE_PATHNAME', 'personalize_kmeans_assign' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kmeans_silhouette(model jsonb, points float8[], sample_size integer DEFAULT 2000,
                                  seed bigint DEFAULT 0) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_kmeans_silhouette' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- RFM scoring: recency, frequency and monetary scores 1..bins by population
-- quantiles (NTILE's bucket starts; identical values share a score). See
-- docs/rfm.md. "recency" here is the time since the last purchase (lower is
-- better: the most recent customers score bins).

CREATE FUNCTION rfm_breakpoints_transfn(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_transfn(internal, float8, float8, float8, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE rfm_breakpoints(recency float8, frequency float8, monetary float8) (
    SFUNC = rfm_breakpoints_transfn, STYPE = internal, FINALFUNC = rfm_breakpoints_final,
    COMBINEFUNC = rfm_breakpoints_combine, SERIALFUNC = rfm_breakpoints_serialize,
    DESERIALFUNC = rfm_breakpoints_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE rfm_breakpoints(recency float8, frequency float8, monetary float8, bins integer) (
    SFUNC = rfm_breakpoints_transfn, STYPE = internal, FINALFUNC = rfm_breakpoints_final,
    COMBINEFUNC = rfm_breakpoints_combine, SERIALFUNC = rfm_breakpoints_serialize,
    DESERIALFUNC = rfm_breakpoints_deserialize, PARALLEL = SAFE);
COMMENT ON AGGREGATE rfm_breakpoints(float8, float8, float8) IS
    'RFM quintile breakpoints (jsonb) of the customers'' recency (time since last purchase), frequency and monetary value';
COMMENT ON AGGREGATE rfm_breakpoints(float8, float8, float8, integer) IS
    'RFM breakpoints (jsonb) for 2..10 bins of the customers'' recency (time since last purchase), frequency and monetary value';

CREATE FUNCTION rfm_score(breakpoints jsonb, recency float8, frequency float8, monetary float8,
                          OUT r integer, OUT f integer, OUT m integer)
    AS 'MODULE_PATHNAME', 'personalize_rfm_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rfm_score(jsonb, float8, float8, float8) IS
    'RFM scores 1..bins of one customer against stored rfm_breakpoints (r = bins for the most recent)';

-- The one-call form: reads customer_id, recency, frequency and monetary from
-- a table or view (customer_id castable to bigint, the others to float8).
-- Customers with a NULL value get NULL scores and do not count in the
-- quantiles.
CREATE FUNCTION rfm_scores(customers regclass, bins integer DEFAULT 5)
    RETURNS TABLE (customer_id bigint, recency_score integer, frequency_score integer, monetary_score integer)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
BEGIN
    IF customers IS NULL THEN
        RAISE EXCEPTION 'rfm_scores: "customers" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF bins IS NULL THEN
        RAISE EXCEPTION 'rfm_scores: "bins" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF bins NOT BETWEEN 2 AND 10 THEN
        RAISE EXCEPTION 'rfm_scores: "bins" must be between 2 and 10, not %', bins
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- %s of a regclass is its quoted, schema-qualified-when-needed name.
    RETURN QUERY EXECUTE format(
        'WITH c AS MATERIALIZED (
             SELECT t.customer_id::bigint AS id, t.recency::float8 AS r, t.frequency::float8 AS f,
                    t.monetary::float8 AS m
             FROM %s t),
         b AS (SELECT personalize.rfm_breakpoints(c.r, c.f, c.m, $1) AS bp FROM c)
         SELECT c.id, s.r, s.f, s.m
         FROM c CROSS JOIN b LEFT JOIN LATERAL personalize.rfm_score(b.bp, c.r, c.f, c.m) s ON true', customers)
        USING bins;
END
$fn$;
COMMENT ON FUNCTION rfm_scores(regclass, integer) IS
    'RFM scores 1..bins of every row of a table or view with customer_id, recency (time since last purchase), frequency and monetary';
-- Named segments from RFM scores (table-driven maps), segment history with
-- transitions, and the customer cohorts the offers need (first-timers,
-- lapsed, recently active, high value). Plain SQL/plpgsql; see
-- docs/segments_rfm.md. Scores are integers 1..5 (5 = most recent, most
-- frequent, highest spend); this file does not depend on how they are made.

-- A map is a set of rules; a customer's segment is the first rule (by
-- priority, then segment name) whose inclusive ranges contain its scores.
-- NULL m bounds mean "any m" (both NULL or both set).
CREATE TABLE segment_rules (
    map      text    NOT NULL,
    segment  text    NOT NULL,
    priority integer NOT NULL,
    r_min    integer NOT NULL,
    r_max    integer NOT NULL,
    f_min    integer NOT NULL,
    f_max    integer NOT NULL,
    m_min    integer,
    m_max    integer,
    PRIMARY KEY (map, segment),
    CONSTRAINT segment_rules_r_range CHECK (r_min BETWEEN 1 AND 5 AND r_max BETWEEN r_min AND 5),
    CONSTRAINT segment_rules_f_range CHECK (f_min BETWEEN 1 AND 5 AND f_max BETWEEN f_min AND 5),
    CONSTRAINT segment_rules_m_range CHECK ((m_min IS NULL AND m_max IS NULL)
                                            OR (m_min IS NOT NULL AND m_max IS NOT NULL
                                                AND m_min BETWEEN 1 AND 5 AND m_max BETWEEN m_min AND 5)),
    CONSTRAINT segment_rules_segment_not_empty CHECK (segment <> '' AND map <> '')
);
COMMENT ON TABLE segment_rules IS
    'segment maps: the first rule (by priority, segment) whose inclusive r/f/m ranges contain the scores names the segment; NULL m bounds = any';

-- rf_grid: a 5x5 grid on R and F; every cell is covered exactly once.
INSERT INTO segment_rules (map, segment, priority, r_min, r_max, f_min, f_max) VALUES
    ('rf_grid', 'Hibernating',          1, 1, 2, 1, 2),
    ('rf_grid', 'At Risk',              2, 1, 2, 3, 4),
    ('rf_grid', 'Can''t Lose Them',     3, 1, 2, 5, 5),
    ('rf_grid', 'About to Sleep',       4, 3, 3, 1, 2),
    ('rf_grid', 'Need Attention',       5, 3, 3, 3, 3),
    ('rf_grid', 'Loyal Customers',      6, 3, 4, 4, 5),
    ('rf_grid', 'Promising',            7, 4, 4, 1, 1),
    ('rf_grid', 'New Customers',        8, 5, 5, 1, 1),
    ('rf_grid', 'Potential Loyalists',  9, 4, 5, 2, 3),
    ('rf_grid', 'Champions',           10, 5, 5, 4, 5);
-- rfm_rules: ordered, first match wins, otherwise 'Others'.
INSERT INTO segment_rules (map, segment, priority, r_min, r_max, f_min, f_max, m_min, m_max) VALUES
    ('rfm_rules', 'Champions',           1, 5, 5, 5, 5, 5, 5),
    ('rfm_rules', 'Potential Loyalist',  2, 3, 5, 3, 5, 2, 5),
    ('rfm_rules', 'Loyal Customers',     3, 2, 4, 2, 4, 2, 4),
    ('rfm_rules', 'Promising',           4, 3, 4, 1, 3, 3, 5),
    ('rfm_rules', 'New Customers',       5, 4, 5, 1, 3, 1, 5),
    ('rfm_rules', 'Can''t Lose Them',    6, 1, 2, 3, 4, 4, 5),
    ('rfm_rules', 'At Risk',             7, 1, 2, 2, 5, 4, 5),
    ('rfm_rules', 'Need Attention',      8, 1, 3, 3, 5, 3, 5),
    ('rfm_rules', 'About To Sleep',      9, 2, 3, 1, 3, 1, 4),
    ('rfm_rules', 'Lost',               10, 1, 1, 1, 5, 1, 5);
-- User maps are dumped by pg_dump; the shipped ones come with the extension.
SELECT pg_catalog.pg_extension_config_dump('personalize.segment_rules',
                                           'WHERE map NOT IN (''rf_grid'', ''rfm_rules'')');

-- One row per (date, map, customer): the segment the customer was in.
CREATE TABLE segment_history (
    as_of       date   NOT NULL,
    map         text   NOT NULL,
    customer_id bigint NOT NULL,
    segment     text   NOT NULL,
    PRIMARY KEY (as_of, map, customer_id)
);
CREATE INDEX segment_history_map_as_of ON segment_history (map, as_of);
COMMENT ON TABLE segment_history IS 'snapshots of customers'' segments, written by snapshot_segments()';
SELECT pg_catalog.pg_extension_config_dump('personalize.segment_history', '');

-- The segment of one customer's scores. NULL r or f (or map) gives NULL; a
-- NULL m matches only rules without m bounds. No rule matches: 'Others'.
CREATE FUNCTION segment(map text, r integer, f integer, m integer DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
DECLARE
    result text;
BEGIN
    IF map IS NULL OR r IS NULL OR f IS NULL THEN
        RETURN NULL;
    END IF;
    IF r NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'segment: "r" must be between 1 and 5, got %', r USING ERRCODE = 'invalid_parameter_value';
    ELSIF f NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'segment: "f" must be between 1 and 5, got %', f USING ERRCODE = 'invalid_parameter_value';
    ELSIF m NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'segment: "m" must be between 1 and 5, got %', m USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.segment INTO result
    FROM personalize.segment_rules s
    WHERE s.map = segment.map
      AND segment.r BETWEEN s.r_min AND s.r_max
      AND segment.f BETWEEN s.f_min AND s.f_max
      AND (s.m_min IS NULL OR segment.m BETWEEN s.m_min AND s.m_max)
    ORDER BY s.priority, s.segment
    LIMIT 1;
    IF result IS NOT NULL THEN
        RETURN result;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM personalize.segment_rules s WHERE s.map = segment.map) THEN
        RAISE EXCEPTION 'segment: "map" % is not a map in personalize.segment_rules', pg_catalog.quote_literal(map)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN 'Others';
END
$fn$;
COMMENT ON FUNCTION segment(text, integer, integer, integer) IS
    'named segment of RFM scores (1..5) from a map in segment_rules: first matching rule by priority, else Others';

-- Cells of a map that no rule covers (gaps) or, for maps without m bounds,
-- that several rules cover (overlaps). See docs/segments_rfm.md.
CREATE FUNCTION validate_segment_map(map text, scores integer DEFAULT 5)
    RETURNS TABLE (problem text, r integer, f integer, m integer, segments text[])
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
DECLARE
    grid boolean;
BEGIN
    IF map IS NULL THEN
        RAISE EXCEPTION 'validate_segment_map: "map" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF scores IS NULL OR scores NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'validate_segment_map: "scores" must be between 1 and 5' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT bool_and(s.m_min IS NULL) INTO grid FROM personalize.segment_rules s WHERE s.map = validate_segment_map.map;
    IF grid IS NULL THEN
        RAISE EXCEPTION 'validate_segment_map: "map" % is not a map in personalize.segment_rules',
            pg_catalog.quote_literal(map) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF grid THEN
        RETURN QUERY
        SELECT CASE WHEN count(s.segment) = 0 THEN 'gap' ELSE 'overlap' END,
               cr, cf, NULL::integer,
               coalesce(array_agg(s.segment ORDER BY s.priority, s.segment) FILTER (WHERE s.segment IS NOT NULL),
                        '{}')
        FROM generate_series(1, scores) cr CROSS JOIN generate_series(1, scores) cf
        LEFT JOIN personalize.segment_rules s
          ON s.map = validate_segment_map.map AND cr BETWEEN s.r_min AND s.r_max AND cf BETWEEN s.f_min AND s.f_max
        GROUP BY cr, cf
        HAVING count(s.segment) <> 1
        ORDER BY cr, cf;
    ELSE
        RETURN QUERY
        SELECT 'gap (fallback Others)', cr, cf, cm, '{}'::text[]
        FROM generate_series(1, scores) cr CROSS JOIN generate_series(1, scores) cf
             CROSS JOIN generate_series(1, scores) cm
        WHERE NOT EXISTS (
            SELECT 1 FROM personalize.segment_rules s
            WHERE s.map = validate_segment_map.map AND cr BETWEEN s.r_min AND s.r_max
              AND cf BETWEEN s.f_min AND s.f_max AND (s.m_min IS NULL OR cm BETWEEN s.m_min AND s.m_max))
        ORDER BY cr, cf, cm;
    END IF;
END
$fn$;
COMMENT ON FUNCTION validate_segment_map(text, integer) IS
    'cells of a segment map covered by no rule (gap) or, for maps without m bounds, by several rules (overlap)';

-- Internal: raises an error naming fn's argument arg unless rel has cols.
CREATE FUNCTION require_columns(rel regclass, cols text[], fn text, arg text)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
DECLARE
    missing text[];
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION '%: "%" must not be NULL', fn, arg USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT array_agg(c ORDER BY o) INTO missing
    FROM unnest(cols) WITH ORDINALITY u(c, o)
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = rel AND a.attname = c AND a.attnum > 0 AND NOT a.attisdropped);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '%: "%" (%) must have the columns %; missing: %', fn, arg, rel,
            array_to_string(cols, ', '), array_to_string(missing, ', ')
            USING ERRCODE = 'undefined_column';
    END IF;
END
$fn$;
COMMENT ON FUNCTION require_columns(regclass, text[], text, text) IS
    'internal: checks that a table given as regclass has the columns a function reads';

-- Writes the segment of every row of `scores` (customer_id, r, f, m) into
-- segment_history for (as_of, map), replacing that snapshot. Rows with a
-- NULL r or f are skipped. Returns the rows written.
CREATE FUNCTION snapshot_segments(map text, as_of date, scores regclass)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
    IF map IS NULL THEN
        RAISE EXCEPTION 'snapshot_segments: "map" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF as_of IS NULL THEN
        RAISE EXCEPTION 'snapshot_segments: "as_of" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT isfinite(as_of) THEN
        RAISE EXCEPTION 'snapshot_segments: "as_of" must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    ELSIF NOT EXISTS (SELECT 1 FROM personalize.segment_rules s WHERE s.map = snapshot_segments.map) THEN
        RAISE EXCEPTION 'snapshot_segments: "map" % is not a map in personalize.segment_rules', quote_literal(map)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM personalize.require_columns(scores, ARRAY['customer_id', 'r', 'f', 'm'], 'snapshot_segments', 'scores');
    DELETE FROM personalize.segment_history h WHERE h.as_of = snapshot_segments.as_of AND h.map = snapshot_segments.map;
    EXECUTE format(
        'INSERT INTO personalize.segment_history (as_of, map, customer_id, segment)
         SELECT $1, $2, s.customer_id, personalize.segment($2, s.r::integer, s.f::integer, s.m::integer)
         FROM %s s WHERE s.r IS NOT NULL AND s.f IS NOT NULL', scores)
        USING as_of, map;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION snapshot_segments(text, date, regclass) IS
    'stores every customer''s segment of a map for a date in segment_history (replacing that date''s snapshot)';

-- Who moved where between two snapshots of a map. A customer in only one
-- snapshot has NULL on the other side (new: from_segment NULL; gone:
-- to_segment NULL).
CREATE FUNCTION segment_transitions(map text, from_date date, to_date date)
    RETURNS TABLE (from_segment text, to_segment text, customers bigint)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
BEGIN
    IF map IS NULL THEN
        RAISE EXCEPTION 'segment_transitions: "map" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF from_date IS NULL THEN
        RAISE EXCEPTION 'segment_transitions: "from_date" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF to_date IS NULL THEN
        RAISE EXCEPTION 'segment_transitions: "to_date" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT EXISTS (SELECT 1 FROM personalize.segment_history h
                      WHERE h.map = segment_transitions.map AND h.as_of = from_date) THEN
        RAISE EXCEPTION 'segment_transitions: no snapshot of map % on "from_date" %', quote_literal(map), from_date
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF NOT EXISTS (SELECT 1 FROM personalize.segment_history h
                      WHERE h.map = segment_transitions.map AND h.as_of = to_date) THEN
        RAISE EXCEPTION 'segment_transitions: no snapshot of map % on "to_date" %', quote_literal(map), to_date
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    SELECT a.segment, b.segment, count(*)
    FROM (SELECT h.customer_id, h.segment FROM personalize.segment_history h
          WHERE h.map = segment_transitions.map AND h.as_of = from_date) a
    FULL JOIN (SELECT h.customer_id, h.segment FROM personalize.segment_history h
               WHERE h.map = segment_transitions.map AND h.as_of = to_date) b
      ON a.customer_id = b.customer_id
    GROUP BY a.segment, b.segment
    ORDER BY a.segment NULLS FIRST, b.segment NULLS FIRST;
END
$fn$;
COMMENT ON FUNCTION segment_transitions(text, date, date) IS
    'customers per (from_segment, to_segment) between two snapshots; NULL side = new or gone';

-- Cohorts over an orders table (customer_id, ordered_at, status, total):
-- only orders with status 'completed' count, and only those at or before
-- as_of. A day is 24 hours.

-- Internal: the common argument checks of the cohort functions.
CREATE FUNCTION check_cohort_args(fn text, orders regclass, as_of timestamptz)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
BEGIN
    PERFORM personalize.require_columns(orders, ARRAY['customer_id', 'ordered_at', 'status', 'total'], fn, 'orders');
    IF as_of IS NULL THEN
        RAISE EXCEPTION '%: "as_of" must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT isfinite(as_of) THEN
        RAISE EXCEPTION '%: "as_of" must be a finite timestamp', fn USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$fn$;
COMMENT ON FUNCTION check_cohort_args(text, regclass, timestamptz) IS 'internal: argument checks of the cohort functions';

-- Customers of `customers` (customer_id) with no completed order in `orders`.
CREATE FUNCTION first_time_customers(customers regclass, orders regclass)
    RETURNS TABLE (customer_id bigint)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.require_columns(customers, ARRAY['customer_id'], 'first_time_customers', 'customers');
    PERFORM personalize.require_columns(orders, ARRAY['customer_id', 'status'], 'first_time_customers', 'orders');
    RETURN QUERY EXECUTE format(
        'SELECT c.customer_id::bigint FROM %s c
         WHERE NOT EXISTS (SELECT 1 FROM %s o WHERE o.customer_id = c.customer_id AND o.status = ''completed'')
         ORDER BY 1', customers, orders);
END
$fn$;
COMMENT ON FUNCTION first_time_customers(regclass, regclass) IS
    'customers with no completed order yet (offers for a first purchase)';

-- Customers whose last completed order is at least `days` days before
-- as_of, with the median gap between their consecutive completed orders.
CREATE FUNCTION lapsed_customers(orders regclass, as_of timestamptz, days integer)
    RETURNS TABLE (customer_id bigint, last_order_at timestamptz, days_since_last_order float8,
                   typical_gap_days float8, overdue boolean)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_cohort_args('lapsed_customers', orders, as_of);
    IF days IS NULL THEN
        RAISE EXCEPTION 'lapsed_customers: "days" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF days < 1 THEN
        RAISE EXCEPTION 'lapsed_customers: "days" must be at least 1, got %', days USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH o AS (
            SELECT o.customer_id::bigint AS customer_id, o.ordered_at::timestamptz AS ordered_at,
                   extract(epoch FROM o.ordered_at - lag(o.ordered_at) OVER w)::float8 / 86400 AS gap
            FROM %s o
            WHERE o.status = 'completed' AND o.ordered_at <= $1
            WINDOW w AS (PARTITION BY o.customer_id ORDER BY o.ordered_at)
        ), c AS (
            SELECT o.customer_id, max(o.ordered_at) AS last_order_at,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY o.gap) AS typical_gap
            FROM o GROUP BY o.customer_id
        )
        SELECT c.customer_id, c.last_order_at, extract(epoch FROM $1 - c.last_order_at)::float8 / 86400,
               c.typical_gap, extract(epoch FROM $1 - c.last_order_at)::float8 / 86400 > 2 * c.typical_gap
        FROM c
        WHERE c.last_order_at <= $1 - $2 * interval '24 hours'
        ORDER BY c.customer_id$q$, orders)
        USING as_of, days;
END
$fn$;
COMMENT ON FUNCTION lapsed_customers(regclass, timestamptz, integer) IS
    'customers with no completed order in the last "days" days; overdue = days since last order > 2 x median gap';

-- Customers with at least one completed order in (as_of - days, as_of].
CREATE FUNCTION recently_active_customers(orders regclass, as_of timestamptz, days integer)
    RETURNS TABLE (customer_id bigint, orders_in_window bigint, spend_in_window numeric, last_order_at timestamptz)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_cohort_args('recently_active_customers', orders, as_of);
    IF days IS NULL THEN
        RAISE EXCEPTION 'recently_active_customers: "days" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF days < 1 THEN
        RAISE EXCEPTION 'recently_active_customers: "days" must be at least 1, got %', days
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT o.customer_id::bigint, count(*), sum(o.total)::numeric, max(o.ordered_at)::timestamptz
        FROM %s o
        WHERE o.status = 'completed' AND o.ordered_at <= $1 AND o.ordered_at > $1 - $2 * interval '24 hours'
        GROUP BY o.customer_id
        ORDER BY o.customer_id$q$, orders)
        USING as_of, days;
END
$fn$;
COMMENT ON FUNCTION recently_active_customers(regclass, timestamptz, integer) IS
    'customers with a completed order in the last "days" days before as_of';

-- The top `top_fraction` of customers by total spend over completed orders
-- up to as_of: ceil(top_fraction x customers) rows, ties broken by
-- customer_id.
CREATE FUNCTION high_value_customers(orders regclass, as_of timestamptz, top_fraction float8 DEFAULT 0.1)
    RETURNS TABLE (customer_id bigint, total_spend numeric, completed_orders bigint, spend_rank bigint)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_cohort_args('high_value_customers', orders, as_of);
    IF top_fraction IS NULL THEN
        RAISE EXCEPTION 'high_value_customers: "top_fraction" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT (top_fraction > 0 AND top_fraction <= 1) THEN
        RAISE EXCEPTION 'high_value_customers: "top_fraction" must be in (0, 1], got %', top_fraction
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH c AS (
            SELECT o.customer_id::bigint AS customer_id, sum(o.total)::numeric AS spend, count(*) AS n
            FROM %s o
            WHERE o.status = 'completed' AND o.ordered_at <= $1
            GROUP BY o.customer_id
        ), ranked AS (
            SELECT c.*, row_number() OVER (ORDER BY c.spend DESC, c.customer_id) AS rn, count(*) OVER () AS total_n
            FROM c
        )
        SELECT ranked.customer_id, ranked.spend, ranked.n, ranked.rn
        FROM ranked
        WHERE ranked.rn <= ceil($2::numeric * ranked.total_n)
        ORDER BY ranked.rn$q$, orders)
        USING as_of, top_fraction;
END
$fn$;
COMMENT ON FUNCTION high_value_customers(regclass, timestamptz, float8) IS
    'the top share of customers by total spend over completed orders up to as_of';
-- Personal suggestions from order history (docs/suggestions.md):
-- item-to-item similarities counted in C++ from a baskets value (one basket
-- per customer), a popular-items fallback, the top-n of one customer for a
-- backend and of every customer for a campaign, and the offline metrics to
-- compare scorers.

-- The model: for every item its own row and its best `neighbours` by score
-- (measure: cosine, jaccard, lift or confidence; see docs/suggestions.md).
-- Store it in a table with an index on item.
CREATE FUNCTION item_similarities(
    baskets baskets,
    measure text DEFAULT 'cosine',
    neighbours integer DEFAULT 50,
    min_count bigint DEFAULT 2,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (item bigint, neighbour bigint, score float8, together bigint)
    AS 'MODULE_PATHNAME', 'personalize_item_similarities'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100000;
COMMENT ON FUNCTION item_similarities(baskets, text, integer, bigint, integer) IS
    'item-to-item similarities (cosine, jaccard, lift or confidence) from co-occurrence in baskets: each item''s own row and its best neighbours';

-- The fallback: the k items bought by the most customers of each segment
-- (score = share of the segment's customers), and overall (segment NULL).
-- history: customer_id, item_id; segments (optional): customer_id, segment,
-- one row per customer.
CREATE FUNCTION popular_items(history regclass, segments regclass DEFAULT NULL, k integer DEFAULT 100)
    RETURNS TABLE (segment text, item_id bigint, score float8, buyers bigint)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF history IS NULL THEN
        RAISE EXCEPTION 'popular_items: "history" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k IS NULL THEN
        RAISE EXCEPTION 'popular_items: "k" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k < 1 THEN
        RAISE EXCEPTION 'popular_items: "k" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- %s of a regclass is its quoted, schema-qualified-when-needed name.
    RETURN QUERY EXECUTE format(
        'WITH h AS MATERIALIZED (
             SELECT DISTINCT t.customer_id::bigint AS c, t.item_id::bigint AS i FROM %s t
             WHERE t.customer_id IS NOT NULL AND t.item_id IS NOT NULL),
         s AS (SELECT g.customer_id::bigint AS c, g.segment::text AS seg FROM %s g WHERE g.segment IS NOT NULL),
         counts AS (
             SELECT NULL::text AS seg, h.i, count(*) AS buyers FROM h GROUP BY h.i
             UNION ALL
             SELECT s.seg, h.i, count(*) FROM h JOIN s USING (c) GROUP BY s.seg, h.i),
         sizes AS (
             SELECT NULL::text AS seg, count(DISTINCT h.c) AS n FROM h
             UNION ALL
             SELECT s.seg, count(DISTINCT h.c) FROM h JOIN s USING (c) GROUP BY s.seg),
         ranked AS (
             SELECT c.seg, c.i, c.buyers::float8 / z.n AS score, c.buyers,
                    row_number() OVER (PARTITION BY c.seg ORDER BY c.buyers DESC, c.i) AS r
             FROM counts c JOIN sizes z ON z.seg IS NOT DISTINCT FROM c.seg)
         SELECT seg, i, score, buyers FROM ranked WHERE r <= $1 ORDER BY seg NULLS FIRST, r',
        history,
        COALESCE(segments::text, '(SELECT NULL::bigint AS customer_id, NULL::text AS segment WHERE false)'))
        USING k;
END
$fn$;
COMMENT ON FUNCTION popular_items(regclass, regclass, integer) IS
    'the k items bought by the most customers of each segment and overall (segment NULL), score = share of the customers';

-- One customer's top-n (for a backend). Tables (fixed column names; a view
-- renames): history (customer_id, item_id, bought_at), similarities (from
-- item_similarities), items (item_id [, category] [, rebuyable]), popular
-- (segment, item_id, score; NULL: the similarities' own rows by together).
-- A NULL or unknown customer gets the popular items of `segment`, then
-- overall. Rows: rank 1..n, source 'item-item' or 'popular', because = the
-- bought items that contributed most (up to 3, strongest first).
-- The functions reading tables by regclass are PARALLEL RESTRICTED: the
-- tables may be temporary, which parallel workers cannot read.
CREATE FUNCTION suggestions(
    customer_id bigint,
    history regclass,
    similarities regclass,
    n integer DEFAULT 10,
    items regclass DEFAULT NULL,
    popular regclass DEFAULT NULL,
    segment text DEFAULT NULL,
    category_cap integer DEFAULT NULL,
    half_life interval DEFAULT '90 days',
    min_history integer DEFAULT 1)
RETURNS TABLE (rank integer, item_id bigint, score float8, source text, because bigint[])
    AS 'MODULE_PATHNAME', 'personalize_suggestions'
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION suggestions(bigint, regclass, regclass, integer, regclass, regclass, text, integer, interval, integer) IS
    'top-n personal suggestions of one customer from order history and item similarities, with a popular fallback and "because you bought"';

-- Every customer's top-n in one pass (an e-mail campaign): customers
-- (customer_id [, segment]; NULL: every customer of the history) get the
-- same rows as suggestions() would give them, ordered by customer and rank.
-- PARALLEL RESTRICTED: the tables may be temporary, and in the leader its
-- own large scans can use parallel workers.
CREATE FUNCTION batch_suggestions(
    customers regclass,
    history regclass,
    similarities regclass,
    n integer DEFAULT 10,
    items regclass DEFAULT NULL,
    popular regclass DEFAULT NULL,
    category_cap integer DEFAULT NULL,
    half_life interval DEFAULT '90 days',
    min_history integer DEFAULT 1)
RETURNS TABLE (customer_id bigint, rank integer, item_id bigint, score float8, source text, because bigint[])
    AS 'MODULE_PATHNAME', 'personalize_batch_suggestions'
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100000;
COMMENT ON FUNCTION batch_suggestions(regclass, regclass, regclass, integer, regclass, regclass, integer, interval, integer) IS
    'top-n personal suggestions of every customer (or of a customer list) in one pass, for campaigns';

-- Offline evaluation. One customer: precision@k, recall@k and nDCG@k of a
-- recommendation list against the items bought afterwards (NULL when
-- nothing is relevant); average them with avg().
CREATE FUNCTION ranking_metrics(recommended bigint[], relevant bigint[], k integer DEFAULT 10,
                                OUT precision_at_k float8, OUT recall_at_k float8, OUT ndcg_at_k float8)
    AS 'MODULE_PATHNAME', 'personalize_ranking_metrics'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ranking_metrics(bigint[], bigint[], integer) IS
    'precision@k, recall@k and nDCG@k of one ranked recommendation list against the relevant items (binary relevance)';

-- A scorer's whole result: recommendations (customer_id, recommended
-- bigint[] in rank order) against relevant (customer_id, relevant bigint[]).
-- Every customer with relevant items counts (no recommendations: zero);
-- coverage = distinct items among their first k / catalogue.
CREATE FUNCTION evaluate_recommendations(recommendations regclass, relevant regclass, k integer DEFAULT 10,
                                         catalogue bigint DEFAULT NULL)
    RETURNS TABLE (customers bigint, precision_at_k float8, recall_at_k float8, ndcg_at_k float8,
                   coverage float8, items_recommended bigint)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF recommendations IS NULL OR relevant IS NULL THEN
        RAISE EXCEPTION 'evaluate_recommendations: "%" must not be NULL',
            CASE WHEN recommendations IS NULL THEN 'recommendations' ELSE 'relevant' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k IS NULL THEN
        RAISE EXCEPTION 'evaluate_recommendations: "k" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k < 1 THEN
        RAISE EXCEPTION 'evaluate_recommendations: "k" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF catalogue IS NOT NULL AND catalogue < 1 THEN
        RAISE EXCEPTION 'evaluate_recommendations: "catalogue" must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH t AS (SELECT r.customer_id::bigint AS c, r.relevant::bigint[] AS rel FROM %s r
                    WHERE cardinality(r.relevant) > 0),
         e AS (SELECT t.c, t.rel, x.recommended::bigint[] AS rec FROM t LEFT JOIN %s x ON x.customer_id = t.c),
         m AS (SELECT e.c, e.rec, personalize.ranking_metrics(e.rec, e.rel, $1) AS q FROM e),
         shown AS (SELECT DISTINCT u.item FROM m, unnest(m.rec[1:$1]) AS u(item) WHERE u.item IS NOT NULL)
         SELECT count(*) FILTER (WHERE (m.q).precision_at_k IS NOT NULL),
                avg((m.q).precision_at_k), avg((m.q).recall_at_k), avg((m.q).ndcg_at_k),
                (SELECT count(*) FROM shown)::float8 / $2, (SELECT count(*) FROM shown)
         FROM m', relevant, recommendations)
        USING k, catalogue;
END
$fn$;
COMMENT ON FUNCTION evaluate_recommendations(regclass, regclass, integer, bigint) IS
    'mean precision@k, recall@k, nDCG@k and catalogue coverage of a scorer''s recommendation lists against relevant items';
-- Implicit-feedback matrix factorisation (ALS, Hu, Koren & Volinsky 2008):
-- the personalize.als_model type, the als_fit aggregate that trains it from
-- (customer, item, strength) rows, and what a model answers: top-N for a
-- customer, batch top-N for many, fold-in of a new customer, scores and the
-- factors as rows. See docs/als.md.

CREATE TYPE als_model;
CREATE FUNCTION als_model_in(cstring) RETURNS als_model
    AS 'MODULE_PATHNAME', 'personalize_als_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION als_model_out(als_model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'personalize_als_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION als_model_recv(internal) RETURNS als_model
    AS 'MODULE_PATHNAME', 'personalize_als_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION als_model_send(als_model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_als_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- Uncompressed out-of-line storage: float factors do not compress, and the
-- serving functions read the header alone (one TOAST chunk) to recognise a
-- model they have cached.
CREATE TYPE als_model (
    INPUT = als_model_in, OUTPUT = als_model_out, RECEIVE = als_model_recv, SEND = als_model_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = external
);
COMMENT ON TYPE als_model IS
    'an implicit-feedback ALS model: customer and item factors (float4) and each customer''s training items; text form: hex of the stored bytes';

CREATE FUNCTION als_fit_transfn(internal, bigint, bigint, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_als_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_transfn(internal, bigint, bigint, float8, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_als_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_transfn(internal, bigint, bigint, float8, integer, integer, float8, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_als_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_transfn(internal, bigint, bigint, float8, integer, integer, float8, float8, bigint, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_als_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_als_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_als_fit_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION als_fit_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_als_fit_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION als_fit_final(internal) RETURNS als_model
    AS 'MODULE_PATHNAME', 'personalize_als_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Defaults (docs/als.md): factors 64, iterations 15, regularization 0.5,
-- alpha 5, seed 0, solver 'cg'. The final function consumes the collected
-- rows (READ_WRITE: its state is never shared).
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8) (
    SFUNC = als_fit_transfn, STYPE = internal, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine, SERIALFUNC = als_fit_serialize, DESERIALFUNC = als_fit_deserialize,
    PARALLEL = SAFE);
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8, factors integer) (
    SFUNC = als_fit_transfn, STYPE = internal, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine, SERIALFUNC = als_fit_serialize, DESERIALFUNC = als_fit_deserialize,
    PARALLEL = SAFE);
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8, factors integer, iterations integer,
                         regularization float8, alpha float8, seed bigint) (
    SFUNC = als_fit_transfn, STYPE = internal, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine, SERIALFUNC = als_fit_serialize, DESERIALFUNC = als_fit_deserialize,
    PARALLEL = SAFE);
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8, factors integer, iterations integer,
                         regularization float8, alpha float8, seed bigint, solver text) (
    SFUNC = als_fit_transfn, STYPE = internal, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine, SERIALFUNC = als_fit_serialize, DESERIALFUNC = als_fit_deserialize,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE als_fit(bigint, bigint, float8) IS
    'implicit-feedback ALS model of (customer, item, strength) rows with the default options';
COMMENT ON AGGREGATE als_fit(bigint, bigint, float8, integer) IS
    'implicit-feedback ALS model of (customer, item, strength) rows with the given number of factors';
COMMENT ON AGGREGATE als_fit(bigint, bigint, float8, integer, integer, float8, float8, bigint) IS
    'implicit-feedback ALS model: factors, iterations, regularization, alpha (confidence = 1 + alpha * strength), seed';
COMMENT ON AGGREGATE als_fit(bigint, bigint, float8, integer, integer, float8, float8, bigint, text) IS
    'implicit-feedback ALS model: factors, iterations, regularization, alpha, seed and solver (''cg'' or ''cholesky'')';

CREATE FUNCTION als_recommend(model als_model, customer_id bigint, n integer DEFAULT 10, exclude_bought boolean DEFAULT true)
    RETURNS TABLE (rank integer, item_id bigint, score float8)
    AS 'MODULE_PATHNAME', 'personalize_als_recommend' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION als_recommend(als_model, bigint, integer, boolean) IS
    'top-n items for a customer of the model (without the items it was trained on); unknown customer: no rows';

CREATE FUNCTION als_recommend_batch(model als_model, n integer DEFAULT 10, customers bigint[] DEFAULT NULL,
                                    exclude_bought boolean DEFAULT true)
    RETURNS TABLE (customer_id bigint, items bigint[], scores float8[])
    AS 'MODULE_PATHNAME', 'personalize_als_recommend_batch' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100000;
COMMENT ON FUNCTION als_recommend_batch(als_model, integer, bigint[], boolean) IS
    'top-n items for every customer of the model (customers NULL) or the listed ones, one row each, items in rank order';

CREATE FUNCTION als_fold_in(model als_model, items bigint[], strengths float8[] DEFAULT NULL) RETURNS real[]
    AS 'MODULE_PATHNAME', 'personalize_als_fold_in' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION als_fold_in(als_model, bigint[], float8[]) IS
    'factors of a new customer who bought items (with strengths, default 1), solved against the model''s item factors';

CREATE FUNCTION als_recommend_items(model als_model, items bigint[], n integer DEFAULT 10, strengths float8[] DEFAULT NULL)
    RETURNS TABLE (rank integer, item_id bigint, score float8)
    AS 'MODULE_PATHNAME', 'personalize_als_recommend_items' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION als_recommend_items(als_model, bigint[], integer, float8[]) IS
    'top-n items for a customer folded in from the items they bought (those left out), without retraining';

CREATE FUNCTION als_score(model als_model, customer_id bigint, item_id bigint) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_als_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION als_score(als_model, bigint, bigint) IS
    'predicted preference (customer factors . item factors); NULL when the model knows neither';

CREATE FUNCTION als_customer_factors(model als_model) RETURNS TABLE (customer_id bigint, factors real[])
    AS 'MODULE_PATHNAME', 'personalize_als_customer_factors' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100000;
CREATE FUNCTION als_item_factors(model als_model) RETURNS TABLE (item_id bigint, factors real[])
    AS 'MODULE_PATHNAME', 'personalize_als_item_factors' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10000;
COMMENT ON FUNCTION als_customer_factors(als_model) IS 'the customer factors of a model, one row per customer';
COMMENT ON FUNCTION als_item_factors(als_model) IS 'the item factors of a model, one row per item';

CREATE FUNCTION als_model_info(model als_model,
    OUT customers bigint, OUT items bigint, OUT interactions bigint, OUT factors integer, OUT iterations integer,
    OUT regularization float8, OUT alpha float8, OUT seed bigint, OUT solver text, OUT cg_steps integer,
    OUT loss float8, OUT bytes bigint, OUT fingerprint text)
    AS 'MODULE_PATHNAME', 'personalize_als_model_info' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION als_model_info(als_model) IS
    'sizes, options, final training loss, stored size and fingerprint of a model (reads its header only)';
-- Purchase propensity for exit offers: an L2-penalised logistic regression
-- aggregate (Newton / IRLS, standard errors) over feature arrays, a scoring
-- function, the AUC aggregate to measure it, and the session feature vector
-- used to train and to score the same way. See docs/propensity.md.

CREATE FUNCTION logistic_fit_transfn(internal, boolean, float8[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_transfn(internal, boolean, float8[], float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_transfn(internal, boolean, float8[], float8, text[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_transfn(internal, boolean, float8[], float8, text[], integer, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logistic_fit_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logistic_fit_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Defaults: l2 = 1 (scikit-learn's C = 1), max_iterations 100, tolerance 1e-8.
-- The final function consumes the collected rows (READ_WRITE).
CREATE AGGREGATE logistic_fit(label boolean, features float8[]) (
    SFUNC = logistic_fit_transfn, STYPE = internal, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine, SERIALFUNC = logistic_fit_serialize, DESERIALFUNC = logistic_fit_deserialize,
    PARALLEL = SAFE);
CREATE AGGREGATE logistic_fit(label boolean, features float8[], l2 float8) (
    SFUNC = logistic_fit_transfn, STYPE = internal, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine, SERIALFUNC = logistic_fit_serialize, DESERIALFUNC = logistic_fit_deserialize,
    PARALLEL = SAFE);
CREATE AGGREGATE logistic_fit(label boolean, features float8[], l2 float8, feature_names text[]) (
    SFUNC = logistic_fit_transfn, STYPE = internal, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine, SERIALFUNC = logistic_fit_serialize, DESERIALFUNC = logistic_fit_deserialize,
    PARALLEL = SAFE);
CREATE AGGREGATE logistic_fit(label boolean, features float8[], l2 float8, feature_names text[],
                              max_iterations integer, tolerance float8) (
    SFUNC = logistic_fit_transfn, STYPE = internal, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine, SERIALFUNC = logistic_fit_serialize, DESERIALFUNC = logistic_fit_deserialize,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE logistic_fit(boolean, float8[]) IS
    'logistic regression (jsonb model) of a label on a feature array, L2 penalty 1, Newton / IRLS';
COMMENT ON AGGREGATE logistic_fit(boolean, float8[], float8) IS
    'logistic regression (jsonb model) of a label on a feature array with the given L2 penalty (intercept not penalised)';
COMMENT ON AGGREGATE logistic_fit(boolean, float8[], float8, text[]) IS
    'logistic regression (jsonb model) with an L2 penalty and names for the features';
COMMENT ON AGGREGATE logistic_fit(boolean, float8[], float8, text[], integer, float8) IS
    'logistic regression (jsonb model) with an L2 penalty, feature names, an iteration limit and a step tolerance';

CREATE FUNCTION logistic_score(model jsonb, features float8[]) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_logistic_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION logistic_score(jsonb, float8[]) IS
    'probability that the label is true for a feature array, from a logistic_fit model';

CREATE FUNCTION auc_transfn(internal, float8, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_auc_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_auc_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_auc_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION auc_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_auc_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION auc_final(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_auc_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE auc(score float8, label boolean) (
    SFUNC = auc_transfn, STYPE = internal, FINALFUNC = auc_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = auc_combine, SERIALFUNC = auc_serialize, DESERIALFUNC = auc_deserialize,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE auc(float8, boolean) IS
    'area under the ROC curve of scores against labels (ties count one half); NULL without both labels';

-- The feature vector of a web session, the same for training and scoring
-- (names: session_feature_names()). Counts and money enter as log1p, so
-- one large cart does not dominate; the customer's history (orders before
-- the session and days since the last one) is the R and F of RFM. Arguments
-- describe the session up to the moment it is scored; days_since_last_order
-- is NULL (and ignored) when prior_orders is 0.
CREATE FUNCTION session_features(pages_viewed integer, items_in_cart integer, cart_value float8,
                                 seconds_on_site float8, exit_intent boolean, signed_in boolean,
                                 prior_orders integer, days_since_last_order float8)
    RETURNS float8[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
DECLARE
    args text[] := ARRAY['pages_viewed', 'items_in_cart', 'cart_value', 'seconds_on_site', 'exit_intent',
                         'signed_in', 'prior_orders'];
    nulls boolean[] := ARRAY[pages_viewed IS NULL, items_in_cart IS NULL, cart_value IS NULL,
                             seconds_on_site IS NULL, exit_intent IS NULL, signed_in IS NULL, prior_orders IS NULL];
    is_returning boolean;
BEGIN
    FOR i IN 1 .. array_length(args, 1) LOOP
        IF nulls[i] THEN
            RAISE EXCEPTION 'session_features: "%" must not be NULL', args[i] USING ERRCODE = 'null_value_not_allowed';
        END IF;
    END LOOP;
    IF pages_viewed < 0 OR items_in_cart < 0 OR prior_orders < 0 THEN
        RAISE EXCEPTION 'session_features: "%" must be >= 0',
            CASE WHEN pages_viewed < 0 THEN 'pages_viewed' WHEN items_in_cart < 0 THEN 'items_in_cart' ELSE 'prior_orders' END
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (cart_value >= 0 AND cart_value < 'Infinity') THEN
        RAISE EXCEPTION 'session_features: "cart_value" must be a finite number >= 0, not %', cart_value
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (seconds_on_site >= 0 AND seconds_on_site < 'Infinity') THEN
        RAISE EXCEPTION 'session_features: "seconds_on_site" must be a finite number >= 0, not %', seconds_on_site
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    is_returning := prior_orders > 0;
    IF is_returning AND (days_since_last_order IS NULL OR NOT (days_since_last_order >= 0 AND days_since_last_order < 'Infinity')) THEN
        RAISE EXCEPTION 'session_features: "days_since_last_order" must be a finite number >= 0 when "prior_orders" > 0, not %',
            coalesce(days_since_last_order::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN ARRAY[signed_in::int, is_returning::int, ln(1 + prior_orders),
                 CASE WHEN is_returning THEN ln(1 + days_since_last_order) ELSE 0 END,
                 (items_in_cart > 0)::int, ln(1 + items_in_cart), ln(1 + cart_value),
                 ln(1 + pages_viewed), ln(1 + seconds_on_site / 60), exit_intent::int]::float8[];
END
$fn$;
COMMENT ON FUNCTION session_features(integer, integer, float8, float8, boolean, boolean, integer, float8) IS
    'feature vector of a web session for the purchase-propensity model (names: session_feature_names())';

CREATE FUNCTION session_feature_names() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY['signed_in', 'returning', 'log_prior_orders', 'log_days_since_last_order', 'has_cart',
                 'log_items_in_cart', 'log_cart_value', 'log_pages_viewed', 'log_minutes_on_site', 'exit_intent'];
COMMENT ON FUNCTION session_feature_names() IS 'the names of the elements of session_features(...), in order';
-- Offer eligibility: offers as rows of personalize.offers, their rules written
-- in the offer rule language (docs/offer_rules.md) and evaluated in C++
-- against a customer's context (jsonb: customer, cart, session); decisions
-- with validity, holdout groups, frequency caps, priority and stacking,
-- logged in personalize.offer_log; an uplift report. See docs/offers.md.

-- The rule language -----------------------------------------------------------

-- Parses and type-checks a rule; raises the error (with line:column) when it
-- is not valid, returns true otherwise. Used by the CHECK constraint on
-- offers.rule. Immutable: the language is fixed for a library version.
CREATE FUNCTION check_rule(rule text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'personalize_check_rule'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION check_rule(text) IS
    'true when an offer rule parses and type-checks; otherwise raises the error with line and column';

-- The fields a rule can read (the open namespaces customer.attributes.*,
-- cart.attributes.* and session.attributes.* are listed as such).
CREATE FUNCTION rule_fields()
    RETURNS TABLE (path text, type text, description text)
    AS 'MODULE_PATHNAME', 'personalize_rule_fields'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 50;
COMMENT ON FUNCTION rule_fields() IS 'the context fields the offer rule language knows, with their types';

-- Evaluates one rule against a context: true, false, or NULL when the rule
-- is unknown (a field it needs is missing); NULL rule or context: NULL.
-- "now" is the context's "now", else statement_timestamp(). Compiled rules
-- are cached per backend.
CREATE FUNCTION rule_holds(rule text, context jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'personalize_rule_holds'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rule_holds(text, jsonb) IS
    'evaluates an offer rule against a context: true, false or NULL (unknown)';

-- The offer catalogue --------------------------------------------------------

CREATE TABLE offers (
    offer_key       text PRIMARY KEY,
    description     text NOT NULL DEFAULT '',
    rule            text NOT NULL,
    -- The reward: any combination of a percentage off, an amount off, free
    -- shipping and a gift; percent/amount apply to reward_item when set,
    -- else to the cart.
    percent_off     numeric(5,2),
    amount_off      numeric(12,2),
    currency        text,
    free_shipping   boolean NOT NULL DEFAULT false,
    gift_item       bigint,
    reward_item     bigint,
    channels        text[] NOT NULL DEFAULT '{web}',
    priority        integer NOT NULL DEFAULT 100,
    stacking        text NOT NULL DEFAULT 'exclusive',
    valid_from      timestamptz,
    valid_until     timestamptz,
    cap_count       integer,
    cap_interval    interval,
    holdout_share   float8 NOT NULL DEFAULT 0,
    experiment_key  text,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT offers_key_format CHECK (offer_key ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    CONSTRAINT offers_rule_valid CHECK (personalize.check_rule(rule)),
    CONSTRAINT offers_has_reward CHECK (percent_off IS NOT NULL OR amount_off IS NOT NULL OR free_shipping
                                        OR gift_item IS NOT NULL),
    CONSTRAINT offers_percent_off CHECK (percent_off > 0 AND percent_off <= 100),
    CONSTRAINT offers_amount_off CHECK (amount_off > 0),
    CONSTRAINT offers_amount_currency CHECK ((amount_off IS NULL) = (currency IS NULL)),
    CONSTRAINT offers_currency_code CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT offers_channels CHECK (cardinality(channels) > 0 AND array_position(channels, NULL) IS NULL
                                      AND channels <@ ARRAY['web', 'app', 'email', 'sms', 'push', 'exit',
                                                            'product_page']),
    CONSTRAINT offers_stacking CHECK (stacking IN ('exclusive', 'stackable')),
    CONSTRAINT offers_validity CHECK (valid_from < valid_until AND isfinite(valid_from) AND isfinite(valid_until)),
    CONSTRAINT offers_cap CHECK ((cap_count IS NULL) = (cap_interval IS NULL) AND cap_count >= 1
                                 AND cap_interval > interval '0'),
    CONSTRAINT offers_holdout CHECK (holdout_share >= 0 AND holdout_share < 1),
    CONSTRAINT offers_experiment_key CHECK (experiment_key <> '')
);
COMMENT ON TABLE offers IS
    'offer catalogue: rule (offer rule language), reward, channels, priority (lower first), stacking, validity, frequency cap, holdout';
SELECT pg_catalog.pg_extension_config_dump('personalize.offers', '');

-- Every decision of decide_offer(): offers shown and offers withheld from
-- holdout (control group) members, so both groups are measurable.
CREATE TABLE offer_log (
    decision_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    decided_at      timestamptz NOT NULL,
    customer_id     bigint NOT NULL,
    offer_key       text NOT NULL,
    experiment_key  text NOT NULL,
    channel         text NOT NULL,
    holdout         boolean NOT NULL,
    session_id      text,
    reason          text NOT NULL
);
CREATE INDEX offer_log_customer ON offer_log (customer_id, offer_key, decided_at);
CREATE INDEX offer_log_offer ON offer_log (offer_key, decided_at);
COMMENT ON TABLE offer_log IS
    'decisions of decide_offer(): holdout = true rows were withheld (control group), the others shown';
SELECT pg_catalog.pg_extension_config_dump('personalize.offer_log', '');
SELECT pg_catalog.pg_extension_config_dump('personalize.offer_log_decision_id_seq', '');

-- One row per customer who had a capped offer decided: locked by
-- decide_offer() so concurrent decisions for one customer never exceed a cap.
CREATE TABLE offer_customer_lock (
    customer_id     bigint PRIMARY KEY,
    decisions       bigint NOT NULL,
    last_decided_at timestamptz NOT NULL
);
COMMENT ON TABLE offer_customer_lock IS
    'internal: serialises decide_offer() for one customer while frequency caps are counted';
SELECT pg_catalog.pg_extension_config_dump('personalize.offer_customer_lock', '');

-- Where decide_offer() and offer_contexts() read a customer's history: one
-- row, written by configure_offer_context().
CREATE TABLE offer_context_source (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    orders     regclass NOT NULL,
    customers  regclass,
    features   regclass,
    currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$')
);
COMMENT ON TABLE offer_context_source IS 'the tables decide_offer() builds customer contexts from (configure_offer_context())';
SELECT pg_catalog.pg_extension_config_dump('personalize.offer_context_source', '');

-- Context building -----------------------------------------------------------

-- Sets the tables customer contexts are built from:
--   orders    (customer_id, ordered_at, status, total): completed orders give
--             customer.orders, first_order_at, last_order_at, total_spent,
--             average_order;
--   customers (customer_id, ...) optional, and
--   features  (customer_id, ...) optional (model outputs: segment, p_alive,
--             clv, ...): a column named like a customer.* field of
--             rule_fields() becomes that field, any other column
--             customer.attributes.<column>.
-- Money values are in `currency`.
CREATE FUNCTION configure_offer_context(orders regclass, customers regclass DEFAULT NULL,
                                        features regclass DEFAULT NULL, currency text DEFAULT 'GBP')
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    clash text;
BEGIN
    PERFORM personalize.require_columns(orders, ARRAY['customer_id', 'ordered_at', 'status', 'total'],
                                        'configure_offer_context', 'orders');
    IF customers IS NOT NULL THEN
        PERFORM personalize.require_columns(customers, ARRAY['customer_id'], 'configure_offer_context', 'customers');
    END IF;
    IF features IS NOT NULL THEN
        PERFORM personalize.require_columns(features, ARRAY['customer_id'], 'configure_offer_context', 'features');
    END IF;
    IF currency IS NULL OR currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION 'configure_offer_context: "currency" must be an ISO 4217 code such as GBP, got %',
            coalesce(quote_literal(currency), 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Columns that would overwrite what the order history gives.
    SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) INTO clash
    FROM pg_attribute a
    WHERE a.attrelid IN (customers, features) AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attname IN ('id', 'orders', 'first_order_at', 'last_order_at', 'total_spent', 'average_order',
                        'currency', 'attributes');
    IF clash IS NOT NULL THEN
        RAISE EXCEPTION 'configure_offer_context: "customers"/"features" must not have the columns % (they come from the order history)',
            clash USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO personalize.offer_context_source AS s (orders, customers, features, currency)
    VALUES (orders, customers, features, currency)
    ON CONFLICT (singleton) DO UPDATE
        SET orders = excluded.orders, customers = excluded.customers, features = excluded.features,
            currency = excluded.currency;
END
$fn$;
COMMENT ON FUNCTION configure_offer_context(regclass, regclass, regclass, text) IS
    'sets the orders, customers and features tables decide_offer() and offer_contexts() build contexts from';

-- Internal: jsonb_build_object arguments putting a table's columns (alias
-- `alias`) into customer.* (names of rule_fields()) or, when `known` is
-- false, the other columns into customer.attributes.*.
CREATE FUNCTION offer_context_columns(rel regclass, alias text, known boolean)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce(string_agg(format('%L, %I.%I', a.attname, alias, a.attname), ', ' ORDER BY a.attnum), '')
    FROM pg_attribute a
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'customer_id'
      AND (('customer.' || a.attname) IN (SELECT f.path FROM personalize.rule_fields() f)) = known
$fn$;
COMMENT ON FUNCTION offer_context_columns(regclass, text, boolean) IS 'internal: column lists of the context query';

-- Internal: the query building customer contexts from the configured
-- tables. single = true: one customer ($1 customer_id, $2 cart, $3 session);
-- false: every customer ($1 as_of; orders after as_of are left out).
CREATE FUNCTION offer_context_query(single boolean)
    RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.offer_context_source;
    customer_json text;
    c_known text;
    c_attrs text;
    f_known text;
    f_attrs text;
    ids text;
BEGIN
    SELECT * INTO src FROM personalize.offer_context_source;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no offer context source is configured'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call personalize.configure_offer_context(orders => ...) first.';
    END IF;
    c_known := CASE WHEN src.customers IS NULL THEN '' ELSE personalize.offer_context_columns(src.customers, 'c', true) END;
    c_attrs := CASE WHEN src.customers IS NULL THEN '' ELSE personalize.offer_context_columns(src.customers, 'c', false) END;
    f_known := CASE WHEN src.features IS NULL THEN '' ELSE personalize.offer_context_columns(src.features, 'f', true) END;
    f_attrs := CASE WHEN src.features IS NULL THEN '' ELSE personalize.offer_context_columns(src.features, 'f', false) END;
    -- NULL columns are left out: a missing field is unknown to the rules.
    customer_json := format(
        $j$jsonb_strip_nulls(jsonb_build_object('id', %s, 'orders', coalesce(h.orders, 0),
               'first_order_at', h.first_order_at, 'last_order_at', h.last_order_at,
               'total_spent', coalesce(h.total_spent, 0), 'average_order', h.average_order,
               'currency', %L%s%s)
           || jsonb_build_object('attributes', jsonb_strip_nulls(jsonb_build_object(%s))))$j$,
        CASE WHEN single THEN '$1' ELSE 'k.customer_id' END, src.currency,
        CASE WHEN c_known = '' THEN '' ELSE ', ' || c_known END,
        CASE WHEN f_known = '' THEN '' ELSE ', ' || f_known END,
        concat_ws(', ', nullif(c_attrs, ''), nullif(f_attrs, '')));
    IF single THEN
        RETURN format(
            $q$SELECT jsonb_build_object('customer', %s, 'cart', coalesce($2, '{}'::jsonb),
                                         'session', coalesce($3, '{}'::jsonb), 'currency', %L)
               FROM (SELECT count(*) AS orders, min(o.ordered_at) AS first_order_at, max(o.ordered_at) AS last_order_at,
                            sum(o.total)::float8 AS total_spent, avg(o.total)::float8 AS average_order
                     FROM %s o WHERE o.customer_id = $1 AND o.status = 'completed') h
               %s %s$q$,
            customer_json, src.currency, src.orders,
            CASE WHEN src.customers IS NULL THEN ''
                 ELSE format('LEFT JOIN %s c ON c.customer_id = $1', src.customers) END,
            CASE WHEN src.features IS NULL THEN ''
                 ELSE format('LEFT JOIN %s f ON f.customer_id = $1', src.features) END);
    END IF;
    -- Every customer: those of the customers table, else those with orders.
    ids := CASE WHEN src.customers IS NULL
                THEN format('SELECT DISTINCT o.customer_id FROM %s o WHERE o.ordered_at <= $1', src.orders)
                ELSE format('SELECT c.customer_id FROM %s c', src.customers) END;
    RETURN format(
        $q$SELECT k.customer_id::bigint,
                  jsonb_build_object('customer', %s, 'currency', %L, 'now', $1)
           FROM (%s) k
           LEFT JOIN (SELECT o.customer_id, count(*) AS orders, min(o.ordered_at) AS first_order_at,
                             max(o.ordered_at) AS last_order_at, sum(o.total)::float8 AS total_spent,
                             avg(o.total)::float8 AS average_order
                      FROM %s o WHERE o.status = 'completed' AND o.ordered_at <= $1
                      GROUP BY o.customer_id) h ON h.customer_id = k.customer_id
           %s %s$q$,
        customer_json, src.currency, ids, src.orders,
        CASE WHEN src.customers IS NULL THEN ''
             ELSE format('LEFT JOIN %s c ON c.customer_id = k.customer_id', src.customers) END,
        CASE WHEN src.features IS NULL THEN ''
             ELSE format('LEFT JOIN %s f ON f.customer_id = k.customer_id', src.features) END);
END
$fn$;
COMMENT ON FUNCTION offer_context_query(boolean) IS 'internal: the SQL building customer contexts from offer_context_source';

-- Every customer's context as of a time (cart and session empty): the input
-- of batch eligibility, e.g. the e-mail campaign:
--   SELECT c.customer_id, e.* FROM personalize.offer_contexts() c,
--          personalize.eligible_offers(c.context, 'email') e;
CREATE FUNCTION offer_contexts(as_of timestamptz DEFAULT now())
    RETURNS TABLE (customer_id bigint, context jsonb)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'offer_contexts: "as_of" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT isfinite(as_of) THEN
        RAISE EXCEPTION 'offer_contexts: "as_of" must be a finite timestamp' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY EXECUTE personalize.offer_context_query(false) USING as_of;
END
$fn$;
COMMENT ON FUNCTION offer_contexts(timestamptz) IS
    'every customer''s offer context (customer part from the configured tables) as of a time';

-- Decisions ------------------------------------------------------------------

-- The active offers valid now (the context's "now", else the statement's
-- start) for `channel` (NULL: any) whose rule holds for the context, by
-- priority, with a readable reason. Holdout and frequency caps are applied
-- by decide_offer(), which knows the customer.
CREATE FUNCTION eligible_offers(context jsonb, channel text DEFAULT NULL)
    RETURNS TABLE (offer_key text, description text, priority integer, stacking text,
                   percent_off numeric, amount_off numeric, currency text, free_shipping boolean,
                   gift_item bigint, reward_item bigint, reason text)
    AS 'MODULE_PATHNAME', 'personalize_eligible_offers'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 3;
COMMENT ON FUNCTION eligible_offers(jsonb, text) IS
    'offers whose rule holds for a context (valid, active, for the channel), by priority, with the reason';

-- Why an offer is (not) eligible: one row per check (active, validity,
-- channel, holdout and frequency cap when the context has customer.id) and
-- per condition of the rule, with what was seen and whether it passed.
CREATE FUNCTION explain_offer(offer_key text, context jsonb, channel text DEFAULT NULL)
    RETURNS TABLE (step integer, depth integer, "check" text, condition text, value text, result text)
    AS 'MODULE_PATHNAME', 'personalize_explain_offer'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION explain_offer(text, jsonb, text) IS
    'each check and rule condition of an offer for a context, with the value seen and whether it passed';

-- The decision for one customer now: builds the context from the configured
-- history tables plus cart and session, takes the eligible offers by
-- priority with stacking, holdout and frequency caps, logs every offer taken
-- (holdout too) in offer_log and returns the ones to show.
CREATE FUNCTION decide_offer(customer_id bigint, cart jsonb DEFAULT '{}', session jsonb DEFAULT '{}',
                             channel text DEFAULT 'web', max_offers integer DEFAULT 0)
    RETURNS TABLE (decision_id bigint, offer_key text, description text, percent_off numeric,
                   amount_off numeric, currency text, free_shipping boolean, gift_item bigint,
                   reward_item bigint, reason text)
    AS 'MODULE_PATHNAME', 'personalize_decide_offer'
    LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1;
COMMENT ON FUNCTION decide_offer(bigint, jsonb, jsonb, text, integer) IS
    'chooses and logs the offers to show a customer now (validity, rule, holdout, caps, priority, stacking)';

-- The control-group draw of decide_offer(): a customer is held out of an
-- experiment when holdout_draw(customer, experiment_key) < holdout_share.
CREATE FUNCTION holdout_draw(customer_id bigint, experiment_key text) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_holdout_draw'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION holdout_draw(bigint, text) IS
    'the stable uniform draw in [0, 1) deciding holdout membership (held out when below holdout_share)';

-- Two-sided p-value of a standard normal z statistic.
CREATE FUNCTION normal_two_sided_p(z float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_normal_two_sided_p'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION normal_two_sided_p(float8) IS 'two-sided p-value of a z statistic, 2 (1 - Phi(|z|))';

-- Treatment against holdout per offer: customers first logged for the offer
-- in [since, until), converted = a completed order (configured orders table)
-- within `attribution` after that first decision, revenue = those orders'
-- total. conversion_uplift and revenue_uplift are treatment minus holdout;
-- z and p_value test the conversion difference (two-proportion z-test).
CREATE FUNCTION offer_uplift(since timestamptz DEFAULT '-infinity', until timestamptz DEFAULT 'infinity',
                             attribution interval DEFAULT '7 days')
    RETURNS TABLE (offer_key text, experiment_key text,
                   treatment_customers bigint, treatment_converted bigint, treatment_conversion float8,
                   treatment_revenue_per_customer float8,
                   holdout_customers bigint, holdout_converted bigint, holdout_conversion float8,
                   holdout_revenue_per_customer float8,
                   conversion_uplift float8, revenue_uplift float8, z float8, p_value float8)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    orders regclass;
BEGIN
    IF since IS NULL OR until IS NULL THEN
        RAISE EXCEPTION 'offer_uplift: "%" must not be NULL', CASE WHEN since IS NULL THEN 'since' ELSE 'until' END
            USING ERRCODE = 'null_value_not_allowed';
    ELSIF attribution IS NULL THEN
        RAISE EXCEPTION 'offer_uplift: "attribution" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF attribution <= interval '0' THEN
        RAISE EXCEPTION 'offer_uplift: "attribution" must be a positive interval, got %', attribution
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.orders INTO orders FROM personalize.offer_context_source s;
    IF orders IS NULL THEN
        RAISE EXCEPTION 'offer_uplift: no offer context source is configured'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call personalize.configure_offer_context(orders => ...) first.';
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH exposed AS (
            SELECT DISTINCT ON (l.offer_key, l.customer_id) l.offer_key, l.experiment_key, l.customer_id,
                   l.holdout, l.decided_at
            FROM personalize.offer_log l
            WHERE l.decided_at >= $1 AND l.decided_at < $2
            ORDER BY l.offer_key, l.customer_id, l.decided_at
        ), outcome AS (
            SELECT e.*, count(o.customer_id) > 0 AS converted, coalesce(sum(o.total), 0)::float8 AS revenue
            FROM exposed e
            LEFT JOIN %s o ON o.customer_id = e.customer_id AND o.status = 'completed'
                          AND o.ordered_at > e.decided_at AND o.ordered_at <= e.decided_at + $3
            GROUP BY e.offer_key, e.experiment_key, e.customer_id, e.holdout, e.decided_at
        ), groups AS (
            SELECT o.offer_key, min(o.experiment_key) AS experiment_key,
                   count(*) FILTER (WHERE NOT o.holdout) AS tn,
                   count(*) FILTER (WHERE NOT o.holdout AND o.converted) AS tc,
                   sum(o.revenue) FILTER (WHERE NOT o.holdout) AS tr,
                   count(*) FILTER (WHERE o.holdout) AS hn,
                   count(*) FILTER (WHERE o.holdout AND o.converted) AS hc,
                   sum(o.revenue) FILTER (WHERE o.holdout) AS hr
            FROM outcome o GROUP BY o.offer_key
        ), rates AS (
            SELECT g.*, g.tc::float8 / nullif(g.tn, 0) AS tp, g.hc::float8 / nullif(g.hn, 0) AS hp,
                   (g.tc + g.hc)::float8 / nullif(g.tn + g.hn, 0) AS pooled
            FROM groups g
        )
        SELECT r.offer_key, r.experiment_key,
               r.tn, r.tc, r.tp, r.tr / nullif(r.tn, 0),
               r.hn, r.hc, r.hp, r.hr / nullif(r.hn, 0),
               r.tp - r.hp, r.tr / nullif(r.tn, 0) - r.hr / nullif(r.hn, 0), s.z,
               personalize.normal_two_sided_p(s.z)
        FROM rates r,
             LATERAL (SELECT (r.tp - r.hp)
                             / nullif(sqrt(r.pooled * (1 - r.pooled) * (1.0 / nullif(r.tn, 0) + 1.0 / nullif(r.hn, 0))), 0)
                             AS z) s
        ORDER BY r.offer_key$q$, orders)
        USING since, until, attribution;
END
$fn$;
COMMENT ON FUNCTION offer_uplift(timestamptz, timestamptz, interval) IS
    'per offer: conversion and revenue per customer of treatment vs holdout from offer_log and the orders table';

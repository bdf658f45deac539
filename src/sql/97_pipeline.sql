-- The personalisation pipeline (docs/pipeline.md): configure a shop once
-- (configure_shop: its tables, checked, and its settings as rows of
-- shop_settings), refresh every model in one transaction (refresh: one row
-- per stage; each stage is one small function below around the C++
-- aggregates), record every run (refresh_runs), schedule it with pg_cron,
-- and serve from the refreshed tables without regclass arguments.

-- Configuration --------------------------------------------------------------

-- The shop's tables, one row (configure_shop). Required columns, by table
-- (a view renames and casts a shop's own columns):
--   orders      order_id, customer_id (integer types), ordered_at timestamptz,
--               status text, total (a number)
--   order_lines order_id, product_id (integer types)
--   customers   customer_id [, signed_up_at timestamptz]           (optional)
--   products    product_id [, category text] [, rebuyable boolean] (optional)
--   sessions    customer_id, pages_viewed, items_in_cart (integer types),
--               started_at, ended_at timestamptz, cart_value (a number),
--               exit_intent, converted boolean                     (optional)
-- The tables are kept by schema-qualified name, not as regclass: every
-- refresh resolves and checks them again, so a table the shop's ETL drops
-- and creates anew is followed (a regclass would keep the dropped OID).
CREATE TABLE shop_source (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    orders        text NOT NULL,
    order_lines   text NOT NULL,
    customers     text,
    products      text,
    sessions      text,
    configured_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE shop_source IS 'the shop''s tables the pipeline reads, by qualified name (configure_shop())';

-- The configured tables, resolved (configured_shop()).
CREATE TYPE shop_tables AS (orders regclass, order_lines regclass, customers regclass, products regclass,
                            sessions regclass);
COMMENT ON TYPE shop_tables IS 'the configured shop tables, resolved to the relations they name now';
SELECT pg_catalog.pg_extension_config_dump('personalize.shop_source', '');

-- Every setting the pipeline knows, with its default.
CREATE FUNCTION shop_setting_definitions()
    RETURNS TABLE (key text, default_value text, description text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT * FROM (VALUES
        ('currency', 'GBP', 'ISO 4217 code of the order totals (offer contexts, docs)'),
        ('time_zone', 'UTC', 'time zone whose calendar days count as purchase days'),
        ('as_of', 'now', 'the refresh''s "now": now, latest_order (the latest completed order) or a timestamp'),
        ('completed_statuses', '{completed}', 'order statuses that count as completed orders (a text array)'),
        ('time_unit', '1 week', 'time unit of frequency/recency/age and of the lifetime models (at least 1 day)'),
        ('holdout_days', '90', 'days at the end of the history held out for the quality checks (0: no checks)'),
        ('clv_months', '12', 'horizon of the customer lifetime value, in months (1..120)'),
        ('discount_rate', '0.01', 'monthly discount rate of the customer lifetime value, in [0, 1)'),
        ('clv_interval_draws', '0', 'bootstrap draws of the CLV interval (0: no interval; 20..2000; costs about 4 us per draw and customer)'),
        ('segment_map', 'rf_grid', 'the segment map of personalize.segment_rules that names the segments'),
        ('kmeans_k', '4', 'clusters of the k-means segmentation (2..50)'),
        ('kmeans_seed', '7', 'seed of the k-means++ initialisation'),
        ('rules_min_count', '10', 'association rules: pairs in fewer completed orders are left out (at least 1)'),
        ('rules_per_item', '100', 'association rules kept per antecedent, strongest first (at least 1)'),
        ('similarity_measure', 'cosine', 'item similarities: cosine, jaccard, lift or confidence'),
        ('similarity_neighbours', '50', 'item similarities: neighbours kept per item (1..1000)'),
        ('popular_k', '50', 'best sellers kept per segment and overall (1..1000)'),
        ('category_cap', '0', 'suggestions(customer_id, n): at most this many per category (0: no cap)'),
        ('evaluation_customers', '1000', 'holdout customers the suggestion quality check samples (at least 1)'),
        ('propensity_l2', '1', 'L2 penalty of the purchase-propensity model (>= 0)'),
        ('new_days', '30', 'lifecycle: first order at most this many days before as_of = new'),
        ('lapsed_days', '90', 'lifecycle: last order at least this many days before as_of = lapsed'),
        ('churned_days', '365', 'lifecycle: last order at least this many days before as_of = churned'),
        ('memory_limit', '1GB', 'personalize.memory_limit during a refresh (mining 10M order lines needs about 1GB)')
    ) AS d(key, default_value, description)
$fn$;
COMMENT ON FUNCTION shop_setting_definitions() IS 'every pipeline setting (shop_settings.key) with its default and meaning';

-- Internal: raises the error of a bad setting value.
CREATE FUNCTION shop_setting_error(key text, value text, expected text)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL SAFE
AS $fn$
BEGIN
    RAISE EXCEPTION 'shop_settings: "%" must be %, got %', key, expected, coalesce(quote_literal(value), 'NULL')
        USING ERRCODE = 'invalid_parameter_value';
END
$fn$;
COMMENT ON FUNCTION shop_setting_error(text, text, text) IS 'internal: the error of a bad shop setting';

-- Internal: whether a text is an integer in [lo, hi].
CREATE FUNCTION setting_is_integer(value text, lo bigint, hi bigint)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN value ~ '^\s*-?[0-9]{1,15}\s*$' THEN value::bigint BETWEEN lo AND hi ELSE false END;
COMMENT ON FUNCTION setting_is_integer(text, bigint, bigint) IS 'internal: an integer setting in a range';

-- True when `value` is valid for `key`; otherwise an error (22023, 22004)
-- naming the key. The CHECK of shop_settings. Whether segment_map names an
-- existing map is checked by configure_shop() and refresh(), not here, so
-- that a restore never depends on the order tables are loaded in.
CREATE FUNCTION check_shop_setting(key text, value text)
    RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t timestamptz;
    i interval;
    a text[];
    x float8;
BEGIN
    IF key IS NULL THEN
        RAISE EXCEPTION 'shop_settings: "key" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT EXISTS (SELECT 1 FROM personalize.shop_setting_definitions() d WHERE d.key = check_shop_setting.key) THEN
        RAISE EXCEPTION 'shop_settings: unknown setting %', quote_literal(key)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The settings are listed by personalize.shop_setting_definitions().';
    ELSIF value IS NULL THEN
        RAISE EXCEPTION 'shop_settings: "%" must not be NULL', key USING ERRCODE = 'null_value_not_allowed';
    END IF;
    CASE key
    WHEN 'currency' THEN
        RETURN value ~ '^[A-Z]{3}$' OR personalize.shop_setting_error(key, value, 'an ISO 4217 code such as GBP');
    WHEN 'time_zone' THEN
        RETURN EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = value)
            OR personalize.shop_setting_error(key, value, 'a time zone name of pg_timezone_names');
    WHEN 'as_of' THEN
        IF value IN ('now', 'latest_order') THEN
            RETURN true;
        END IF;
        BEGIN
            t := value::timestamptz;
        EXCEPTION WHEN OTHERS THEN
            t := NULL;
        END;
        RETURN (t IS NOT NULL AND isfinite(t))
            OR personalize.shop_setting_error(key, value, 'now, latest_order or a finite timestamp');
    WHEN 'completed_statuses' THEN
        BEGIN
            a := value::text[];
        EXCEPTION WHEN OTHERS THEN
            a := NULL;
        END;
        RETURN (cardinality(a) > 0 AND array_position(a, NULL) IS NULL AND NOT '' = ANY (a))
            OR personalize.shop_setting_error(key, value, 'a non-empty text array such as {completed}');
    WHEN 'time_unit' THEN
        BEGIN
            i := value::interval;
        EXCEPTION WHEN OTHERS THEN
            i := NULL;
        END;
        RETURN (i >= interval '1 day' AND i <= interval '1 year')
            OR personalize.shop_setting_error(key, value, 'an interval between 1 day and 1 year');
    WHEN 'discount_rate', 'propensity_l2' THEN
        BEGIN
            x := value::float8;
        EXCEPTION WHEN OTHERS THEN
            x := NULL;
        END;
        IF key = 'discount_rate' THEN
            RETURN (x >= 0 AND x < 1) OR personalize.shop_setting_error(key, value, 'a number in [0, 1)');
        END IF;
        RETURN (x >= 0 AND x < 'Infinity') OR personalize.shop_setting_error(key, value, 'a finite number >= 0');
    WHEN 'segment_map' THEN
        RETURN value <> '' OR personalize.shop_setting_error(key, value, 'the name of a segment map');
    WHEN 'similarity_measure' THEN
        RETURN value IN ('cosine', 'jaccard', 'lift', 'confidence')
            OR personalize.shop_setting_error(key, value, 'one of cosine, jaccard, lift, confidence');
    WHEN 'memory_limit' THEN
        RETURN value ~ '^\s*[0-9]+\s*(kB|MB|GB|TB)\s*$'
            OR personalize.shop_setting_error(key, value, 'a size such as 512MB or 1GB');
    WHEN 'holdout_days' THEN
        RETURN personalize.setting_is_integer(value, 0, 3650)
            OR personalize.shop_setting_error(key, value, 'an integer between 0 and 3650');
    WHEN 'clv_months' THEN
        RETURN personalize.setting_is_integer(value, 1, 120)
            OR personalize.shop_setting_error(key, value, 'an integer between 1 and 120');
    WHEN 'clv_interval_draws' THEN
        RETURN value ~ '^\s*0\s*$' OR personalize.setting_is_integer(value, 20, 2000)
            OR personalize.shop_setting_error(key, value, '0 or an integer between 20 and 2000');
    WHEN 'kmeans_k' THEN
        RETURN personalize.setting_is_integer(value, 2, 50)
            OR personalize.shop_setting_error(key, value, 'an integer between 2 and 50');
    WHEN 'kmeans_seed' THEN
        RETURN personalize.setting_is_integer(value, -999999999999999, 999999999999999)
            OR personalize.shop_setting_error(key, value, 'an integer');
    WHEN 'similarity_neighbours', 'popular_k' THEN
        RETURN personalize.setting_is_integer(value, 1, 1000)
            OR personalize.shop_setting_error(key, value, 'an integer between 1 and 1000');
    WHEN 'category_cap' THEN
        RETURN personalize.setting_is_integer(value, 0, 1000)
            OR personalize.shop_setting_error(key, value, 'an integer between 0 (no cap) and 1000');
    ELSE  -- rules_min_count, rules_per_item, evaluation_customers, new_days, lapsed_days, churned_days
        RETURN personalize.setting_is_integer(value, 1, 1000000000)
            OR personalize.shop_setting_error(key, value, 'an integer of at least 1');
    END CASE;
END
$fn$;
COMMENT ON FUNCTION check_shop_setting(text, text) IS 'true for a valid shop setting, else an error naming the setting';

-- The settings as rows, written by configure_shop(); change one with
-- UPDATE personalize.shop_settings SET value = ... WHERE key = ... (checked).
CREATE TABLE shop_settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    description text NOT NULL DEFAULT '',
    CONSTRAINT shop_settings_valid CHECK (personalize.check_shop_setting(key, value))
);
COMMENT ON TABLE shop_settings IS 'the pipeline''s settings (keys: shop_setting_definitions()), checked on write';
COMMENT ON COLUMN shop_settings.key IS 'the setting''s name (shop_setting_definitions())';
COMMENT ON COLUMN shop_settings.value IS 'its value as text, checked by check_shop_setting()';
COMMENT ON COLUMN shop_settings.description IS 'what it means';
SELECT pg_catalog.pg_extension_config_dump('personalize.shop_settings', '');

-- A setting's value: the row of shop_settings, else the default.
CREATE FUNCTION shop_setting(key text)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT coalesce((SELECT s.value FROM personalize.shop_settings s WHERE s.key = $1),
                    (SELECT d.default_value FROM personalize.shop_setting_definitions() d WHERE d.key = $1))
$fn$;
COMMENT ON FUNCTION shop_setting(text) IS 'the value of a pipeline setting (its default when not set)';

-- Internal: the kind of a column's type for the checks of configure_shop
-- (a domain counts as its base type).
CREATE FUNCTION shop_column_kind(type oid)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    WITH RECURSIVE base(oid, basetype, depth) AS (
        SELECT t.oid, t.typbasetype, 0 FROM pg_type t WHERE t.oid = $1
        UNION ALL
        SELECT t.oid, t.typbasetype, b.depth + 1 FROM base b JOIN pg_type t ON t.oid = b.basetype
        WHERE b.basetype <> 0 AND b.depth < 10)
    SELECT CASE b.oid
           WHEN 'int2'::regtype THEN 'id' WHEN 'int4'::regtype THEN 'id' WHEN 'int8'::regtype THEN 'id'
           WHEN 'numeric'::regtype THEN 'number' WHEN 'float4'::regtype THEN 'number'
           WHEN 'float8'::regtype THEN 'number'
           WHEN 'timestamptz'::regtype THEN 'timestamptz'
           WHEN 'text'::regtype THEN 'text' WHEN 'varchar'::regtype THEN 'text' WHEN 'bpchar'::regtype THEN 'text'
           WHEN 'bool'::regtype THEN 'boolean'
           ELSE 'other' END
    FROM base b ORDER BY b.depth DESC LIMIT 1
$fn$;
COMMENT ON FUNCTION shop_column_kind(oid) IS 'internal: id, number, timestamptz, text, boolean or other';

-- Internal: checks that table `arg` of `fn` has the columns `required`
-- ('name kind' each; kind id, number, timestamptz, text or boolean) and
-- that the `optional` ones it has are of their kind. Errors (22023) name
-- the argument, the table and the column.
CREATE FUNCTION check_shop_table(fn text, arg text, rel regclass, required text[], optional text[] DEFAULT '{}')
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    spec text;
    col text;
    want text;
    typ oid;
    got text;
    is_required boolean;
    expected constant jsonb := '{"id": "an integer type (smallint, integer or bigint)",
                                "number": "a number (integer, numeric, real or double precision)",
                                "timestamptz": "timestamptz", "text": "text", "boolean": "boolean"}';
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION '%: "%" must not be NULL', fn, arg USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH spec IN ARRAY required || optional LOOP
        col := split_part(spec, ' ', 1);
        want := split_part(spec, ' ', 2);
        is_required := spec = ANY (required);
        SELECT a.atttypid INTO typ FROM pg_attribute a
        WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            IF is_required THEN
                RAISE EXCEPTION '%: "%" (%) has no column "%"', fn, arg, rel, col
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('"%s" needs the columns %s.', arg,
                                          (SELECT string_agg(split_part(r, ' ', 1), ', ') FROM unnest(required) r)),
                          HINT = 'A view can rename and cast the shop''s own columns.';
            END IF;
            CONTINUE;
        END IF;
        got := personalize.shop_column_kind(typ);
        IF got <> want AND NOT (want = 'number' AND got = 'id') THEN
            RAISE EXCEPTION '%: "%" (%) column "%" must be %, not %', fn, arg, rel, col, expected ->> want,
                format_type(typ, NULL)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A view can rename and cast the shop''s own columns.';
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION check_shop_table(text, text, regclass, text[], text[]) IS
    'internal: the column and type checks of configure_shop()';

-- Internal: the column checks of every configured table (see shop_source).
CREATE FUNCTION check_shop_tables(fn text, t personalize.shop_tables)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_shop_table(fn, 'orders', t.orders,
        ARRAY['order_id id', 'customer_id id', 'ordered_at timestamptz', 'status text', 'total number']);
    PERFORM personalize.check_shop_table(fn, 'order_lines', t.order_lines, ARRAY['order_id id', 'product_id id']);
    IF t.customers IS NOT NULL THEN
        PERFORM personalize.check_shop_table(fn, 'customers', t.customers, ARRAY['customer_id id'],
                                             ARRAY['signed_up_at timestamptz']);
    END IF;
    IF t.products IS NOT NULL THEN
        PERFORM personalize.check_shop_table(fn, 'products', t.products, ARRAY['product_id id'],
                                             ARRAY['category text', 'rebuyable boolean']);
    END IF;
    IF t.sessions IS NOT NULL THEN
        PERFORM personalize.check_shop_table(fn, 'sessions', t.sessions,
            ARRAY['customer_id id', 'started_at timestamptz', 'ended_at timestamptz', 'pages_viewed id',
                  'items_in_cart id', 'cart_value number', 'exit_intent boolean', 'converted boolean']);
    END IF;
END
$fn$;
COMMENT ON FUNCTION check_shop_tables(text, personalize.shop_tables) IS 'internal: the checks of every configured table';

-- Configures the pipeline: checks the shop's tables (see shop_source),
-- stores them, writes every setting (given in `settings` as
-- {"key": value}; the others keep their current value, else the default),
-- and points the offer contexts (configure_offer_context) at the orders,
-- the customers and the refreshed profiles (customer_profile_features).
-- NULL currency keeps the configured one (GBP at first). Returns the
-- settings.
CREATE FUNCTION configure_shop(orders regclass, order_lines regclass, customers regclass DEFAULT NULL,
                               products regclass DEFAULT NULL, sessions regclass DEFAULT NULL,
                               currency text DEFAULT NULL, settings jsonb DEFAULT NULL)
    RETURNS TABLE (key text, value text, description text)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    unknown text;
    seg_map text;
BEGIN
    PERFORM personalize.check_shop_tables('configure_shop',
                                          ROW(orders, order_lines, customers, products, sessions)::personalize.shop_tables);
    IF settings IS NOT NULL AND jsonb_typeof(settings) <> 'object' THEN
        RAISE EXCEPTION 'configure_shop: "settings" must be a jsonb object {"setting": value, ...}'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(quote_literal(k), ', ' ORDER BY k) INTO unknown
    FROM jsonb_object_keys(coalesce(settings, '{}')) k
    WHERE k NOT IN (SELECT d.key FROM personalize.shop_setting_definitions() d);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'configure_shop: "settings" has unknown settings %', unknown
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The settings are listed by personalize.shop_setting_definitions().';
    END IF;
    IF currency IS NOT NULL AND settings ? 'currency' THEN
        RAISE EXCEPTION 'configure_shop: give the currency once, in "currency" or in "settings"'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    settings := coalesce(settings, '{}') || CASE WHEN currency IS NULL THEN '{}'::jsonb
                                                ELSE jsonb_build_object('currency', currency) END;

    INSERT INTO personalize.shop_source AS s (orders, order_lines, customers, products, sessions)
    VALUES (orders::text, order_lines::text, customers::text, products::text, sessions::text)  -- qualified: search_path is pg_catalog
    ON CONFLICT (singleton) DO UPDATE
        SET orders = excluded.orders, order_lines = excluded.order_lines, customers = excluded.customers,
            products = excluded.products, sessions = excluded.sessions, configured_at = now();
    INSERT INTO personalize.shop_settings AS s (key, value, description)
    SELECT d.key, coalesce(settings ->> d.key, (SELECT c.value FROM personalize.shop_settings c WHERE c.key = d.key),
                           d.default_value), d.description
    FROM personalize.shop_setting_definitions() d
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, description = excluded.description;

    seg_map := personalize.shop_setting('segment_map');
    IF NOT EXISTS (SELECT 1 FROM personalize.segment_rules r WHERE r.map = seg_map) THEN
        RAISE EXCEPTION 'configure_shop: setting "segment_map" % is not a map in personalize.segment_rules',
            quote_literal(seg_map) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM personalize.configure_offer_context(orders, customers, 'personalize.customer_profile_features',
                                                personalize.shop_setting('currency'));
    RETURN QUERY SELECT s.key, s.value, s.description FROM personalize.shop_settings s ORDER BY s.key;
END
$fn$;
COMMENT ON FUNCTION configure_shop(regclass, regclass, regclass, regclass, regclass, text, jsonb) IS
    'configures the pipeline: the shop''s tables (checked), its settings, and the offer contexts';

-- Internal: the configured tables as they resolve now; an error when no
-- shop is configured or a table no longer exists; with `checked`, their
-- columns are checked again.
CREATE FUNCTION configured_shop(fn text, checked boolean DEFAULT false)
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

-- Internal: the configured completed orders up to $1 as SQL (order_id,
-- customer_id bigint, ordered_at, total float8), forgotten customers left out.
CREATE FUNCTION completed_orders_sql()
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
COMMENT ON FUNCTION completed_orders_sql() IS 'internal: the SQL of the completed orders up to $1';

-- The models and what the refresh writes ------------------------------------

-- Every fitted model, its parameters, when and on what it was trained, and
-- its quality on a time-split holdout (docs/pipeline.md).
CREATE TABLE models (
    name        text PRIMARY KEY,
    parameters  jsonb NOT NULL,
    trained_at  timestamptz NOT NULL,
    as_of       timestamptz NOT NULL,
    trained_on  bigint NOT NULL,
    quality     jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE models IS 'every model the last refresh fitted, with its parameters and quality';
COMMENT ON COLUMN models.name IS 'lifetime (BG/NBD), spend (Gamma-Gamma), rfm, kmeans, product_rules, item_similarities, popular_items, propensity';
COMMENT ON COLUMN models.parameters IS 'the fitted model (the aggregate''s jsonb) or the options it was built with';
COMMENT ON COLUMN models.trained_at IS 'when the refresh that built it started';
COMMENT ON COLUMN models.as_of IS 'the time the data was taken up to';
COMMENT ON COLUMN models.trained_on IS 'rows it was trained on (customers, baskets, sessions)';
COMMENT ON COLUMN models.quality IS 'quality measures, e.g. the holdout check (docs/pipeline.md)';
SELECT pg_catalog.pg_extension_config_dump('personalize.models', '');

-- Internal: stores a model (replacing the one of that name).
CREATE FUNCTION store_model(name text, parameters jsonb, as_of timestamptz, trained_on bigint, quality jsonb)
    RETURNS void
    LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $fn$
    INSERT INTO personalize.models AS m (name, parameters, trained_at, as_of, trained_on, quality)
    VALUES ($1, coalesce($2, 'null'::jsonb), now(), $3, coalesce($4, 0), coalesce($5, '{}'))
    ON CONFLICT (name) DO UPDATE
        SET parameters = excluded.parameters, trained_at = excluded.trained_at, as_of = excluded.as_of,
            trained_on = excluded.trained_on, quality = excluded.quality
$fn$;
COMMENT ON FUNCTION store_model(text, jsonb, timestamptz, bigint, jsonb) IS 'internal: upserts a row of models';

CREATE TABLE customer_profiles (
    customer_id             bigint PRIMARY KEY,
    lifecycle_stage         text NOT NULL CHECK (lifecycle_stage IN ('prospect', 'new', 'active', 'lapsed', 'churned')),
    signed_up_at            timestamptz,
    orders                  bigint NOT NULL,
    first_order_at          timestamptz,
    last_order_at           timestamptz,
    days_since_last_order   float8,
    frequency               bigint,
    recency                 float8,
    age                     float8,
    monetary                float8,
    total                   float8 NOT NULL,
    r                       integer,
    f                       integer,
    m                       integer,
    segment                 text,
    previous_segment        text,
    cluster                 integer,
    p_alive                 float8,
    churn_risk              float8,
    expected_orders_30d     float8,
    expected_orders_90d     float8,
    expected_orders_365d    float8,
    clv                     float8,
    clv_lower               float8,
    clv_upper               float8,
    expected_next_order_at  timestamptz,
    as_of                   timestamptz NOT NULL,
    refreshed_at            timestamptz NOT NULL
);
COMMENT ON TABLE customer_profiles IS
    'one row per customer (prospects too): history, RFM, segment, cluster, lifetime predictions, lifecycle stage; written by refresh()';
COMMENT ON COLUMN customer_profiles.customer_id IS 'the customer';
COMMENT ON COLUMN customer_profiles.lifecycle_stage IS
    'prospect (no completed order), new (first order within new_days), churned (none for churned_days), lapsed (none for lapsed_days), else active';
COMMENT ON COLUMN customer_profiles.signed_up_at IS 'the customers table''s signed_up_at, when it has one';
COMMENT ON COLUMN customer_profiles.orders IS 'completed orders up to as_of';
COMMENT ON COLUMN customer_profiles.first_order_at IS 'the first completed order';
COMMENT ON COLUMN customer_profiles.last_order_at IS 'the latest completed order';
COMMENT ON COLUMN customer_profiles.days_since_last_order IS 'days from the latest completed order to as_of';
COMMENT ON COLUMN customer_profiles.frequency IS 'repeat purchase days (purchase days - 1), as customer_summary';
COMMENT ON COLUMN customer_profiles.recency IS 'first to last purchase day, in the setting time_unit';
COMMENT ON COLUMN customer_profiles.age IS 'first purchase day to as_of, in the setting time_unit';
COMMENT ON COLUMN customer_profiles.monetary IS 'mean amount of the repeat purchase days (0 if none)';
COMMENT ON COLUMN customer_profiles.total IS 'sum of the completed orders'' totals';
COMMENT ON COLUMN customer_profiles.r IS 'RFM recency score 1..5 (5 = most recent)';
COMMENT ON COLUMN customer_profiles.f IS 'RFM frequency score 1..5';
COMMENT ON COLUMN customer_profiles.m IS 'RFM monetary score 1..5 (on total spend)';
COMMENT ON COLUMN customer_profiles.segment IS 'segment of r, f, m in the setting segment_map';
COMMENT ON COLUMN customer_profiles.previous_segment IS 'segment in the latest segment_history snapshot of an earlier day';
COMMENT ON COLUMN customer_profiles.cluster IS 'k-means cluster 1..k of (frequency, time since last purchase, total)';
COMMENT ON COLUMN customer_profiles.p_alive IS 'BG/NBD probability that the customer is still active';
COMMENT ON COLUMN customer_profiles.churn_risk IS '1 - p_alive';
COMMENT ON COLUMN customer_profiles.expected_orders_30d IS 'BG/NBD expected repeat purchase days in the next 30 days';
COMMENT ON COLUMN customer_profiles.expected_orders_90d IS 'BG/NBD expected repeat purchase days in the next 90 days';
COMMENT ON COLUMN customer_profiles.expected_orders_365d IS 'BG/NBD expected repeat purchase days in the next 365 days';
COMMENT ON COLUMN customer_profiles.clv IS 'customer lifetime value over clv_months (BG/NBD x Gamma-Gamma, discounted)';
COMMENT ON COLUMN customer_profiles.clv_lower IS 'lower end of the 90% bootstrap interval of clv (clv_interval_draws > 0)';
COMMENT ON COLUMN customer_profiles.clv_upper IS 'upper end of the 90% bootstrap interval of clv (clv_interval_draws > 0)';
COMMENT ON COLUMN customer_profiles.expected_next_order_at IS
    'when P(another purchase) reaches 0.5 (next_purchase_in); NULL when it never does';
COMMENT ON COLUMN customer_profiles.as_of IS 'the time the orders were taken up to';
COMMENT ON COLUMN customer_profiles.refreshed_at IS 'when the refresh that wrote the row started';
CREATE INDEX customer_profiles_segment ON customer_profiles (segment);
SELECT pg_catalog.pg_extension_config_dump('personalize.customer_profiles', '');

-- The profile fields offer rules read (configure_shop() sets this view as
-- the offer contexts' features): columns named like customer.* rule fields
-- become those fields, the others customer.attributes.*.
CREATE VIEW customer_profile_features AS
    SELECT p.customer_id, p.segment, p.r, p.f, p.m, p.cluster, p.p_alive, p.clv,
           p.expected_orders_365d AS expected_orders,
           p.lifecycle_stage, p.previous_segment, p.churn_risk, p.days_since_last_order,
           p.expected_orders_30d, p.expected_orders_90d, p.clv_lower, p.clv_upper, p.expected_next_order_at
    FROM personalize.customer_profiles p;
COMMENT ON VIEW customer_profile_features IS
    'the profile fields of offer contexts: customer.segment, r, f, m, cluster, p_alive, clv, expected_orders (365 days), the rest as customer.attributes.*';

-- What each customer bought (latest purchase of each item): the history of
-- suggestions(customer_id, n) and of the item similarities.
CREATE TABLE purchase_history (
    customer_id bigint NOT NULL,
    item_id     bigint NOT NULL,
    bought_at   timestamptz NOT NULL,
    lines       bigint NOT NULL,
    first_bought_at timestamptz NOT NULL,
    PRIMARY KEY (customer_id, item_id)
);
COMMENT ON TABLE purchase_history IS 'each customer''s bought items from completed orders up to as_of (refresh())';
COMMENT ON COLUMN purchase_history.customer_id IS 'the customer';
COMMENT ON COLUMN purchase_history.item_id IS 'a product the customer bought';
COMMENT ON COLUMN purchase_history.bought_at IS 'the latest completed order with it';
COMMENT ON COLUMN purchase_history.lines IS 'order lines of completed orders with it';
COMMENT ON COLUMN purchase_history.first_bought_at IS 'the earliest completed order with it (the suggestions'' holdout check)';
SELECT pg_catalog.pg_extension_config_dump('personalize.purchase_history', '');

CREATE TABLE shop_items (
    item_id   bigint PRIMARY KEY,
    category  text,
    rebuyable boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE shop_items IS 'the configured products as suggestions() reads them (refresh())';
COMMENT ON COLUMN shop_items.item_id IS 'the product';
COMMENT ON COLUMN shop_items.category IS 'its category (products.category), for the category cap';
COMMENT ON COLUMN shop_items.rebuyable IS 'may be suggested again after a purchase (products.rebuyable)';
SELECT pg_catalog.pg_extension_config_dump('personalize.shop_items', '');

CREATE TABLE product_rules (
    antecedent          bigint[] NOT NULL,
    consequent          bigint NOT NULL,
    count               bigint NOT NULL,
    antecedent_support  float8 NOT NULL,
    consequent_support  float8 NOT NULL,
    support             float8 NOT NULL,
    confidence          float8 NOT NULL,
    lift                float8 NOT NULL,
    leverage            float8 NOT NULL,
    conviction          float8,
    jaccard             float8 NOT NULL,
    certainty           float8 NOT NULL,
    kulczynski          float8 NOT NULL,
    zhangs_metric       float8,
    PRIMARY KEY (antecedent, consequent)
);
CREATE INDEX product_rules_popular ON product_rules (consequent_support DESC) WHERE antecedent = '{}';
COMMENT ON TABLE product_rules IS
    'association rules of completed orders (the strongest rules_per_item per antecedent, and every item''s popularity as antecedent {}); refresh()';
COMMENT ON COLUMN product_rules.antecedent IS 'the items in the basket ({} : the consequent''s popularity)';
COMMENT ON COLUMN product_rules.consequent IS 'the item they suggest';
COMMENT ON COLUMN product_rules.count IS 'orders with antecedent and consequent';
COMMENT ON COLUMN product_rules.antecedent_support IS 'share of orders with the antecedent';
COMMENT ON COLUMN product_rules.consequent_support IS 'share of orders with the consequent';
COMMENT ON COLUMN product_rules.support IS 'share of orders with both';
COMMENT ON COLUMN product_rules.confidence IS 'P(consequent | antecedent)';
COMMENT ON COLUMN product_rules.lift IS 'confidence / consequent_support';
COMMENT ON COLUMN product_rules.leverage IS 'support - antecedent_support x consequent_support';
COMMENT ON COLUMN product_rules.conviction IS '(1 - consequent_support) / (1 - confidence); NULL when confidence = 1';
COMMENT ON COLUMN product_rules.jaccard IS 'support / (antecedent_support + consequent_support - support)';
COMMENT ON COLUMN product_rules.certainty IS '(confidence - consequent_support) / (1 - consequent_support): the ranking of complements';
COMMENT ON COLUMN product_rules.kulczynski IS 'mean of P(consequent | antecedent) and P(antecedent | consequent)';
COMMENT ON COLUMN product_rules.zhangs_metric IS 'Zhang''s metric in [-1, 1]';
SELECT pg_catalog.pg_extension_config_dump('personalize.product_rules', '');

CREATE TABLE item_similarities (
    item      bigint NOT NULL,
    neighbour bigint NOT NULL,
    score     float8 NOT NULL,
    together  bigint NOT NULL,
    PRIMARY KEY (item, neighbour)
);
COMMENT ON TABLE item_similarities IS 'item-to-item similarities over the customers'' purchase histories (refresh())';
COMMENT ON COLUMN item_similarities.item IS 'an item';
COMMENT ON COLUMN item_similarities.neighbour IS 'a similar item (the item itself: its own row)';
COMMENT ON COLUMN item_similarities.score IS 'similarity (setting similarity_measure)';
COMMENT ON COLUMN item_similarities.together IS 'customers who bought both';
SELECT pg_catalog.pg_extension_config_dump('personalize.item_similarities', '');

CREATE TABLE popular_items (
    segment text,
    item_id bigint NOT NULL,
    score   float8 NOT NULL,
    buyers  bigint NOT NULL
);
CREATE INDEX popular_items_segment ON popular_items (segment, score DESC);
COMMENT ON TABLE popular_items IS 'best sellers per segment and overall (segment NULL), the suggestions'' fallback (refresh())';
COMMENT ON COLUMN popular_items.segment IS 'the segment (customer_profiles.segment); NULL: every customer';
COMMENT ON COLUMN popular_items.item_id IS 'the item';
COMMENT ON COLUMN popular_items.score IS 'share of the segment''s customers who bought it';
COMMENT ON COLUMN popular_items.buyers IS 'customers of the segment who bought it';
SELECT pg_catalog.pg_extension_config_dump('personalize.popular_items', '');

-- Every refresh: when, what, each stage's rows, seconds and quality, and
-- the error of a failed one (docs/pipeline.md: which runs are recorded).
CREATE TABLE refresh_runs (
    run_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    models      text[],
    "full"      boolean NOT NULL,
    as_of       timestamptz,
    stages      jsonb NOT NULL DEFAULT '[]',
    error       jsonb,
    backend_pid integer NOT NULL
);
COMMENT ON TABLE refresh_runs IS 'the refresh log: one row per refresh (failed ones when run by run_refresh())';
COMMENT ON COLUMN refresh_runs.run_id IS 'the run';
COMMENT ON COLUMN refresh_runs.started_at IS 'when it started';
COMMENT ON COLUMN refresh_runs.finished_at IS 'when it ended; NULL with status running: still running, or stopped by a crash';
COMMENT ON COLUMN refresh_runs.status IS 'running, succeeded or failed';
COMMENT ON COLUMN refresh_runs.models IS 'the models asked for (NULL: all)';
COMMENT ON COLUMN refresh_runs."full" IS 'refresh(full => ...)';
COMMENT ON COLUMN refresh_runs.as_of IS 'the time the data was taken up to';
COMMENT ON COLUMN refresh_runs.stages IS 'the stages done: [{stage, rows, seconds, quality}, ...]';
COMMENT ON COLUMN refresh_runs.error IS 'a failed run''s error: {stage, sqlstate, message, detail, hint}';
COMMENT ON COLUMN refresh_runs.backend_pid IS 'the backend that ran it';
SELECT pg_catalog.pg_extension_config_dump('personalize.refresh_runs', '');
SELECT pg_catalog.pg_extension_config_dump('personalize.refresh_runs_run_id_seq', '');

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
CREATE FUNCTION refresh_appended(stage text, previous timestamptz)
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

-- The stages -----------------------------------------------------------------
-- Each refresh_<stage>(as_of, holdout_from) writes its output and returns
-- the rows it wrote and its quality. holdout_from is as_of - holdout_days
-- (NULL: no holdout checks). They run in refresh_run(), in the order of
-- refresh_stage_order(), in one transaction.

-- Internal: drops the session's temporary tables of these names (left by
-- an earlier refresh in the same transaction), silently.
CREATE FUNCTION drop_temp_tables(names text[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY names LOOP
        IF to_regclass('pg_temp.' || quote_ident(name)) IS NOT NULL THEN
            EXECUTE format('DROP TABLE pg_temp.%I CASCADE', name);  -- with the views on it
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION drop_temp_tables(text[]) IS 'internal: drops temporary tables of an earlier refresh';

-- The per-customer summaries of the completed orders up to as_of (a
-- temporary table the next stages read). Incremental: customer_summary of
-- the customers whose orders changed; the others' come from their profile
-- (the columns are the summary's), with the age taken anew to this as_of.
-- Rows are written in customer order either way, so the fits that read
-- them see the same sequence as after a rebuild.
CREATE FUNCTION refresh_summaries(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
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
COMMENT ON FUNCTION refresh_summaries(timestamptz, timestamptz) IS 'refresh stage: customer_summary of every customer';

-- BG/NBD and Gamma-Gamma on the summaries (models lifetime and spend).
-- Quality: the log-likelihood and the holdout check: a BG/NBD fitted on the
-- orders before holdout_from predicts the repeat purchase days of its
-- customers in (holdout_from, as_of], against what they did.
CREATE FUNCTION refresh_lifetime(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    bg jsonb;
    gg jsonb;
    unit interval := personalize.shop_setting('time_unit')::interval;
    holdout jsonb;
BEGIN
    SELECT personalize.bgnbd_fit(s.frequency, s.recency, s.age), personalize.gamma_gamma_fit(s.frequency, s.monetary),
           count(*)
    INTO bg, gg, rows
    FROM pg_temp.personalize_refresh_summary s;
    IF holdout_from IS NOT NULL THEN
        EXECUTE format($q$
            WITH o AS MATERIALIZED (%s),
            cal AS (
                SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total, $2, $3)).*
                FROM o WHERE o.ordered_at <= $2 GROUP BY o.customer_id),
            model AS (SELECT personalize.bgnbd_fit(c.frequency, c.recency, c.age) AS bg FROM cal c),
            actual AS (
                SELECT o.customer_id, count(DISTINCT o.ordered_at::date) AS days
                FROM o WHERE o.ordered_at > $2 GROUP BY o.customer_id)
            SELECT jsonb_build_object(
                'days', round(extract(epoch FROM $1 - $2) / 86400)::integer, 'customers', count(*),
                'converged', (SELECT m.bg -> 'converged' FROM model m),
                'predicted_purchase_days',
                    sum(personalize.expected_purchases(m.bg, extract(epoch FROM $1 - $2) / extract(epoch FROM $3),
                                                       c.frequency, c.recency, c.age)),
                'actual_purchase_days', coalesce(sum(a.days), 0))
            FROM cal c CROSS JOIN model m LEFT JOIN actual a ON a.customer_id = c.customer_id$q$,
            personalize.completed_orders_sql())
            INTO holdout USING as_of, holdout_from, unit;
        holdout := holdout || jsonb_build_object(
            'ratio', (holdout ->> 'predicted_purchase_days')::float8 / nullif((holdout ->> 'actual_purchase_days')::float8, 0));
    END IF;
    quality := jsonb_build_object('log_likelihood', bg -> 'log_likelihood', 'converged', bg -> 'converged',
                                  'spend_log_likelihood', gg -> 'log_likelihood', 'holdout', holdout);
    PERFORM personalize.store_model('lifetime', bg || jsonb_build_object('time_unit', unit::text), as_of, rows, quality);
    PERFORM personalize.store_model('spend', gg, as_of, (gg ->> 'customers')::bigint,
                                    jsonb_build_object('log_likelihood', gg -> 'log_likelihood', 'converged', gg -> 'converged'));
END
$fn$;
COMMENT ON FUNCTION refresh_lifetime(timestamptz, timestamptz) IS
    'refresh stage: BG/NBD and Gamma-Gamma fits, log-likelihood and the holdout purchase check';

-- RFM breakpoints of (time since last purchase, frequency, total) (model rfm).
CREATE FUNCTION refresh_rfm(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    bp jsonb;
BEGIN
    SELECT personalize.rfm_breakpoints(s.age - s.recency, s.frequency, s.total), count(*) INTO bp, rows
    FROM pg_temp.personalize_refresh_summary s;
    quality := jsonb_build_object('customers', rows);
    PERFORM personalize.store_model('rfm', bp, as_of, rows, quality);
END
$fn$;
COMMENT ON FUNCTION refresh_rfm(timestamptz, timestamptz) IS 'refresh stage: RFM breakpoints';

-- k-means of log-scaled (frequency, time since last purchase, total)
-- (model kmeans); quality: inertia and the silhouette of 1000 customers.
-- Fewer customers than k: no clusters.
CREATE FUNCTION refresh_kmeans(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k integer := personalize.shop_setting('kmeans_k')::integer;
    model jsonb;
BEGIN
    SELECT count(*) INTO rows FROM pg_temp.personalize_refresh_summary;
    IF rows < k THEN
        DELETE FROM personalize.models WHERE name = 'kmeans';
        quality := jsonb_build_object('skipped', format('fewer customers with orders (%s) than kmeans_k (%s)', rows, k));
        rows := 0;
        RETURN;
    END IF;
    SELECT personalize.kmeans(ARRAY[s.frequency, s.age - s.recency, s.total]::float8[], k,
                              personalize.shop_setting('kmeans_seed')::bigint, 'log1p_zscore')
    INTO model FROM pg_temp.personalize_refresh_summary s;
    SELECT jsonb_build_object('inertia', model -> 'inertia', 'converged', model -> 'converged', 'sizes', model -> 'sizes',
                              'silhouette', personalize.kmeans_silhouette(model, array_agg(ARRAY[s.frequency, s.age - s.recency, s.total]::float8[]), 1000, 0))
    INTO quality FROM pg_temp.personalize_refresh_summary s;
    PERFORM personalize.store_model('kmeans', model, as_of, rows, quality);
END
$fn$;
COMMENT ON FUNCTION refresh_kmeans(timestamptz, timestamptz) IS 'refresh stage: k-means segmentation';

-- customer_profiles from the summaries and the models just fitted: every
-- customer with orders, and every customer of the customers table.
CREATE FUNCTION refresh_customer_profiles(as_of timestamptz, holdout_from timestamptz, OUT rows bigint,
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
COMMENT ON FUNCTION refresh_customer_profiles(timestamptz, timestamptz) IS 'refresh stage: customer_profiles';

-- Today's segments into segment_history, replacing that day's snapshot of
-- the map: what snapshot_segments(map, as_of, 'personalize.customer_profiles')
-- writes, from the segments the profiles already hold.
CREATE FUNCTION refresh_segment_history(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    seg_map text := personalize.shop_setting('segment_map');
BEGIN
    DELETE FROM personalize.segment_history h WHERE h.as_of = refresh_segment_history.as_of::date AND h.map = seg_map;
    INSERT INTO personalize.segment_history (as_of, map, customer_id, segment)
    SELECT refresh_segment_history.as_of::date, seg_map, p.customer_id, p.segment
    FROM personalize.customer_profiles p WHERE p.segment IS NOT NULL;
    GET DIAGNOSTICS rows = ROW_COUNT;
    quality := jsonb_build_object('map', seg_map, 'as_of', as_of::date);
END
$fn$;
COMMENT ON FUNCTION refresh_segment_history(timestamptz, timestamptz) IS 'refresh stage: the segment snapshot';

-- Internal: the number of customers with rows in purchase_history. During
-- a refresh they are among the customers of the fingerprints taken from the
-- orders, so one probe of the primary key each counts them, far cheaper
-- than count(DISTINCT) over every row (8.46M on the bench shop).
CREATE FUNCTION history_customers()
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
CREATE FUNCTION refresh_purchase_history(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
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
CREATE FUNCTION refresh_product_rules(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
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
CREATE FUNCTION evaluate_suggestions(as_of timestamptz, holdout_from timestamptz)
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
CREATE FUNCTION refresh_item_similarities(as_of timestamptz, holdout_from timestamptz, OUT rows bigint,
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
CREATE FUNCTION refresh_popular_items(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
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

-- The purchase-propensity model of the sessions (model propensity), on
-- session_features(); quality: the AUC on the latest fifth of the sessions
-- of a model fitted on the others (holdout_days 0: none). No sessions
-- table: skipped.
CREATE FUNCTION refresh_propensity(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
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
COMMENT ON FUNCTION refresh_propensity(timestamptz, timestamptz) IS 'refresh stage: the purchase-propensity model';

-- Running a refresh -------------------------------------------------------------

-- The stages in the order they run, and the model (the name refresh()'s
-- `models` takes) each belongs to.
CREATE FUNCTION refresh_stage_order()
    RETURNS TABLE (stage text, model text, step integer)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT u.stage, u.model, u.step::integer
    FROM unnest(ARRAY['summaries', 'lifetime', 'rfm', 'kmeans', 'customer_profiles', 'segment_history',
                      'purchase_history', 'product_rules', 'item_similarities', 'popular_items', 'propensity'],
                ARRAY['customer_profiles', 'customer_profiles', 'customer_profiles', 'customer_profiles',
                      'customer_profiles', 'customer_profiles', 'purchase_history', 'product_rules',
                      'item_similarities', 'popular_items', 'propensity']) WITH ORDINALITY AS u(stage, model, step)
$fn$;
COMMENT ON FUNCTION refresh_stage_order() IS
    'the refresh stages in order and the model each belongs to (item_similarities and popular_items also run purchase_history)';

-- The lock key of refresh (pg_advisory locks, one per database).
CREATE FUNCTION refresh_lock_key() RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 7236097513946382681;  -- hash of 'pg_personalize refresh'
COMMENT ON FUNCTION refresh_lock_key() IS 'the advisory lock a refresh holds until its transaction ends';

-- Internal: the refresh's "now" from the setting as_of.
CREATE FUNCTION refresh_as_of()
    RETURNS timestamptz
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rule text := personalize.shop_setting('as_of');
    latest timestamptz;
BEGIN
    IF rule = 'now' THEN
        RETURN now();
    ELSIF rule = 'latest_order' THEN
        EXECUTE format('SELECT max(o.ordered_at) FROM (%s) o', personalize.completed_orders_sql())
            INTO latest USING 'infinity'::timestamptz;
        RETURN coalesce(latest, now());
    END IF;
    RETURN rule::timestamptz;
END
$fn$;
COMMENT ON FUNCTION refresh_as_of() IS 'internal: the time a refresh takes the data up to (setting as_of)';

-- Internal: the work of a refresh, in the caller's transaction. Checks the
-- configuration, takes the refresh lock (another refresh holding it: the
-- error 55P03), sets the time zone and memory limit of the settings for
-- the refresh, and runs the stages of `models` (NULL: all). A failing stage
-- rolls back every stage's writes (a subtransaction) and is returned in
-- `error` instead of raised, so the callers decide what is recorded.
CREATE FUNCTION refresh_run(models text[], "full" boolean, OUT stages jsonb, OUT error jsonb, OUT as_of timestamptz)
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

-- Internal: raises the error refresh_run() returned.
CREATE FUNCTION raise_refresh_error(error jsonb)
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL SAFE
AS $fn$
DECLARE
    message text := CASE WHEN error ? 'stage'
                         THEN format('refresh: stage %s failed: %s', error ->> 'stage', error ->> 'message')
                         ELSE error ->> 'message' END;
    code text := error ->> 'sqlstate';
BEGIN
    -- RAISE takes no NULL option: one statement per combination.
    IF error ? 'detail' AND error ? 'hint' THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, DETAIL = error ->> 'detail', HINT = error ->> 'hint';
    ELSIF error ? 'detail' THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, DETAIL = error ->> 'detail';
    ELSIF error ? 'hint' THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = error ->> 'hint';
    END IF;
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END
$fn$;
COMMENT ON FUNCTION raise_refresh_error(jsonb) IS 'internal: raises a refresh error';

-- Refreshes the models of the configured shop in the caller's
-- transaction: one row per stage. Readers see the previous models until it
-- commits; a failure raises its error and leaves them (the run is logged in
-- refresh_runs only when it succeeds: CALL run_refresh() logs failures).
-- full => false (the default) is incremental where the result stays that of
-- a rebuild (docs/pipeline.md): the summaries and purchase_history of the
-- customers whose orders changed are recomputed, the rules and
-- similarities kept when no order changed, the rest rebuilt; full => true
-- rebuilds everything.
CREATE FUNCTION refresh(models text[] DEFAULT NULL, full boolean DEFAULT false)
    RETURNS TABLE (stage text, rows bigint, seconds float8, quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    started timestamptz := clock_timestamp();
    result record;
BEGIN
    IF "full" IS NULL THEN
        RAISE EXCEPTION 'refresh: "full" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO result FROM personalize.refresh_run(models, "full");
    IF result.error IS NOT NULL THEN
        PERFORM personalize.raise_refresh_error(result.error);
    END IF;
    INSERT INTO personalize.refresh_runs (started_at, finished_at, status, models, "full", as_of, stages, backend_pid)
    VALUES (started, clock_timestamp(), 'succeeded', models, "full", result.as_of, result.stages, pg_backend_pid());
    RETURN QUERY
    SELECT s ->> 'stage', (s ->> 'rows')::bigint, (s ->> 'seconds')::float8, s -> 'quality'
    FROM jsonb_array_elements(result.stages) s;
END
$fn$;
COMMENT ON FUNCTION refresh(text[], boolean) IS
    'refreshes the configured shop''s models in one transaction: one row per stage (stage, rows, seconds, quality)';

-- The logged refresh (what schedule_refresh() runs; CALL it outside a
-- transaction block): commits a 'running' row of refresh_runs first, runs
-- the refresh and commits it with the row's outcome; a failure is recorded
-- (the models stay as they were) and then raised. A row left 'running'
-- whose backend is gone was stopped by a crash.
CREATE PROCEDURE run_refresh(models text[] DEFAULT NULL, full boolean DEFAULT false)
    LANGUAGE plpgsql
AS $fn$
DECLARE
    id bigint;
    result record;
BEGIN
    IF "full" IS NULL THEN
        RAISE EXCEPTION 'run_refresh: "full" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO personalize.refresh_runs (started_at, status, models, "full", backend_pid)
    VALUES (clock_timestamp(), 'running', models, "full", pg_backend_pid())
    RETURNING run_id INTO id;
    COMMIT;
    SELECT * INTO result FROM personalize.refresh_run(models, "full");
    UPDATE personalize.refresh_runs
    SET finished_at = clock_timestamp(), status = CASE WHEN result.error IS NULL THEN 'succeeded' ELSE 'failed' END,
        as_of = result.as_of, stages = result.stages, error = result.error
    WHERE run_id = id;
    COMMIT;
    IF result.error IS NOT NULL THEN
        PERFORM personalize.raise_refresh_error(result.error);
    END IF;
END
$fn$;
COMMENT ON PROCEDURE run_refresh(text[], boolean) IS
    'runs refresh() in its own transactions and records it in refresh_runs, failures too';

-- Schedule -------------------------------------------------------------------

-- Schedules CALL personalize.run_refresh() with pg_cron (job
-- pg_personalize_refresh in this database, replacing an earlier schedule).
-- Returns the job id.
CREATE FUNCTION schedule_refresh(cron text DEFAULT '0 3 * * *')
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    job bigint;
BEGIN
    IF cron IS NULL THEN
        RAISE EXCEPTION 'schedule_refresh: "cron" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'schedule_refresh: pg_cron is not installed in this server''s cron database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add pg_cron to shared_preload_libraries, restart, and CREATE EXTENSION pg_cron; or run CALL personalize.run_refresh() from any scheduler.';
    END IF;
    PERFORM personalize.configured_shop('schedule_refresh');
    EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)'
        INTO job USING 'pg_personalize_refresh', cron, 'CALL personalize.run_refresh()', current_database();
    RETURN job;
END
$fn$;
COMMENT ON FUNCTION schedule_refresh(text) IS 'schedules the logged refresh (run_refresh) with pg_cron';

-- Removes the schedule; false when there was none.
CREATE FUNCTION unschedule_refresh()
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    job bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'unschedule_refresh: pg_cron is not installed in this server''s cron database'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND database = $2' INTO job
        USING 'pg_personalize_refresh', current_database();
    IF job IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' USING job;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION unschedule_refresh() IS 'removes the pg_cron schedule of the refresh';

-- Privacy ----------------------------------------------------------------------

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
    -- refresh rebuilds every stage; the stored baskets held their orders.
    DELETE FROM personalize.refresh_state;
    DELETE FROM personalize.refresh_baskets;
END
$fn$;
REVOKE EXECUTE ON FUNCTION forget_customer(bigint) FROM PUBLIC;
COMMENT ON FUNCTION forget_customer(bigint) IS
    'erases a customer from every table of the extension and keeps later refreshes from using them; rows erased per table';

-- Serving from the refreshed models -----------------------------------------
-- The regclass forms stay for shops that keep their own models. A call
-- with an untyped literal table name and two arguments, such as
-- product_complements('my_rules', 42), now resolves to the forms below:
-- write 'my_rules'::regclass or name the argument (docs/pipeline.md).

-- One customer's profile (no row: unknown customer).
-- The serving wrappers are single-SELECT SQL functions and not STRICT, so
-- the planner inlines them into the caller's query: a call costs what the
-- regclass form costs (a STRICT set-returning SQL function is not inlined;
-- a NULL argument still gives no rows, through the query or the strict
-- function it calls).
CREATE FUNCTION customer_profile(customer_id bigint)
    RETURNS SETOF customer_profiles
    LANGUAGE sql STABLE PARALLEL SAFE ROWS 1
AS $fn$
    SELECT * FROM personalize.customer_profiles p WHERE p.customer_id = $1
$fn$;
COMMENT ON FUNCTION customer_profile(bigint) IS 'one customer''s row of customer_profiles';

-- Cross-sell for a cart from product_rules.
CREATE FUNCTION cart_suggestions(cart bigint[], k integer DEFAULT 10)
    RETURNS TABLE (item bigint, score float8, evidence bigint[], source text)
    LANGUAGE sql STABLE PARALLEL SAFE ROWS 10
AS $fn$
    SELECT * FROM personalize.cart_suggestions($1, 'personalize.product_rules'::regclass, $2, 0::float8)
$fn$;
COMMENT ON FUNCTION cart_suggestions(bigint[], integer) IS 'top-k cross-sell items for a cart from the refreshed product_rules';

-- "Bought together" from product_rules.
CREATE FUNCTION product_complements(item bigint, k integer DEFAULT 10)
    RETURNS TABLE (complement bigint, confidence float8, lift float8, certainty float8)
    LANGUAGE sql STABLE PARALLEL SAFE ROWS 10
AS $fn$
    SELECT * FROM personalize.product_complements('personalize.product_rules'::regclass, $1, $2)
$fn$;
COMMENT ON FUNCTION product_complements(bigint, integer) IS 'top-k complements of a product from the refreshed product_rules';

-- A customer's top-n from purchase_history, item_similarities, shop_items
-- and the best sellers of the customer's segment (category_cap setting).
CREATE FUNCTION suggestions(customer_id bigint, n integer DEFAULT 10)
    RETURNS TABLE (rank integer, item_id bigint, score float8, source text, because bigint[])
    LANGUAGE sql STABLE PARALLEL SAFE ROWS 10
AS $fn$
    SELECT * FROM personalize.suggestions(
        $1, 'personalize.purchase_history'::regclass, 'personalize.item_similarities'::regclass, $2,
        items => 'personalize.shop_items'::regclass, popular => 'personalize.popular_items'::regclass,
        segment => (SELECT p.segment FROM personalize.customer_profiles p WHERE p.customer_id = $1),
        category_cap => nullif(personalize.shop_setting('category_cap')::integer, 0))
$fn$;
COMMENT ON FUNCTION suggestions(bigint, integer) IS
    'one customer''s top-n suggestions from the refreshed history, similarities and best sellers';

-- A session's purchase propensity from the refreshed model (arguments as
-- session_features()); NULL before a refresh has fitted one.
CREATE FUNCTION session_propensity(pages_viewed integer, items_in_cart integer, cart_value float8,
                                   seconds_on_site float8, exit_intent boolean, signed_in boolean,
                                   prior_orders integer, days_since_last_order float8)
    RETURNS float8
    LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT personalize.logistic_score(m.parameters,
                                      personalize.session_features($1, $2, $3, $4, $5, $6, $7, $8))
    FROM personalize.models m WHERE m.name = 'propensity'
$fn$;
COMMENT ON FUNCTION session_propensity(integer, integer, float8, float8, boolean, boolean, integer, float8) IS
    'purchase propensity of a session from the refreshed propensity model';

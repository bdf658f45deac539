-- Offer eligibility: offers as rows of personalize.offers, their rules written
-- in the offer rule language (docs/offer_rules.md) and evaluated in C++
-- against a customer's context (jsonb: customer, cart, session); decisions
-- with validity, holdout groups, frequency caps, priority and stacking,
-- logged in personalize.offer_log; an uplift report. See docs/offers.md.

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
    CONSTRAINT offers_currency_code CHECK (personalize.is_currency(currency)),
    -- An amount off in another currency than the rule's cart amounts is never right.
    CONSTRAINT offers_reward_currency CHECK (currency IS NULL OR personalize.rule_currencies(rule) <@ ARRAY[currency]),
    CONSTRAINT offers_channels CHECK (cardinality(channels) > 0 AND array_position(channels, NULL) IS NULL
                                      AND channels <@ ARRAY['web', 'app', 'email', 'sms', 'push', 'exit',
                                                            'product_page']),
    CONSTRAINT offers_stacking CHECK (stacking IN ('exclusive', 'stackable')),
    CONSTRAINT offers_validity CHECK (valid_from < valid_until AND isfinite(valid_from) AND isfinite(valid_until)),
    -- Bounded so "now - cap_interval" is a timestamp and a count is a cap.
    CONSTRAINT offers_cap CHECK ((cap_count IS NULL) = (cap_interval IS NULL) AND cap_count BETWEEN 1 AND 1000000
                                 AND cap_interval > interval '0' AND cap_interval <= interval '100 years'),
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
    currency   text NOT NULL CHECK (personalize.is_currency(currency))
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
    PERFORM personalize.require_column_types(orders, ARRAY['customer_id', 'ordered_at', 'status', 'total'],
                                             ARRAY['integer', 'timestamp', 'text', 'number'], 'configure_offer_context', 'orders');
    IF customers IS NOT NULL THEN
        PERFORM personalize.require_columns(customers, ARRAY['customer_id'], 'configure_offer_context', 'customers');
        PERFORM personalize.require_column_types(customers, ARRAY['customer_id'], ARRAY['integer'],
                                                 'configure_offer_context', 'customers');
    END IF;
    IF features IS NOT NULL THEN
        PERFORM personalize.require_columns(features, ARRAY['customer_id'], 'configure_offer_context', 'features');
        PERFORM personalize.require_column_types(features, ARRAY['customer_id'], ARRAY['integer'],
                                                 'configure_offer_context', 'features');
    END IF;
    IF currency IS NULL OR NOT personalize.is_currency(currency) THEN
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

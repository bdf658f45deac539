-- Purchase propensity for exit offers: an L2-penalised logistic regression
-- aggregate (Newton / IRLS, standard errors) over feature arrays, a scoring
-- function, the AUC aggregate to measure it, and the session feature vector
-- used to train and to score the same way. See docs/propensity.md.

CREATE FUNCTION logistic_fit_transfn(aggregate_state, boolean, float8[]) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_transfn(aggregate_state, boolean, float8[], float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_transfn(aggregate_state, boolean, float8[], float8, text[]) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_transfn(aggregate_state, boolean, float8[], float8, text[], integer, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Defaults: l2 = 1 (scikit-learn's C = 1), max_iterations 100, tolerance 1e-8.
-- The final function consumes the collected rows (READ_WRITE).
CREATE AGGREGATE logistic_fit(label boolean, features float8[]) (
    SFUNC = logistic_fit_transfn, STYPE = aggregate_state, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE logistic_fit(label boolean, features float8[], l2 float8) (
    SFUNC = logistic_fit_transfn, STYPE = aggregate_state, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE logistic_fit(label boolean, features float8[], l2 float8, feature_names text[]) (
    SFUNC = logistic_fit_transfn, STYPE = aggregate_state, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE logistic_fit(label boolean, features float8[], l2 float8, feature_names text[],
                              max_iterations integer, tolerance float8) (
    SFUNC = logistic_fit_transfn, STYPE = aggregate_state, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine,
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

CREATE FUNCTION auc_transfn(aggregate_state, float8, boolean) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_auc_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_auc_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_final(aggregate_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_auc_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE auc(score float8, label boolean) (
    SFUNC = auc_transfn, STYPE = aggregate_state, FINALFUNC = auc_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = auc_combine,
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

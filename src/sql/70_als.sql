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

CREATE FUNCTION als_fit_transfn(aggregate_state, bigint, bigint, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_transfn(aggregate_state, bigint, bigint, float8, integer) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_transfn(aggregate_state, bigint, bigint, float8, integer, integer, float8, float8, bigint) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_transfn(aggregate_state, bigint, bigint, float8, integer, integer, float8, float8, bigint, text) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_final(aggregate_state) RETURNS als_model
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Defaults (docs/als.md): factors 64, iterations 15, regularization 0.5,
-- alpha 5, seed 0, solver 'cg'. The final function consumes the collected
-- rows (READ_WRITE: its state is never shared).
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8) (
    SFUNC = als_fit_transfn, STYPE = aggregate_state, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8, factors integer) (
    SFUNC = als_fit_transfn, STYPE = aggregate_state, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8, factors integer, iterations integer,
                         regularization float8, alpha float8, seed bigint) (
    SFUNC = als_fit_transfn, STYPE = aggregate_state, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8, factors integer, iterations integer,
                         regularization float8, alpha float8, seed bigint, solver text) (
    SFUNC = als_fit_transfn, STYPE = aggregate_state, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine,
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

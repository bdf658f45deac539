-- Upgrade part of issue 13 (Citus). Every aggregate gets the state type
-- personalize.aggregate_state instead of internal, so Citus combines it on
-- the workers: the aggregates and their support functions change signature,
-- so they are dropped and created as a fresh install defines them
-- (src/sql/*.sql; no stored value has an aggregate state type, so no data
-- moves). customer_summary gains a time_zone form; citus_setup() is new.

DROP AGGREGATE customer_summary(timestamptz, float8, timestamptz);
DROP AGGREGATE customer_summary(timestamptz, float8, timestamptz, interval);
DROP AGGREGATE baskets(bigint, bigint);
DROP AGGREGATE baskets(bigint, bigint[]);
DROP AGGREGATE bgnbd_fit(float8, float8, float8);
DROP AGGREGATE bgnbd_fit(float8, float8, float8, float8);
DROP AGGREGATE bgnbd_fit(float8, float8, float8, float8, float8);
DROP AGGREGATE pareto_nbd_fit(float8, float8, float8);
DROP AGGREGATE pareto_nbd_fit(float8, float8, float8, float8);
DROP AGGREGATE pareto_nbd_fit(float8, float8, float8, float8, float8);
DROP AGGREGATE gamma_gamma_fit(float8, float8);
DROP AGGREGATE gamma_gamma_fit(float8, float8, float8);
DROP AGGREGATE gamma_gamma_fit(float8, float8, float8, float8);
DROP AGGREGATE kmeans(float8[], integer);
DROP AGGREGATE kmeans(float8[], integer, bigint);
DROP AGGREGATE kmeans(float8[], integer, bigint, text);
DROP AGGREGATE kmeans(float8[], integer, bigint, text, integer, float8);
DROP AGGREGATE rfm_breakpoints(float8, float8, float8);
DROP AGGREGATE rfm_breakpoints(float8, float8, float8, integer);
DROP AGGREGATE als_fit(bigint, bigint, float8);
DROP AGGREGATE als_fit(bigint, bigint, float8, integer);
DROP AGGREGATE als_fit(bigint, bigint, float8, integer, integer, float8, float8, bigint);
DROP AGGREGATE als_fit(bigint, bigint, float8, integer, integer, float8, float8, bigint, text);
DROP AGGREGATE logistic_fit(boolean, float8[]);
DROP AGGREGATE logistic_fit(boolean, float8[], float8);
DROP AGGREGATE logistic_fit(boolean, float8[], float8, text[]);
DROP AGGREGATE logistic_fit(boolean, float8[], float8, text[], integer, float8);
DROP AGGREGATE auc(float8, boolean);

DROP FUNCTION customer_summary_transfn(internal, timestamptz, float8, timestamptz);
DROP FUNCTION customer_summary_transfn(internal, timestamptz, float8, timestamptz, interval);
DROP FUNCTION customer_summary_combine(internal, internal);
DROP FUNCTION customer_summary_serialize(internal);
DROP FUNCTION customer_summary_deserialize(bytea, internal);
DROP FUNCTION customer_summary_final(internal);
DROP FUNCTION baskets_transfn(internal, bigint, bigint);
DROP FUNCTION baskets_transfn(internal, bigint, bigint[]);
DROP FUNCTION baskets_combine(internal, internal);
DROP FUNCTION baskets_serialize(internal);
DROP FUNCTION baskets_deserialize(bytea, internal);
DROP FUNCTION baskets_final(internal);
DROP FUNCTION bgnbd_fit_transfn(internal, float8, float8, float8);
DROP FUNCTION bgnbd_fit_transfn(internal, float8, float8, float8, float8);
DROP FUNCTION bgnbd_fit_transfn(internal, float8, float8, float8, float8, float8);
DROP FUNCTION bgnbd_fit_combine(internal, internal);
DROP FUNCTION bgnbd_fit_serialize(internal);
DROP FUNCTION bgnbd_fit_deserialize(bytea, internal);
DROP FUNCTION bgnbd_fit_final(internal);
DROP FUNCTION pareto_nbd_fit_transfn(internal, float8, float8, float8);
DROP FUNCTION pareto_nbd_fit_transfn(internal, float8, float8, float8, float8);
DROP FUNCTION pareto_nbd_fit_transfn(internal, float8, float8, float8, float8, float8);
DROP FUNCTION pareto_nbd_fit_combine(internal, internal);
DROP FUNCTION pareto_nbd_fit_serialize(internal);
DROP FUNCTION pareto_nbd_fit_deserialize(bytea, internal);
DROP FUNCTION pareto_nbd_fit_final(internal);
DROP FUNCTION gamma_gamma_fit_transfn(internal, float8, float8);
DROP FUNCTION gamma_gamma_fit_transfn(internal, float8, float8, float8);
DROP FUNCTION gamma_gamma_fit_transfn(internal, float8, float8, float8, float8);
DROP FUNCTION gamma_gamma_fit_combine(internal, internal);
DROP FUNCTION gamma_gamma_fit_serialize(internal);
DROP FUNCTION gamma_gamma_fit_deserialize(bytea, internal);
DROP FUNCTION gamma_gamma_fit_final(internal);
DROP FUNCTION kmeans_transfn(internal, float8[], integer);
DROP FUNCTION kmeans_transfn(internal, float8[], integer, bigint);
DROP FUNCTION kmeans_transfn(internal, float8[], integer, bigint, text);
DROP FUNCTION kmeans_transfn(internal, float8[], integer, bigint, text, integer, float8);
DROP FUNCTION kmeans_combine(internal, internal);
DROP FUNCTION kmeans_serialize(internal);
DROP FUNCTION kmeans_deserialize(bytea, internal);
DROP FUNCTION kmeans_final(internal);
DROP FUNCTION rfm_breakpoints_transfn(internal, float8, float8, float8);
DROP FUNCTION rfm_breakpoints_transfn(internal, float8, float8, float8, integer);
DROP FUNCTION rfm_breakpoints_combine(internal, internal);
DROP FUNCTION rfm_breakpoints_serialize(internal);
DROP FUNCTION rfm_breakpoints_deserialize(bytea, internal);
DROP FUNCTION rfm_breakpoints_final(internal);
DROP FUNCTION als_fit_transfn(internal, bigint, bigint, float8);
DROP FUNCTION als_fit_transfn(internal, bigint, bigint, float8, integer);
DROP FUNCTION als_fit_transfn(internal, bigint, bigint, float8, integer, integer, float8, float8, bigint);
DROP FUNCTION als_fit_transfn(internal, bigint, bigint, float8, integer, integer, float8, float8, bigint, text);
DROP FUNCTION als_fit_combine(internal, internal);
DROP FUNCTION als_fit_serialize(internal);
DROP FUNCTION als_fit_deserialize(bytea, internal);
DROP FUNCTION als_fit_final(internal);
DROP FUNCTION logistic_fit_transfn(internal, boolean, float8[]);
DROP FUNCTION logistic_fit_transfn(internal, boolean, float8[], float8);
DROP FUNCTION logistic_fit_transfn(internal, boolean, float8[], float8, text[]);
DROP FUNCTION logistic_fit_transfn(internal, boolean, float8[], float8, text[], integer, float8);
DROP FUNCTION logistic_fit_combine(internal, internal);
DROP FUNCTION logistic_fit_serialize(internal);
DROP FUNCTION logistic_fit_deserialize(bytea, internal);
DROP FUNCTION logistic_fit_final(internal);
DROP FUNCTION auc_transfn(internal, float8, boolean);
DROP FUNCTION auc_combine(internal, internal);
DROP FUNCTION auc_serialize(internal);
DROP FUNCTION auc_deserialize(bytea, internal);
DROP FUNCTION auc_final(internal);

CREATE TYPE aggregate_state;
CREATE FUNCTION aggregate_state_in(cstring) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_aggregate_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aggregate_state_out(aggregate_state) RETURNS cstring
    AS 'MODULE_PATHNAME', 'personalize_aggregate_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aggregate_state_recv(internal) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_aggregate_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aggregate_state_send(aggregate_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_aggregate_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE aggregate_state (
    INPUT = aggregate_state_in, OUTPUT = aggregate_state_out,
    RECEIVE = aggregate_state_recv, SEND = aggregate_state_send,
    INTERNALLENGTH = VARIABLE, STORAGE = extended
);
COMMENT ON TYPE aggregate_state IS
    'partial state of a pg_personalize aggregate (what Citus workers send to the coordinator); text: hexadecimal bytes';

CREATE FUNCTION customer_summary_transfn(aggregate_state, timestamptz, float8, timestamptz)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_transfn(aggregate_state, timestamptz, float8, timestamptz, interval)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_transfn(aggregate_state, timestamptz, float8, timestamptz, interval, text)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_combine(aggregate_state, aggregate_state)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_final(aggregate_state)
    RETURNS customer_summary_result AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz) (
    SFUNC = customer_summary_transfn,
    STYPE = aggregate_state,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    PARALLEL = SAFE
);
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz, unit interval) (
    SFUNC = customer_summary_transfn,
    STYPE = aggregate_state,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    PARALLEL = SAFE
);
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz, unit interval, time_zone text) (
    SFUNC = customer_summary_transfn,
    STYPE = aggregate_state,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz) IS
    'per-customer orders, frequency, recency, age (days) and monetary value, as lifetimes/BTYD define them';
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz, interval) IS
    'per-customer orders, frequency, recency, age and monetary value in the given unit, as lifetimes/BTYD define them';
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz, interval, text) IS
    'customer_summary in the given unit with purchase days taken in the given time zone, whatever the session TimeZone';
CREATE FUNCTION rfm_breakpoints_transfn(aggregate_state, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_transfn(aggregate_state, float8, float8, float8, integer) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE rfm_breakpoints(recency float8, frequency float8, monetary float8) (
    SFUNC = rfm_breakpoints_transfn, STYPE = aggregate_state, FINALFUNC = rfm_breakpoints_final,
    COMBINEFUNC = rfm_breakpoints_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_breakpoints(recency float8, frequency float8, monetary float8, bins integer) (
    SFUNC = rfm_breakpoints_transfn, STYPE = aggregate_state, FINALFUNC = rfm_breakpoints_final,
    COMBINEFUNC = rfm_breakpoints_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE rfm_breakpoints(float8, float8, float8) IS
    'RFM quintile breakpoints (jsonb) of the customers'' recency (time since last purchase), frequency and monetary value';
COMMENT ON AGGREGATE rfm_breakpoints(float8, float8, float8, integer) IS
    'RFM breakpoints (jsonb) for 2..10 bins of the customers'' recency (time since last purchase), frequency and monetary value';
CREATE FUNCTION baskets_transfn(aggregate_state, bigint, bigint) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_baskets_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION baskets_transfn(aggregate_state, bigint, bigint[]) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_baskets_array_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION baskets_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_baskets_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION baskets_final(aggregate_state) RETURNS baskets
    AS 'MODULE_PATHNAME', 'personalize_baskets_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE baskets(basket_id bigint, item_id bigint) (
    SFUNC = baskets_transfn, STYPE = aggregate_state,
    FINALFUNC = baskets_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = baskets_combine,
    PARALLEL = SAFE
);
CREATE AGGREGATE baskets(basket_id bigint, items bigint[]) (
    SFUNC = baskets_transfn, STYPE = aggregate_state,
    FINALFUNC = baskets_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = baskets_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE baskets(bigint, bigint) IS
    'groups order lines into baskets (duplicate lines count once; NULL ids are skipped)';
COMMENT ON AGGREGATE baskets(bigint, bigint[]) IS
    'collects one item array per basket (rows of one basket are united; NULL ids and elements are skipped)';
CREATE FUNCTION bgnbd_fit_transfn(aggregate_state, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_transfn(aggregate_state, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_transfn(aggregate_state, float8, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_transfn(aggregate_state, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_transfn(aggregate_state, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_transfn(aggregate_state, float8, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(aggregate_state, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(aggregate_state, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(aggregate_state, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE bgnbd_fit(frequency float8, recency float8, age float8) (
    SFUNC = bgnbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = bgnbd_fit_final, COMBINEFUNC = bgnbd_fit_combine, PARALLEL = SAFE);
CREATE AGGREGATE bgnbd_fit(frequency float8, recency float8, age float8, weight float8) (
    SFUNC = bgnbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = bgnbd_fit_final, COMBINEFUNC = bgnbd_fit_combine, PARALLEL = SAFE);
CREATE AGGREGATE bgnbd_fit(frequency float8, recency float8, age float8, weight float8, penalty float8) (
    SFUNC = bgnbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = bgnbd_fit_final, COMBINEFUNC = bgnbd_fit_combine, PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(frequency float8, recency float8, age float8) (
    SFUNC = pareto_nbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = pareto_nbd_fit_final,
    COMBINEFUNC = pareto_nbd_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(frequency float8, recency float8, age float8, weight float8) (
    SFUNC = pareto_nbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = pareto_nbd_fit_final,
    COMBINEFUNC = pareto_nbd_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(frequency float8, recency float8, age float8, weight float8, penalty float8) (
    SFUNC = pareto_nbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = pareto_nbd_fit_final,
    COMBINEFUNC = pareto_nbd_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(frequency float8, monetary float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = aggregate_state, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = gamma_gamma_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(frequency float8, monetary float8, weight float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = aggregate_state, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = gamma_gamma_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(frequency float8, monetary float8, weight float8, penalty float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = aggregate_state, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = gamma_gamma_fit_combine,
    PARALLEL = SAFE);
CREATE FUNCTION kmeans_transfn(aggregate_state, float8[], integer) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_transfn(aggregate_state, float8[], integer, bigint) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_transfn(aggregate_state, float8[], integer, bigint, text) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_transfn(aggregate_state, float8[], integer, bigint, text, integer, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE kmeans(features float8[], k integer) (
    SFUNC = kmeans_transfn, STYPE = aggregate_state, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine, PARALLEL = SAFE);
CREATE AGGREGATE kmeans(features float8[], k integer, seed bigint) (
    SFUNC = kmeans_transfn, STYPE = aggregate_state, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine, PARALLEL = SAFE);
CREATE AGGREGATE kmeans(features float8[], k integer, seed bigint, scaling text) (
    SFUNC = kmeans_transfn, STYPE = aggregate_state, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine, PARALLEL = SAFE);
CREATE AGGREGATE kmeans(features float8[], k integer, seed bigint, scaling text, max_iterations integer,
                        tolerance float8) (
    SFUNC = kmeans_transfn, STYPE = aggregate_state, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine, PARALLEL = SAFE);
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

CREATE FUNCTION citus_setup(orders regclass DEFAULT NULL) RETURNS SETOF text
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

REVOKE EXECUTE ON FUNCTION citus_setup(regclass) FROM PUBLIC;

-- Customer lifetime models (buy-till-you-die): BG/NBD, Pareto/NBD and
-- Gamma-Gamma fitted by maximum likelihood in C++, and per-customer
-- predictions. Inputs are customer_summary()'s frequency, recency, age and
-- monetary, in one time unit of your choice (the fitted alpha/beta are in it).

-- Fitting aggregates: (frequency, recency, age [, weight [, penalty]]).
-- Rows with a NULL frequency, recency or age are skipped; weight (default 1)
-- lets you fit on GROUP BY frequency, recency, age rows.
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

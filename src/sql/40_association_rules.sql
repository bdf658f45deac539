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

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

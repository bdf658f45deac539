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
CREATE FUNCTION cart_suggestions(cart bigint[], rules regclass, k integer DEFAULT 10, min_score float8 DEFAULT 0)
    RETURNS TABLE (item bigint, score float8, evidence bigint[], source text)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
DECLARE
    items bigint[];
    keys bigint[];   -- antecedents to look up, as a flattened list of 1- and 2-item arrays
BEGIN
    IF rules IS NULL THEN
        RAISE EXCEPTION 'cart_suggestions: "rules" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k IS NULL OR k < 1 THEN
        RAISE EXCEPTION 'cart_suggestions: "k" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_score IS NULL OR NOT (min_score >= 0 AND min_score <= 1) THEN
        RAISE EXCEPTION 'cart_suggestions: "min_score" must be between 0 and 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{}') INTO items FROM unnest(cart) c WHERE c IS NOT NULL;

    RETURN QUERY EXECUTE format($q$
        WITH cart AS (SELECT unnest($1) AS c),
        lookups AS (
            SELECT ARRAY[a.c] AS antecedent FROM cart a
            UNION ALL
            SELECT ARRAY[a.c, b.c] FROM cart a JOIN cart b ON a.c < b.c WHERE cardinality($1) <= 64
        ),
        matched AS (
            SELECT r.consequent, r.certainty, r.antecedent
            FROM %1$s r JOIN lookups l ON r.antecedent = l.antecedent
            WHERE r.certainty > 0 AND r.consequent <> ALL ($1)
        ),
        chosen AS (
            SELECT m.consequent AS item, (1 - exp(sum(ln(1 - least(m.certainty, 1 - 1e-12)))))::float8 AS score
            FROM matched m
            GROUP BY m.consequent
            HAVING 1 - exp(sum(ln(1 - least(m.certainty, 1 - 1e-12)))) >= $3
            ORDER BY score DESC, item LIMIT $2
        ),
        -- One {} => item row per item (association_rules(..., min_len => 1)).
        popular AS (
            SELECT r.consequent AS item, r.consequent_support
            FROM %1$s r
            WHERE r.antecedent = '{}'::bigint[] AND r.consequent <> ALL ($1)
              AND r.consequent NOT IN (SELECT c.item FROM chosen c)
            ORDER BY r.consequent_support DESC, r.consequent
            LIMIT $2 - (SELECT count(*) FROM chosen)
        )
        SELECT item, score, evidence, source FROM (
            SELECT c.item, c.score,
                   (SELECT array_agg(DISTINCT e ORDER BY e) FROM matched m, unnest(m.antecedent) e
                    WHERE m.consequent = c.item) AS evidence,
                   'rules'::text AS source,
                   row_number() OVER (ORDER BY c.score DESC, c.item) AS rank
            FROM chosen c
            UNION ALL
            SELECT p.item, 0::float8, '{}'::bigint[], 'popular'::text,
                   $2 + row_number() OVER (ORDER BY p.consequent_support DESC, p.item)
            FROM popular p
        ) ranked
        ORDER BY rank
    $q$, rules) USING items, k, min_score;
END
$fn$;

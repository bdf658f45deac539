-- ease_similarities' lambda defaults to 3000 (60_suggest.sql): on every
-- dataset of the offline evaluation the validation split picked the largest
-- lambda tried (FIMI 2000, bench 3000, Complete Journey 5000;
-- docs/suggestions.md, section 6), 500 was below all of them. A changed
-- default is a CREATE OR REPLACE with the same signature.
CREATE OR REPLACE FUNCTION ease_similarities(
    baskets baskets,
    lambda float8 DEFAULT 3000,
    neighbours integer DEFAULT 50,
    min_count bigint DEFAULT 2,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (item bigint, neighbour bigint, score float8, together bigint)
    AS 'MODULE_PATHNAME', 'personalize_ease_similarities'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100000;

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
    PERFORM personalize.require_columns(rules, ARRAY['antecedent', 'consequent', 'confidence', 'lift', 'certainty'],
                                        'product_complements', 'rules');
    PERFORM personalize.require_column_types(rules, ARRAY['antecedent', 'consequent', 'confidence', 'lift', 'certainty'],
                                             ARRAY['bigint[]', 'integer', 'number', 'number', 'number'],
                                             'product_complements', 'rules');
    RETURN QUERY EXECUTE format(
        'SELECT r.consequent::bigint, r.confidence::float8, r.lift::float8, r.certainty::float8 FROM %s r
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

-- Personal suggestions from order history (docs/suggestions.md):
-- item-to-item similarities counted in C++ from a baskets value (one basket
-- per customer), a popular-items fallback, the top-n of one customer for a
-- backend and of every customer for a campaign, and the offline metrics to
-- compare scorers.

-- The model: for every item its own row and its best `neighbours` by score
-- (measure: cosine, jaccard, lift or confidence; see docs/suggestions.md).
-- Store it in a table with an index on item.
CREATE FUNCTION item_similarities(
    baskets baskets,
    measure text DEFAULT 'cosine',
    neighbours integer DEFAULT 50,
    min_count bigint DEFAULT 2,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (item bigint, neighbour bigint, score float8, together bigint)
    AS 'MODULE_PATHNAME', 'personalize_item_similarities'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100000;
COMMENT ON FUNCTION item_similarities(baskets, text, integer, bigint, integer) IS
    'item-to-item similarities (cosine, jaccard, lift or confidence) from co-occurrence in baskets: each item''s own row and its best neighbours';

-- Two more models with the same rows (docs/suggestions.md, "Models"), so
-- suggestions() and batch_suggestions() serve any of them unchanged.
-- EASE^R (Steck 2019): B = I - P diag(1/diag(P)), P = (X'X + lambda I)^-1;
-- a row holds the item's best positive weights, its own row score 0 (EASE's
-- zero diagonal). Dense: 4 bytes per item pair, charged to
-- personalize.memory_limit before any work (rp3beta_similarities is the
-- sparse alternative for catalogues too large for it). lambda defaults to
-- 3000: the validation splits picked 2000-5000 on every dataset
-- (docs/suggestions.md, section 6).
CREATE FUNCTION ease_similarities(
    baskets baskets,
    lambda float8 DEFAULT 3000,
    neighbours integer DEFAULT 50,
    min_count bigint DEFAULT 2,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (item bigint, neighbour bigint, score float8, together bigint)
    AS 'MODULE_PATHNAME', 'personalize_ease_similarities'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100000;
COMMENT ON FUNCTION ease_similarities(baskets, float8, integer, bigint, integer) IS
    'EASE item-to-item weights (closed-form ridge regression of each item on the others) in the rows item_similarities makes';

-- RP3beta (Paudel et al. 2017): a random walk item -> customer -> item with
-- the transition probabilities raised to alpha, divided by the target's
-- popularity^beta (the damper of best sellers); sparse.
CREATE FUNCTION rp3beta_similarities(
    baskets baskets,
    alpha float8 DEFAULT 1,
    beta float8 DEFAULT 0.5,
    neighbours integer DEFAULT 50,
    min_count bigint DEFAULT 2,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (item bigint, neighbour bigint, score float8, together bigint)
    AS 'MODULE_PATHNAME', 'personalize_rp3beta_similarities'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100000;
COMMENT ON FUNCTION rp3beta_similarities(baskets, float8, float8, integer, bigint, integer) IS
    'RP3beta item-to-item scores (two-step random walk damped by popularity^beta) in the rows item_similarities makes';

-- The fallback: the k items bought by the most customers of each segment
-- (score = share of the segment's customers), and overall (segment NULL).
-- history: customer_id, item_id; segments (optional): customer_id, segment,
-- one row per customer.
CREATE FUNCTION popular_items(history regclass, segments regclass DEFAULT NULL, k integer DEFAULT 100)
    RETURNS TABLE (segment text, item_id bigint, score float8, buyers bigint)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF history IS NULL THEN
        RAISE EXCEPTION 'popular_items: "history" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k IS NULL THEN
        RAISE EXCEPTION 'popular_items: "k" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k < 1 THEN
        RAISE EXCEPTION 'popular_items: "k" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM personalize.require_columns(history, ARRAY['customer_id', 'item_id'], 'popular_items', 'history');
    PERFORM personalize.require_column_types(history, ARRAY['customer_id', 'item_id'], ARRAY['integer', 'integer'],
                                             'popular_items', 'history');
    IF segments IS NOT NULL THEN  -- segment is read as text (exact for any type)
        PERFORM personalize.require_columns(segments, ARRAY['customer_id', 'segment'], 'popular_items', 'segments');
        PERFORM personalize.require_column_types(segments, ARRAY['customer_id'], ARRAY['integer'],
                                                 'popular_items', 'segments');
    END IF;
    -- %s of a regclass is its quoted, schema-qualified-when-needed name.
    RETURN QUERY EXECUTE format(
        'WITH h AS MATERIALIZED (
             SELECT DISTINCT t.customer_id::bigint AS c, t.item_id::bigint AS i FROM %s t
             WHERE t.customer_id IS NOT NULL AND t.item_id IS NOT NULL),
         s AS (SELECT g.customer_id::bigint AS c, g.segment::text AS seg FROM %s g WHERE g.segment IS NOT NULL),
         counts AS (
             SELECT NULL::text AS seg, h.i, count(*) AS buyers FROM h GROUP BY h.i
             UNION ALL
             SELECT s.seg, h.i, count(*) FROM h JOIN s USING (c) GROUP BY s.seg, h.i),
         sizes AS (
             SELECT NULL::text AS seg, count(DISTINCT h.c) AS n FROM h
             UNION ALL
             SELECT s.seg, count(DISTINCT h.c) FROM h JOIN s USING (c) GROUP BY s.seg),
         ranked AS (
             SELECT c.seg, c.i, c.buyers::float8 / z.n AS score, c.buyers,
                    row_number() OVER (PARTITION BY c.seg ORDER BY c.buyers DESC, c.i) AS r
             FROM counts c JOIN sizes z ON z.seg IS NOT DISTINCT FROM c.seg)
         SELECT seg, i, score, buyers FROM ranked WHERE r <= $1 ORDER BY seg NULLS FIRST, r',
        history,
        COALESCE(segments::text, '(SELECT NULL::bigint AS customer_id, NULL::text AS segment WHERE false)'))
        USING k;
END
$fn$;
COMMENT ON FUNCTION popular_items(regclass, regclass, integer) IS
    'the k items bought by the most customers of each segment and overall (segment NULL), score = share of the customers';

-- One customer's top-n (for a backend). Tables (fixed column names; a view
-- renames): history (customer_id, item_id, bought_at), similarities (from
-- item_similarities), items (item_id [, category] [, rebuyable]), popular
-- (segment, item_id, score; NULL: the similarities' own rows by together).
-- A NULL or unknown customer gets the popular items of `segment`, then
-- overall. Rows: rank 1..n, source 'item-item' or 'popular', because = the
-- bought items that contributed most (up to 3, strongest first).
-- The functions reading tables by regclass are PARALLEL RESTRICTED: the
-- tables may be temporary, which parallel workers cannot read.
CREATE FUNCTION suggestions(
    customer_id bigint,
    history regclass,
    similarities regclass,
    n integer DEFAULT 10,
    items regclass DEFAULT NULL,
    popular regclass DEFAULT NULL,
    segment text DEFAULT NULL,
    category_cap integer DEFAULT NULL,
    half_life interval DEFAULT '90 days',
    min_history integer DEFAULT 1)
RETURNS TABLE (rank integer, item_id bigint, score float8, source text, because bigint[])
    AS 'MODULE_PATHNAME', 'personalize_suggestions'
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION suggestions(bigint, regclass, regclass, integer, regclass, regclass, text, integer, interval, integer) IS
    'top-n personal suggestions of one customer from order history and item similarities, with a popular fallback and "because you bought"';

-- Every customer's top-n in one pass (an e-mail campaign): customers
-- (customer_id [, segment]; NULL: every customer of the history) get the
-- same rows as suggestions() would give them, ordered by customer and rank.
-- PARALLEL RESTRICTED: the tables may be temporary, and in the leader its
-- own large scans can use parallel workers.
CREATE FUNCTION batch_suggestions(
    customers regclass,
    history regclass,
    similarities regclass,
    n integer DEFAULT 10,
    items regclass DEFAULT NULL,
    popular regclass DEFAULT NULL,
    category_cap integer DEFAULT NULL,
    half_life interval DEFAULT '90 days',
    min_history integer DEFAULT 1)
RETURNS TABLE (customer_id bigint, rank integer, item_id bigint, score float8, source text, because bigint[])
    AS 'MODULE_PATHNAME', 'personalize_batch_suggestions'
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100000;
COMMENT ON FUNCTION batch_suggestions(regclass, regclass, regclass, integer, regclass, regclass, integer, interval, integer) IS
    'top-n personal suggestions of every customer (or of a customer list) in one pass, for campaigns';

-- Offline evaluation. One customer: precision@k, recall@k and nDCG@k of a
-- recommendation list against the items bought afterwards (NULL when
-- nothing is relevant); average them with avg().
CREATE FUNCTION ranking_metrics(recommended bigint[], relevant bigint[], k integer DEFAULT 10,
                                OUT precision_at_k float8, OUT recall_at_k float8, OUT ndcg_at_k float8)
    AS 'MODULE_PATHNAME', 'personalize_ranking_metrics'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ranking_metrics(bigint[], bigint[], integer) IS
    'precision@k, recall@k and nDCG@k of one ranked recommendation list against the relevant items (binary relevance)';

-- A scorer's whole result: recommendations (customer_id, recommended
-- bigint[] in rank order) against relevant (customer_id, relevant bigint[]).
-- Every customer with relevant items counts (no recommendations: zero);
-- coverage = distinct items among their first k / catalogue. The bias
-- columns (Elliot's beyond-accuracy metrics) over the same first k: gini =
-- Gini index of how often each catalogue item is recommended (0: every item
-- equally often, near 1: a few items everywhere; items never recommended
-- count as 0 when catalogue is given); arp = average recommendation
-- popularity, the mean over customers of the mean popularity of their
-- items, from popularity (item_id, popularity), e.g. the share of training
-- customers who bought the item (NULL without it; an unlisted item counts 0).
CREATE FUNCTION evaluate_recommendations(recommendations regclass, relevant regclass, k integer DEFAULT 10,
                                         catalogue bigint DEFAULT NULL, popularity regclass DEFAULT NULL)
    RETURNS TABLE (customers bigint, precision_at_k float8, recall_at_k float8, ndcg_at_k float8,
                   coverage float8, items_recommended bigint, gini float8, arp float8)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF recommendations IS NULL OR relevant IS NULL THEN
        RAISE EXCEPTION 'evaluate_recommendations: "%" must not be NULL',
            CASE WHEN recommendations IS NULL THEN 'recommendations' ELSE 'relevant' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k IS NULL THEN
        RAISE EXCEPTION 'evaluate_recommendations: "k" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k < 1 THEN
        RAISE EXCEPTION 'evaluate_recommendations: "k" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF catalogue IS NOT NULL AND catalogue < 1 THEN
        RAISE EXCEPTION 'evaluate_recommendations: "catalogue" must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The lists are read as ::bigint[] (exact for integer arrays; numeric ones round).
    PERFORM personalize.require_columns(recommendations, ARRAY['customer_id', 'recommended'],
                                        'evaluate_recommendations', 'recommendations');
    PERFORM personalize.require_columns(relevant, ARRAY['customer_id', 'relevant'], 'evaluate_recommendations', 'relevant');
    PERFORM personalize.require_column_types(recommendations, ARRAY['customer_id'], ARRAY['integer'],
                                             'evaluate_recommendations', 'recommendations');
    PERFORM personalize.require_column_types(relevant, ARRAY['customer_id'], ARRAY['integer'],
                                             'evaluate_recommendations', 'relevant');
    RETURN QUERY EXECUTE format(
        'WITH t AS (SELECT r.customer_id::bigint AS c, r.relevant::bigint[] AS rel FROM %s r
                    WHERE cardinality(r.relevant) > 0),
         e AS (SELECT t.c, t.rel, x.recommended::bigint[] AS rec FROM t LEFT JOIN %s x ON x.customer_id = t.c),
         m AS MATERIALIZED (SELECT e.c, e.rec, personalize.ranking_metrics(e.rec, e.rel, $1) AS q FROM e),
         firsts AS (SELECT DISTINCT m.c, u.item FROM m, unnest(m.rec[1:$1]) AS u(item) WHERE u.item IS NOT NULL),
         counts AS (SELECT f.item, count(*) AS n FROM firsts f GROUP BY f.item),
         shown AS (SELECT count(*) AS items, sum(counts.n) AS total FROM counts),
         -- Gini over the catalogue: the items never recommended are the first (zero) counts.
         gini AS (SELECT sum((2 * (greatest(coalesce($2, s.items), s.items) - s.items + o.r) - greatest(coalesce($2, s.items), s.items) - 1)
                             * o.n)::float8 / (greatest(coalesce($2, s.items), s.items) * s.total) AS g
                  FROM shown s, (SELECT counts.n, row_number() OVER (ORDER BY counts.n, counts.item) AS r FROM counts) o
                  GROUP BY s.items, s.total),
         arp AS (SELECT avg(per.p) AS a FROM (SELECT f.c, avg(coalesce(p.popularity::float8, 0)) AS p
                                               FROM firsts f LEFT JOIN %s p ON p.item_id = f.item GROUP BY f.c) per)
         SELECT count(*) FILTER (WHERE (m.q).precision_at_k IS NOT NULL),
                avg((m.q).precision_at_k), avg((m.q).recall_at_k), avg((m.q).ndcg_at_k),
                (SELECT s.items FROM shown s)::float8 / $2, (SELECT s.items FROM shown s),
                (SELECT gini.g FROM gini), CASE WHEN $3 THEN (SELECT arp.a FROM arp) END
         FROM m', relevant, recommendations,
        COALESCE(popularity::text, '(SELECT NULL::bigint AS item_id, NULL::float8 AS popularity WHERE false)'))
        USING k, catalogue, popularity IS NOT NULL;
END
$fn$;
COMMENT ON FUNCTION evaluate_recommendations(regclass, regclass, integer, bigint, regclass) IS
    'mean precision@k, recall@k, nDCG@k, catalogue coverage, Gini of recommendation counts and average recommendation popularity of a scorer''s lists';

-- The argument checks of buy_again and batch_buy_again, with the column
-- types of "history" (a numeric item_id would be rounded by the ::bigint
-- cast, a text bought_at fail without naming the column).
CREATE FUNCTION check_buy_again_args(fn text, history regclass, n integer, as_of timestamptz, min_purchases integer)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    missing text;
BEGIN
    IF history IS NULL THEN
        RAISE EXCEPTION '%: "history" must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF n IS NULL OR as_of IS NULL OR min_purchases IS NULL THEN
        RAISE EXCEPTION '%: "%" must not be NULL', fn,
            CASE WHEN n IS NULL THEN 'n' WHEN as_of IS NULL THEN 'as_of' ELSE 'min_purchases' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF n < 1 THEN
        RAISE EXCEPTION '%: "n" must be at least 1', fn USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_purchases < 2 THEN
        RAISE EXCEPTION '%: "min_purchases" must be at least 2', fn USING ERRCODE = 'invalid_parameter_value',
            HINT = 'A typical gap needs two purchase days; items bought once are for suggestions().';
    END IF;
    IF NOT isfinite(as_of) THEN
        RAISE EXCEPTION '%: "as_of" must be a finite timestamp', fn USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c INTO missing FROM unnest(ARRAY['customer_id', 'item_id', 'bought_at']) AS c
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = history AND a.attname = c
                      AND a.attnum > 0 AND NOT a.attisdropped) LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '%: "history" (%) has no column %', fn, history, missing
            USING ERRCODE = 'invalid_parameter_value', HINT = 'history needs customer_id, item_id, bought_at (a view renames).';
    END IF;
    PERFORM personalize.require_column_types(history, ARRAY['customer_id', 'item_id', 'bought_at'],
                                             ARRAY['integer', 'integer', 'timestamp'], fn, 'history');
END
$fn$;
COMMENT ON FUNCTION check_buy_again_args(text, regclass, integer, timestamptz, integer) IS
    'internal: argument checks of buy_again and batch_buy_again';

-- "Buy again": the items a customer buys repeatedly that are due now
-- (docs/suggestions.md, "Buy again"), from their own purchase days only.
-- For each item bought on at least min_purchases distinct days up to as_of:
-- typical gap = median days between consecutive purchase days, since = days
-- from the last purchase to as_of, r = since / typical gap, and
--     score = r * exp(1 - r) * (1 - 1 / purchases)
-- (1 exactly when due, lower before and long after; more purchases, more
-- trust in the habit); due_in_days = typical gap - since (< 0: overdue).
-- history: customer_id, item_id, bought_at; lines after as_of are ignored,
-- so a past as_of replays the list of that day.
CREATE FUNCTION batch_buy_again(
    customers regclass,
    history regclass,
    n integer DEFAULT 10,
    as_of timestamptz DEFAULT now(),
    min_purchases integer DEFAULT 2)
RETURNS TABLE (customer_id bigint, rank integer, item_id bigint, score float8, purchases bigint,
               last_bought timestamptz, typical_gap_days float8, due_in_days float8)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_buy_again_args('batch_buy_again', history, n, as_of, min_purchases);
    IF customers IS NOT NULL THEN
        PERFORM personalize.require_column_types(customers, ARRAY['customer_id'], ARRAY['integer'],
                                                 'batch_buy_again', 'customers');
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH h AS (SELECT t.customer_id::bigint AS c, t.item_id::bigint AS i, t.bought_at::timestamptz AS at FROM %s t
                    WHERE t.customer_id IS NOT NULL AND t.item_id IS NOT NULL AND t.bought_at <= $2 %s),
         days AS (SELECT DISTINCT h.c, h.i, h.at::date AS day FROM h),
         gaps AS (SELECT d.c, d.i, d.day - lag(d.day) OVER (PARTITION BY d.c, d.i ORDER BY d.day) AS gap FROM days d),
         habit AS (SELECT g.c, g.i, count(*) AS purchases,
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY g.gap) AS typical
                   FROM gaps g GROUP BY g.c, g.i HAVING count(*) >= $3),
         scored AS (SELECT x.c, x.i, x.purchases, l.last, x.typical,
                           extract(epoch FROM $2 - l.last)::float8 / 86400 AS since
                    FROM habit x JOIN (SELECT h.c, h.i, max(h.at) AS last FROM h GROUP BY h.c, h.i) l USING (c, i)),
         ranked AS (SELECT s.*, (s.since / s.typical) * exp(1 - s.since / s.typical) * (1 - 1.0::float8 / s.purchases) AS score
                    FROM scored s),
         numbered AS (SELECT r.*, row_number() OVER (PARTITION BY r.c ORDER BY r.score DESC, r.i) AS k FROM ranked r)
         SELECT z.c, z.k::integer, z.i, z.score, z.purchases, z.last, z.typical, z.typical - z.since
         FROM numbered z WHERE z.k <= $1 ORDER BY z.c, z.k',
        history,
        CASE WHEN customers IS NULL THEN ''
             ELSE format('AND t.customer_id::bigint IN (SELECT u.customer_id::bigint FROM %s u)', customers) END)
        USING n, as_of, min_purchases;
END
$fn$;
COMMENT ON FUNCTION batch_buy_again(regclass, regclass, integer, timestamptz, integer) IS
    'replenishment lists of every customer (or of a customer list): repeat purchases due now, from each customer''s own purchase gaps';

-- One customer's "buy again" list (for a backend): the rows batch_buy_again
-- gives that customer, without the customer_id.
CREATE FUNCTION buy_again(
    customer_id bigint,
    history regclass,
    n integer DEFAULT 10,
    as_of timestamptz DEFAULT now(),
    min_purchases integer DEFAULT 2)
RETURNS TABLE (rank integer, item_id bigint, score float8, purchases bigint,
               last_bought timestamptz, typical_gap_days float8, due_in_days float8)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_buy_again_args('buy_again', history, n, as_of, min_purchases);
    IF customer_id IS NULL THEN
        RETURN;  -- an anonymous visitor has no habits
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH h AS (SELECT t.item_id::bigint AS i, t.bought_at::timestamptz AS at FROM %s t
                    WHERE t.customer_id = $4 AND t.item_id IS NOT NULL AND t.bought_at <= $2),
         days AS (SELECT DISTINCT h.i, h.at::date AS day FROM h),
         gaps AS (SELECT d.i, d.day - lag(d.day) OVER (PARTITION BY d.i ORDER BY d.day) AS gap FROM days d),
         habit AS (SELECT g.i, count(*) AS purchases, percentile_cont(0.5) WITHIN GROUP (ORDER BY g.gap) AS typical
                   FROM gaps g GROUP BY g.i HAVING count(*) >= $3),
         scored AS (SELECT x.i, x.purchases, l.last, x.typical, extract(epoch FROM $2 - l.last)::float8 / 86400 AS since
                    FROM habit x JOIN (SELECT h.i, max(h.at) AS last FROM h GROUP BY h.i) l USING (i)),
         ranked AS (SELECT s.*, (s.since / s.typical) * exp(1 - s.since / s.typical) * (1 - 1.0::float8 / s.purchases) AS score
                    FROM scored s),
         numbered AS (SELECT r.*, row_number() OVER (ORDER BY r.score DESC, r.i) AS k FROM ranked r)
         SELECT z.k::integer, z.i, z.score, z.purchases, z.last, z.typical, z.typical - z.since
         FROM numbered z WHERE z.k <= $1 ORDER BY z.k', history)
        USING n, as_of, min_purchases, customer_id;
END
$fn$;
COMMENT ON FUNCTION buy_again(bigint, regclass, integer, timestamptz, integer) IS
    'one customer''s replenishment list: the items they buy repeatedly, ranked by how due they are (own purchase gaps)';

-- Step 1 of test/upgrade/run.sh, on the 0.1.0 catalog: a shop that has used
-- pg_personalize 0.1.0 for a while. Its own tables hold stored baskets and
-- als_model values and jsonb models; the extension's tables hold its offers,
-- their decisions, segment snapshots and an edited segment map; and the
-- values written by the 0.1.0 library itself (fixtures/) are loaded three
-- ways. Run from test/upgrade (the fixture paths are relative).
SET client_min_messages = warning;
SET TimeZone = 'UTC';

CREATE SCHEMA upgrade_check;
-- Every recorded answer: phase (before update, after update, after
-- restore), where it comes from, what it is.
CREATE TABLE upgrade_check.answers (
    phase  text NOT NULL DEFAULT current_setting('upgrade_check.phase'),
    source text NOT NULL,
    name   text NOT NULL,
    answer text,
    PRIMARY KEY (phase, source, name));

SELECT count(*) AS demo_tables FROM personalize.load_demo_shop('shop', 'tiny', 42);

-- Stored values of the extension's types (this library, 0.1.0 catalog).
CREATE TABLE shop.bought AS
SELECT o.customer_id, l.product_id AS item_id, count(*)::float8 AS strength
FROM shop.orders o JOIN shop.order_lines l USING (order_id) WHERE o.status = 'completed' GROUP BY 1, 2;
CREATE TABLE shop.stored (name text PRIMARY KEY, baskets personalize.baskets, model personalize.als_model);
INSERT INTO shop.stored
SELECT 'shop',
       (SELECT personalize.baskets(order_id, product_id) FROM shop.order_lines),
       (SELECT personalize.als_fit(customer_id, item_id, strength, 8, 10, 0.05, 5.0, 42) FROM shop.bought);

-- The jsonb models a nightly job would keep.
CREATE TABLE shop.customer_stats AS
SELECT customer_id, (personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 week')).*
FROM shop.orders WHERE status = 'completed' GROUP BY customer_id;
CREATE VIEW shop.customer_stats_rfm AS
SELECT customer_id, age - recency AS recency, frequency, total AS monetary FROM shop.customer_stats;
CREATE TABLE shop.session_features AS
SELECT session_id, converted,
       personalize.session_features(pages_viewed, items_in_cart, cart_value::float8,
                                    extract(epoch FROM ended_at - started_at)::float8, exit_intent,
                                    customer_id IS NOT NULL, 0, NULL) AS features
FROM shop.sessions;
CREATE TABLE shop.models (name text PRIMARY KEY, model jsonb NOT NULL);
INSERT INTO shop.models
SELECT 'bgnbd', personalize.bgnbd_fit(frequency, recency, age) FROM shop.customer_stats
UNION ALL SELECT 'pareto_nbd', personalize.pareto_nbd_fit(frequency, recency, age) FROM shop.customer_stats
UNION ALL SELECT 'gamma_gamma', personalize.gamma_gamma_fit(frequency, monetary) FROM shop.customer_stats
UNION ALL SELECT 'rfm_breakpoints', personalize.rfm_breakpoints(age - recency, frequency, total) FROM shop.customer_stats
UNION ALL SELECT 'kmeans', personalize.kmeans(ARRAY[frequency, monetary, age - recency], 3, 42, 'log1p_zscore')
          FROM shop.customer_stats
UNION ALL SELECT 'logistic', personalize.logistic_fit(converted, features, 1.0, personalize.session_feature_names())
          FROM shop.session_features;

-- Scores, segments and their history.
CREATE TABLE shop.scores AS
SELECT s.customer_id, sc.r, sc.f, sc.m
FROM shop.customer_stats s, shop.models bp,
     personalize.rfm_score(bp.model, s.age - s.recency, s.frequency, s.total) sc
WHERE bp.name = 'rfm_breakpoints';
CREATE TABLE shop.scores_mid AS
SELECT customer_id,
       ntile(5) OVER (ORDER BY max(ordered_at), customer_id)::integer AS r,
       ntile(5) OVER (ORDER BY count(*), customer_id)::integer AS f,
       ntile(5) OVER (ORDER BY sum(total), customer_id)::integer AS m
FROM shop.orders WHERE status = 'completed' AND ordered_at <= '2025-07-01' GROUP BY customer_id;
-- A map of the shop's own, and an edit of a shipped map (a renamed segment).
INSERT INTO personalize.segment_rules (map, segment, priority, r_min, r_max, f_min, f_max) VALUES
    ('two_tier', 'Active', 1, 3, 5, 1, 5),
    ('two_tier', 'Inactive', 2, 1, 2, 1, 5);
UPDATE personalize.segment_rules SET segment = 'Dormant' WHERE map = 'rf_grid' AND segment = 'Hibernating';
SELECT personalize.snapshot_segments('rf_grid', '2025-07-01', 'shop.scores_mid') AS snapshot_mid,
       personalize.snapshot_segments('rf_grid', '2026-01-01', 'shop.scores') AS snapshot_end,
       personalize.snapshot_segments('rfm_rules', '2026-01-01', 'shop.scores') AS snapshot_rfm,
       personalize.snapshot_segments('two_tier', '2026-01-01', 'shop.scores') AS snapshot_two_tier;

-- Rules and similarities tables the serving functions read.
CREATE TABLE shop.product_rules AS
SELECT * FROM personalize.association_rules((SELECT baskets FROM shop.stored WHERE name = 'shop'),
                                            min_support => 0.01, min_len => 1);
CREATE VIEW shop.history AS
SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM shop.orders o JOIN shop.order_lines l USING (order_id) WHERE o.status = 'completed';
CREATE TABLE shop.similarities AS
SELECT * FROM personalize.item_similarities((SELECT personalize.baskets(customer_id, item_id) FROM shop.history),
                                            'cosine', 10, 2);

-- Offers: model outputs per customer, the context tables, the catalogue,
-- and decisions (offer_log, offer_customer_lock).
CREATE TABLE shop.customer_features AS
SELECT s.customer_id, personalize.segment('rf_grid', sc.r, sc.f) AS segment,
       personalize.probability_alive(b.model, s.frequency, s.recency, s.age) AS p_alive,
       personalize.customer_lifetime_value(b.model, g.model, s.frequency, s.recency, s.age, s.monetary, 12, 4.345, 0.01)
           AS clv
FROM shop.customer_stats s JOIN shop.scores sc USING (customer_id),
     shop.models b, shop.models g
WHERE b.name = 'bgnbd' AND g.name = 'gamma_gamma';
SELECT personalize.configure_offer_context('shop.orders', 'shop.customers', 'shop.customer_features', 'GBP');
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, free_shipping, channels, priority,
                                holdout_share, experiment_key) VALUES
    ('first_order', '10% off and free shipping on a first order of £30 or more',
     'customer.orders = 0 and cart.total >= 30 GBP', 10, true, '{web,app}', 10, 0.3, 'first_order_2026');
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, channels, priority, cap_count, cap_interval,
                                holdout_share) VALUES
    ('win_back', '10% to come back after 90 days without an order',
     'customer.orders > 0 and days_since(customer.last_order_at) > 90', 10, '{email,web}', 20, 1, '30 days', 0.5);
INSERT INTO personalize.offers (offer_key, description, rule, percent_off, channels, priority, cap_count, cap_interval) VALUES
    ('exit_save', '5% off if you complete your order now',
     'session.exit_intent and cart.items > 0 and cart.total >= 100 GBP and not session.offer_shown', 5, '{exit}', 5,
     1, '1 day');
INSERT INTO personalize.offers (offer_key, description, rule, free_shipping, channels, priority, stacking, active) VALUES
    ('loyal_free_shipping', 'Free shipping for our best customers',
     'customer.segment in [''Champions'', ''Loyal Customers'']', true, '{email,web}', 30, 'stackable', false);
SELECT count(*) AS web_decisions
FROM shop.customers c, personalize.decide_offer(c.customer_id, '{"total": 45.00, "items": [3]}', '{}', 'web');
SELECT count(*) AS email_decisions FROM shop.customers c, personalize.decide_offer(c.customer_id, '{}', '{}', 'email');
SELECT count(*) AS exit_decisions
FROM (SELECT customer_id FROM shop.sessions WHERE exit_intent AND customer_id IS NOT NULL LIMIT 20) s,
     personalize.decide_offer(s.customer_id, '{"total": 150.00, "items": [47, 5]}',
                              '{"exit_intent": true, "offer_shown": false}', 'exit');

-- The 0.1.0 library's values (make-fixtures.sh), loaded three ways:
-- as they were stored (the binary COPY's bytes, put in place as they are,
-- past any input function: what a 0.1.0 table holds on disk), through this
-- library's binary input and through its text input.
CREATE TABLE upgrade_check.fixture_bytes (name text PRIMARY KEY, baskets bytea, model bytea);
\copy upgrade_check.fixture_bytes FROM 'fixtures/values-0.1.0.bin' WITH (FORMAT binary)
CREATE FUNCTION pg_temp.stored_baskets(bytea) RETURNS personalize.baskets
    LANGUAGE internal IMMUTABLE STRICT AS 'byteasend';  -- a copy of the bytes, labelled baskets
CREATE FUNCTION pg_temp.stored_als_model(bytea) RETURNS personalize.als_model
    LANGUAGE internal IMMUTABLE STRICT AS 'byteasend';
CREATE TABLE upgrade_check.fixture_stored (name text PRIMARY KEY, baskets personalize.baskets,
                                           model personalize.als_model);
INSERT INTO upgrade_check.fixture_stored
SELECT name, pg_temp.stored_baskets(baskets), pg_temp.stored_als_model(model) FROM upgrade_check.fixture_bytes;
CREATE TABLE upgrade_check.fixture_binary (LIKE upgrade_check.fixture_stored INCLUDING ALL);
\copy upgrade_check.fixture_binary FROM 'fixtures/values-0.1.0.bin' WITH (FORMAT binary)
CREATE TABLE upgrade_check.fixture_text (LIKE upgrade_check.fixture_stored INCLUDING ALL);
\copy upgrade_check.fixture_text FROM 'fixtures/values-0.1.0.txt'
-- What the 0.1.0 library answered over them.
CREATE TABLE upgrade_check.library_answers (name text PRIMARY KEY, answer text);
\copy upgrade_check.library_answers FROM 'fixtures/answers-0.1.0.txt'
INSERT INTO upgrade_check.answers (phase, source, name, answer)
SELECT '0.1.0 library', '0.1.0 library', name, answer FROM upgrade_check.library_answers;

-- The check of run.sh: the answers of (actual_phase, actual_source) against
-- those of (expected_phase, expected_source): a PASS line with the answers
-- that are equal by group (the part of the name before its last "/"; a
-- group of up to 10 by name), a FAIL line for each answer that differs, with
-- the lines gone and the lines new. format/ answers count only when with_format.
CREATE FUNCTION upgrade_check.compare(label text, expected_phase text, expected_source text,
                                      actual_phase text, actual_source text, with_format boolean)
    RETURNS SETOF text LANGUAGE sql STABLE AS $fn$
    WITH e AS (SELECT name, answer FROM upgrade_check.answers
               WHERE phase = expected_phase AND source = expected_source AND (with_format OR name !~ '(^|/)format/')),
    a AS (SELECT name, answer FROM upgrade_check.answers
          WHERE phase = actual_phase AND source = actual_source AND (with_format OR name !~ '(^|/)format/')),
    both_ AS (SELECT coalesce(e.name, a.name) AS name, e.name IS NOT NULL AS expected, a.name IS NOT NULL AS seen,
                     e.answer AS was, a.answer AS now, e.answer IS NOT DISTINCT FROM a.answer AS equal
              FROM e FULL JOIN a USING (name)),
    excerpt AS (
        SELECT b.*, (SELECT string_agg(left(l, 200), ' | ' ORDER BY l) FROM (
                        (SELECT l FROM regexp_split_to_table(coalesce(b.was, '<NULL>'), E'\n') l
                         EXCEPT ALL SELECT l FROM regexp_split_to_table(coalesce(b.now, '<NULL>'), E'\n') l)
                        ORDER BY l LIMIT 3) g) AS gone,
                    (SELECT string_agg(left(l, 200), ' | ' ORDER BY l) FROM (
                        (SELECT l FROM regexp_split_to_table(coalesce(b.now, '<NULL>'), E'\n') l
                         EXCEPT ALL SELECT l FROM regexp_split_to_table(coalesce(b.was, '<NULL>'), E'\n') l)
                        ORDER BY l LIMIT 3) g) AS new
        FROM both_ b WHERE NOT b.equal)
    SELECT line FROM (
        SELECT 1 AS o, '' AS k,
               format('PASS %s: %s answers (%s) equal: %s', label, sum(g.n), actual_source,
                      string_agg(CASE WHEN g.n <= 10 THEN format('%s (%s)', g.k, g.names)
                                      ELSE format('%s %s', g.n, g.k) END, ', ' ORDER BY g.k)) AS line
        FROM (SELECT regexp_replace(b.name, '/[^/]*$', '') AS k, count(*) AS n,
                     string_agg(regexp_replace(b.name, '^.*/', ''), ', ' ORDER BY b.name) AS names
              FROM both_ b WHERE b.equal GROUP BY 1) g
        HAVING count(*) > 0
        UNION ALL
        SELECT 2, x.name, CASE
            WHEN NOT x.seen THEN format('FAIL %s: %s (%s) is missing', label, x.name, actual_source)
            WHEN NOT x.expected THEN format('FAIL %s: %s (%s) was not recorded in %s', label, x.name, actual_source,
                                            expected_phase)
            ELSE format('FAIL %s: %s (%s) differs; lines gone: %s; lines new: %s', label, x.name, actual_source,
                        coalesce(x.gone, '-'), coalesce(x.new, '-')) END
        FROM excerpt x
        UNION ALL
        SELECT 3, '', format('FAIL %s: no answers recorded for %s in %s', label, expected_source, expected_phase)
        WHERE NOT EXISTS (SELECT 1 FROM e)) r
    ORDER BY o, k
$fn$;

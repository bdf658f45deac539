-- Named segments (segment_rules maps, segment(), validate_segment_map()),
-- segment history and transitions, and the cohort functions on the demo shop.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

\i test/sql/include/error_of.sql

-- The shipped maps.
SELECT map, count(*) AS rules FROM personalize.segment_rules GROUP BY map ORDER BY map;

-- rf_grid covers every (r, f) cell exactly once: no gaps, no overlaps.
SELECT count(*) AS rf_grid_problems FROM personalize.validate_segment_map('rf_grid');
-- The same from plain SQL over the table, so a wrong validator cannot hide it.
SELECT count(*) AS cells, count(*) FILTER (WHERE n = 1) AS covered_once
FROM (SELECT r, f, (SELECT count(*) FROM personalize.segment_rules s
                    WHERE s.map = 'rf_grid' AND r BETWEEN r_min AND r_max AND f BETWEEN f_min AND f_max) AS n
      FROM generate_series(1, 5) r, generate_series(1, 5) f) c;
-- The grid, F across, R down.
SELECT r, string_agg(personalize.segment('rf_grid', r, f), ' | ' ORDER BY f) AS f1_to_f5
FROM generate_series(1, 5) r, generate_series(1, 5) f GROUP BY r ORDER BY r DESC;

-- rfm_rules: ordered, first match wins, else Others.
SELECT r, f, m, personalize.segment('rfm_rules', r, f, m)
FROM (VALUES (5, 5, 5), (5, 5, 4), (4, 4, 4), (2, 2, 2), (4, 1, 4), (5, 1, 1), (1, 3, 5), (2, 5, 5),
             (3, 5, 5), (2, 1, 1), (1, 1, 1), (2, 1, 5), (1, 2, 1)) v(r, f, m);
SELECT * FROM personalize.validate_segment_map('rfm_rules');
-- Every cell reported as a gap really gives Others, and no other cell does.
SELECT count(*) FILTER (WHERE personalize.segment('rfm_rules', r, f, m) = 'Others') AS others_cells,
       (SELECT count(*) FROM personalize.validate_segment_map('rfm_rules')) AS reported_gaps,
       count(*) FILTER (WHERE personalize.segment('rfm_rules', r, f, m) = 'Others'
                          AND (r, f, m) NOT IN (SELECT g.r, g.f, g.m FROM personalize.validate_segment_map('rfm_rules') g))
           AS unreported
FROM generate_series(1, 5) r, generate_series(1, 5) f, generate_series(1, 5) m;
-- A NULL m matches only rules without m bounds; NULL r or f gives NULL.
SELECT personalize.segment('rfm_rules', 5, 5) AS rfm_without_m, personalize.segment('rf_grid', 5, 5, 1) AS grid_ignores_m,
       personalize.segment('rf_grid', NULL, 5) IS NULL AS null_r, personalize.segment(NULL, 1, 1) IS NULL AS null_map;

-- Bad arguments name themselves.
SELECT pg_temp.error_of($$SELECT personalize.segment('no_such_map', 1, 1)$$);
SELECT pg_temp.error_of($$SELECT personalize.segment('rf_grid', 0, 1)$$);
SELECT pg_temp.error_of($$SELECT personalize.segment('rf_grid', 1, 6)$$);
SELECT pg_temp.error_of($$SELECT personalize.segment('rfm_rules', 1, 1, 9)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.validate_segment_map('no_such_map')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.validate_segment_map('rf_grid', 6)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.validate_segment_map(NULL)$$);

-- A user map with a gap (R3 F3) and an overlap (R1 F1..2 in two rules).
INSERT INTO personalize.segment_rules (map, segment, priority, r_min, r_max, f_min, f_max) VALUES
    ('my_grid', 'Cold', 1, 1, 2, 1, 5), ('my_grid', 'Very cold', 2, 1, 1, 1, 2),
    ('my_grid', 'Warm', 3, 3, 3, 1, 2), ('my_grid', 'Warm regular', 4, 3, 3, 4, 5),
    ('my_grid', 'Hot', 5, 4, 5, 1, 5);
SELECT * FROM personalize.validate_segment_map('my_grid');
-- Overlap: the rule with the lower priority value wins; gap: Others.
SELECT personalize.segment('my_grid', 1, 1) AS r1f1, personalize.segment('my_grid', 3, 3) AS r3f3;
-- On a 3-point scale the same map has only the overlap and the R3 F3 gap.
SELECT problem, r, f FROM personalize.validate_segment_map('my_grid', 3);
-- An ordered user map with m bounds: only its gaps are reported.
INSERT INTO personalize.segment_rules VALUES
    ('my_rfm', 'Big spenders', 1, 1, 5, 1, 5, 5, 5), ('my_rfm', 'Everyone else', 2, 1, 5, 1, 5, 1, 3);
SELECT problem, count(*) AS cells, min(m) AS m_min, max(m) AS m_max
FROM personalize.validate_segment_map('my_rfm') GROUP BY problem;

-- The CHECK constraints reject ranges outside 1..5, min > max and half-open m.
SELECT pg_temp.error_of($$INSERT INTO personalize.segment_rules VALUES ('bad', 'x', 1, 0, 2, 1, 5, NULL, NULL)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.segment_rules VALUES ('bad', 'x', 1, 1, 6, 1, 5, NULL, NULL)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.segment_rules VALUES ('bad', 'x', 1, 1, 5, 4, 2, NULL, NULL)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.segment_rules VALUES ('bad', 'x', 1, 1, 5, 1, 5, 3, NULL)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.segment_rules VALUES ('bad', 'x', 1, 1, 5, 1, 5, 4, 3)$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.segment_rules VALUES ('rf_grid', 'Champions', 1, 1, 5, 1, 5, NULL, NULL)$$);

-- pg_dump keeps the shop's maps, its edits of shipped maps and the history;
-- the shipped rules themselves come with the extension.
SELECT c.relname, e.extcondition[array_position(e.extconfig, c.oid)] AS dump_condition
FROM pg_extension e, pg_class c
WHERE e.extname = 'pg_personalize' AND c.oid = ANY (e.extconfig) AND c.relname LIKE 'segment%' ORDER BY c.relname;

-- Markings.
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'personalize'
  AND p.proname IN ('segment', 'validate_segment_map', 'snapshot_segments', 'segment_transitions',
                    'first_time_customers', 'lapsed_customers', 'recently_active_customers',
                    'high_value_customers', 'require_columns', 'check_cohort_args',
                    'customize_segment_map', 'segment_rules_edit', 'reset_segment_map')
ORDER BY p.proname;

-- Editing a shipped map copies it on the first edit (so pg_dump keeps the
-- edit); the shipped rules stay as shipped, and reset_segment_map() brings them back.
UPDATE personalize.segment_rules SET segment = 'Dormant' WHERE map = 'rf_grid' AND segment = 'Hibernating';
SELECT personalize.segment('rf_grid', 1, 1) AS edited, personalize.segment('rf_grid', 5, 5) AS others_kept;
SELECT (SELECT count(*) FROM personalize.segment_rules WHERE map = 'rf_grid') AS rules,
       (SELECT count(*) FROM personalize.segment_rules_custom WHERE map = 'rf_grid') AS copied,
       (SELECT segment FROM personalize.segment_rules_shipped WHERE map = 'rf_grid' AND priority = 1) AS shipped,
       (SELECT array_agg(map) FROM personalize.segment_maps_customized) AS customized;
-- A deleted rule of a shipped map stays deleted (the cells fall to 'Others').
DELETE FROM personalize.segment_rules WHERE map = 'rf_grid' AND segment = 'Champions';
SELECT personalize.segment('rf_grid', 5, 5) AS deleted_rule, count(*) AS rules
FROM personalize.segment_rules WHERE map = 'rf_grid';
SELECT personalize.reset_segment_map('rf_grid') AS removed_copy;
SELECT personalize.segment('rf_grid', 1, 1) AS shipped_again, personalize.segment('rf_grid', 5, 5) AS champions,
       (SELECT count(*) FROM personalize.segment_rules WHERE map = 'rf_grid') AS rules,
       (SELECT count(*) FROM personalize.segment_maps_customized) AS customized;
-- An insert into a shipped map copies it too; a failed edit copies nothing.
SELECT pg_temp.error_of($$INSERT INTO personalize.segment_rules VALUES ('rfm_rules', 'Lost', 1, 1, 5, 1, 5, 1, 5)$$);
SELECT count(*) AS customized FROM personalize.segment_maps_customized;
INSERT INTO personalize.segment_rules VALUES ('rfm_rules', 'Big Spenders', 0, 1, 5, 1, 5, 5, 5);
SELECT personalize.segment('rfm_rules', 1, 1, 5) AS added, count(*) AS rules
FROM personalize.segment_rules WHERE map = 'rfm_rules';
SELECT personalize.reset_segment_map('rfm_rules') AS removed_copy;
SELECT pg_temp.error_of($$SELECT personalize.reset_segment_map('my_grid')$$);
SELECT personalize.reset_segment_map(NULL) IS NULL AS null_map;

-- The demo shop.
SELECT * FROM personalize.load_demo_shop('seg_shop', 'tiny', 1);

-- Segment history: quintile scores of completed orders at two dates.
CREATE FUNCTION pg_temp.scores_at(as_of timestamptz)
    RETURNS TABLE (customer_id bigint, r integer, f integer, m integer) LANGUAGE sql AS $$
    SELECT customer_id,
           ntile(5) OVER (ORDER BY max(ordered_at), customer_id)::integer,
           ntile(5) OVER (ORDER BY count(*), customer_id)::integer,
           ntile(5) OVER (ORDER BY sum(total), customer_id)::integer
    FROM seg_shop.orders WHERE status = 'completed' AND ordered_at <= as_of GROUP BY customer_id
$$;
CREATE TEMP TABLE scores_mid AS SELECT * FROM pg_temp.scores_at('2025-07-01');
CREATE TEMP VIEW scores_end AS SELECT * FROM pg_temp.scores_at('2026-01-01');
SELECT (SELECT count(*) FROM scores_mid) AS customers_mid, (SELECT count(*) FROM scores_end) AS customers_end;

SELECT personalize.snapshot_segments('rf_grid', '2025-07-01', 'scores_mid') AS written_mid;
SELECT personalize.snapshot_segments('rf_grid', '2026-01-01', 'scores_end') AS written_end;
-- Snapshotting the same date again replaces it.
SELECT personalize.snapshot_segments('rf_grid', '2026-01-01', 'scores_end') AS written_again;
SELECT as_of, count(*) AS rows FROM personalize.segment_history WHERE map = 'rf_grid' GROUP BY as_of ORDER BY as_of;
-- Stored segments agree with segment() on the scores.
SELECT count(*) AS disagreeing
FROM personalize.segment_history h JOIN scores_mid s USING (customer_id)
WHERE h.map = 'rf_grid' AND h.as_of = '2025-07-01' AND h.segment IS DISTINCT FROM personalize.segment('rf_grid', s.r, s.f);
-- Another map's snapshot of the same date is separate.
SELECT personalize.snapshot_segments('rfm_rules', '2026-01-01', 'scores_end') AS written_rfm;

CREATE TEMP TABLE transitions AS SELECT * FROM personalize.segment_transitions('rf_grid', '2025-07-01', '2026-01-01');
SELECT * FROM transitions WHERE from_segment = 'Loyal Customers' OR from_segment IS NULL OR to_segment IS NULL;
-- Every customer counted once: the union of both snapshots.
SELECT sum(customers) AS customers_in_transitions,
       (SELECT count(*) FROM (SELECT customer_id FROM scores_mid UNION SELECT customer_id FROM scores_end) u) AS union_customers,
       sum(customers) FILTER (WHERE from_segment IS NULL) AS new_customers,
       (SELECT count(*) FROM scores_end e WHERE NOT EXISTS (SELECT 1 FROM scores_mid m WHERE m.customer_id = e.customer_id))
           AS new_by_hand,
       sum(customers) FILTER (WHERE to_segment IS NULL) AS gone
FROM transitions;
-- Loyal -> At Risk by hand.
SELECT (SELECT customers FROM transitions WHERE from_segment = 'Loyal Customers' AND to_segment = 'At Risk')
           IS NOT DISTINCT FROM
       (SELECT nullif(count(*), 0) FROM scores_mid a JOIN scores_end b USING (customer_id)
        WHERE a.r BETWEEN 3 AND 4 AND a.f BETWEEN 4 AND 5 AND b.r BETWEEN 1 AND 2 AND b.f BETWEEN 3 AND 4)
       AS loyal_to_at_risk_matches;
-- An empty scores table stores no rows, so there is no snapshot of that date.
CREATE TEMP TABLE no_scores (customer_id bigint, r int, f int, m int);
SELECT personalize.snapshot_segments('rf_grid', '2026-02-01', 'no_scores') AS written_empty;
SELECT pg_temp.error_of($$SELECT * FROM personalize.segment_transitions('rf_grid', '2026-01-01', '2026-02-01')$$);
-- Rows with a NULL r or f are skipped; customers missing on the later date are gone.
INSERT INTO no_scores VALUES (1, 5, 5, NULL), (2, NULL, 1, NULL);
SELECT personalize.snapshot_segments('rf_grid', '2026-02-01', 'no_scores') AS written_one_skipping_null_r;
SELECT sum(customers) FILTER (WHERE to_segment IS NULL) AS gone, sum(customers) FILTER (WHERE from_segment IS NULL) AS new
FROM personalize.segment_transitions('rf_grid', '2026-01-01', '2026-02-01');

SELECT pg_temp.error_of($$SELECT personalize.snapshot_segments('no_such_map', '2026-01-01', 'scores_end')$$);
SELECT pg_temp.error_of($$SELECT personalize.snapshot_segments('rf_grid', NULL, 'scores_end')$$);
SELECT pg_temp.error_of($$SELECT personalize.snapshot_segments('rf_grid', 'infinity', 'scores_end')$$);
SELECT pg_temp.error_of($$SELECT personalize.snapshot_segments('rf_grid', '2026-01-01', NULL)$$);
SELECT pg_temp.error_of($$SELECT personalize.snapshot_segments('rf_grid', '2026-01-01', 'seg_shop.orders')$$);
SELECT pg_temp.error_of($$SELECT personalize.snapshot_segments('rf_grid', '2026-01-01', 'no_such_table')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.segment_transitions('rf_grid', '2020-01-01', '2026-01-01')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.segment_transitions('rf_grid', '2026-01-01', NULL)$$);

-- Cohorts. First-timers: customers without a completed order.
SELECT count(*) AS first_time,
       (SELECT count(*) FROM (SELECT customer_id FROM seg_shop.customers
                              EXCEPT SELECT customer_id FROM seg_shop.orders WHERE status = 'completed') e) AS by_hand
FROM personalize.first_time_customers('seg_shop.customers', 'seg_shop.orders');
-- Some first-timers have only cancelled or returned orders.
SELECT count(*) AS first_timers_with_other_orders
FROM personalize.first_time_customers('seg_shop.customers', 'seg_shop.orders') t
WHERE EXISTS (SELECT 1 FROM seg_shop.orders o WHERE o.customer_id = t.customer_id);

-- Lapsed (90 days) and recently active (90 days) split the customers with
-- a completed order by 2026-01-01.
CREATE TEMP TABLE lapsed AS SELECT * FROM personalize.lapsed_customers('seg_shop.orders', '2026-01-01', 90);
CREATE TEMP TABLE active AS SELECT * FROM personalize.recently_active_customers('seg_shop.orders', '2026-01-01', 90);
SELECT (SELECT count(*) FROM lapsed) AS lapsed, (SELECT count(*) FROM active) AS active,
       (SELECT count(DISTINCT customer_id) FROM seg_shop.orders WHERE status = 'completed') AS buyers,
       (SELECT count(*) FROM lapsed JOIN active USING (customer_id)) AS in_both;
-- Lapsed by hand: last completed order on or before 2025-10-03 (90 days before 2026-01-01).
SELECT count(*) AS lapsed_by_hand
FROM (SELECT customer_id FROM seg_shop.orders WHERE status = 'completed'
      GROUP BY customer_id HAVING max(ordered_at) <= timestamptz '2026-01-01' - interval '90 days') l;
-- Typical gap by hand: each completed order and the next one, median per customer.
WITH nxt AS (
    SELECT a.customer_id,
           (SELECT min(b.ordered_at) FROM seg_shop.orders b
            WHERE b.customer_id = a.customer_id AND b.status = 'completed' AND b.ordered_at > a.ordered_at) - a.ordered_at AS gap
    FROM seg_shop.orders a WHERE a.status = 'completed'
), med AS (
    SELECT customer_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM gap) / 86400) AS gap_days
    FROM nxt WHERE gap IS NOT NULL GROUP BY customer_id
)
SELECT count(*) AS lapsed_rows,
       count(*) FILTER (WHERE l.typical_gap_days IS NULL) AS single_order,
       count(*) FILTER (WHERE l.typical_gap_days IS NULL AND m.gap_days IS NULL
                           OR abs(l.typical_gap_days - m.gap_days) < 1e-9) AS gap_matches,
       count(*) FILTER (WHERE l.overdue) AS overdue,
       count(*) FILTER (WHERE l.overdue IS NOT DISTINCT FROM
                              ((timestamptz '2026-01-01' - l.last_order_at) > 2 * m.gap_days * interval '1 day'))
           AS overdue_matches,
       count(*) FILTER (WHERE l.days_since_last_order < 90) AS too_recent
FROM lapsed l LEFT JOIN med m USING (customer_id);
SELECT * FROM lapsed WHERE overdue ORDER BY days_since_last_order DESC, customer_id LIMIT 3;
-- Recently active by hand.
SELECT count(*) AS active_by_hand,
       count(*) FILTER (WHERE a.orders_in_window = h.n AND a.spend_in_window = h.spend) AS matching
FROM (SELECT customer_id, count(*) AS n, sum(total) AS spend FROM seg_shop.orders
      WHERE status = 'completed' AND ordered_at > timestamptz '2026-01-01' - interval '90 days'
        AND ordered_at <= '2026-01-01'
      GROUP BY customer_id) h
LEFT JOIN active a USING (customer_id);
-- As of an earlier date, later orders do not count.
SELECT count(*) AS active_mid_2025,
       (SELECT count(DISTINCT customer_id) FROM seg_shop.orders
        WHERE status = 'completed' AND ordered_at > '2025-06-01' AND ordered_at <= '2025-07-01') AS by_hand
FROM personalize.recently_active_customers('seg_shop.orders', '2025-07-01', 30);

-- High value: the top 10 % by completed spend.
CREATE TEMP TABLE high AS SELECT * FROM personalize.high_value_customers('seg_shop.orders', '2026-01-01');
SELECT count(*) AS high_value, min(total_spend) AS threshold,
       (SELECT ceil(count(DISTINCT customer_id) * 0.1) FROM seg_shop.orders WHERE status = 'completed') AS expected_rows,
       (SELECT count(*) FROM (SELECT customer_id FROM seg_shop.orders WHERE status = 'completed'
                              GROUP BY customer_id HAVING sum(total) > (SELECT min(total_spend) FROM high)) x)
           AS spending_more_than_threshold
FROM high;
SELECT count(*) AS spend_mismatches
FROM high h JOIN (SELECT customer_id, sum(total) AS spend, count(*) AS n FROM seg_shop.orders
                  WHERE status = 'completed' GROUP BY customer_id) s USING (customer_id)
WHERE h.total_spend <> s.spend OR h.completed_orders <> s.n;
SELECT (SELECT count(*) FROM personalize.high_value_customers('seg_shop.orders', '2026-01-01', 1)) AS all_buyers,
       (SELECT count(*) FROM personalize.high_value_customers('seg_shop.orders', '2026-01-01', 1e-9)) AS at_least_one;

-- Bad arguments.
SELECT pg_temp.error_of($$SELECT * FROM personalize.lapsed_customers('seg_shop.orders', '2026-01-01', 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.lapsed_customers('seg_shop.orders', '2026-01-01', NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.lapsed_customers('seg_shop.orders', NULL, 30)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.lapsed_customers('seg_shop.orders', 'infinity', 30)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.lapsed_customers('seg_shop.customers', '2026-01-01', 30)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_active_customers('seg_shop.orders', '2026-01-01', -5)$$);
-- The largest integer window is refused by name, not an interval overflow (22008).
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_active_customers('seg_shop.orders', '2026-01-01', 2147483647)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.lapsed_customers('seg_shop.orders', '2026-01-01', 2147483647)$$);
-- The longest allowed window (100 years) answers.
SELECT count(*) FROM personalize.recently_active_customers('seg_shop.orders', '2026-01-01', 36500);
SELECT pg_temp.error_of($$SELECT * FROM personalize.recently_active_customers(NULL, '2026-01-01', 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.high_value_customers('seg_shop.orders', '2026-01-01', 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.high_value_customers('seg_shop.orders', '2026-01-01', 1.5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.high_value_customers('seg_shop.orders', '2026-01-01', 'NaN')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.first_time_customers('seg_shop.orders', 'seg_shop.customers')$$);

-- Identifiers are quoted.
CREATE SCHEMA "Seg Shop";
CREATE TABLE "Seg Shop"."Orders" AS SELECT * FROM seg_shop.orders;
SELECT count(*) = (SELECT count(*) FROM active) AS quoted_name_works
FROM personalize.recently_active_customers('"Seg Shop"."Orders"', '2026-01-01', 90);

DROP SCHEMA "Seg Shop" CASCADE;
DROP SCHEMA seg_shop CASCADE;
DELETE FROM personalize.segment_history;
DELETE FROM personalize.segment_rules WHERE map IN ('my_grid', 'my_rfm');

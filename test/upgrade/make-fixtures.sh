#!/usr/bin/env bash
# Usage: test/upgrade/make-fixtures.sh [BUILD_DIR]
#
# Regenerates test/upgrade/fixtures/ with the released 0.1.0 library, so that
# test/upgrade/run.sh can prove that values written by 0.1.0 (not only by this
# library serving the 0.1.0 catalog) survive ALTER EXTENSION ... UPDATE and a
# dump and restore. Not run by CI: building 0.1.0 takes minutes.
#   fixtures/values-0.1.0.bin   binary COPY of (name, baskets, model): the
#                               values' stored bytes (0.1.0's send = its
#                               stored form), two rows
#   fixtures/values-0.1.0.txt   text COPY of the same rows
#   fixtures/answers-0.1.0.txt  what 0.1.0 answered over them (value_answers.sql)
# BUILD_DIR (default /tmp/pg_personalize-0.1.0) gets the 0.1.0 tree (commit
# 9e068cb, the last 0.1.0 commit, old flat layout) and its build when it has
# none yet. Run value_answers.sql changes through here too: the answers of
# 0.1.0 are recomputed from the same values.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = "--inside-cluster" ]; then  # second stage, under 0.1.0's with-temp-cluster.sh
    cd "$here"
    psql -qX -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pg_personalize;
DO $$ BEGIN
    IF personalize.version() <> '0.1.0' THEN
        RAISE EXCEPTION 'expected the 0.1.0 library, got %', personalize.version();
    END IF;
END $$;
SELECT count(*) FROM personalize.load_demo_shop('shop', 'tiny', 42);
-- Two rows: a slice of the demo shop (ALS by conjugate gradient), and a
-- hand-made one (the array form of baskets(), ALS by Cholesky).
CREATE TABLE fixture_values (name text PRIMARY KEY, baskets personalize.baskets, model personalize.als_model);
INSERT INTO fixture_values
SELECT 'shop',
       (SELECT personalize.baskets(order_id, product_id) FROM shop.order_lines WHERE order_id <= 25),
       (SELECT personalize.als_fit(o.customer_id, l.product_id, 1.0, 4, 10, 0.05, 5.0, 42)
        FROM shop.orders o JOIN shop.order_lines l USING (order_id)
        WHERE o.customer_id <= 8 AND l.product_id <= 24 AND o.status = 'completed');
INSERT INTO fixture_values
SELECT 'small',
       (SELECT personalize.baskets(id, items)
        FROM (VALUES (1, '{10,20}'::bigint[]), (2, '{10,30}'), (3, '{10,20,30}'), (3, '{40}'), (9, '{20,40}')) b(id, items)),
       (SELECT personalize.als_fit(c, i, s, 2, 5, 0.1, 2.0, 7, 'cholesky')
        FROM (VALUES (1, 10, 1.0), (1, 20, 2.0), (2, 10, 1.0), (2, 30, 1.0), (3, 20, 3.0), (3, 40, 1.0),
                     (4, 30, 1.0), (4, 40, 2.0)) t(c, i, s));
\copy fixture_values TO 'fixtures/values-0.1.0.bin' WITH (FORMAT binary)
\copy fixture_values TO 'fixtures/values-0.1.0.txt'

CREATE SCHEMA upgrade_check;
CREATE TABLE upgrade_check.answers (phase text NOT NULL DEFAULT current_setting('upgrade_check.phase'),
                                    source text NOT NULL, name text NOT NULL, answer text,
                                    PRIMARY KEY (phase, source, name));
SET upgrade_check.phase = '0.1.0';
SET extra_float_digits = 1;
\set values fixture_values
\set source '0.1.0 library'
\i value_answers.sql
\copy (SELECT name, answer FROM upgrade_check.answers ORDER BY name) TO 'fixtures/answers-0.1.0.txt'
SQL
    exit
fi

build=${1:-/tmp/pg_personalize-0.1.0}
pg_config=/usr/lib/postgresql/15/bin/pg_config
if [ ! -f "$build/pg_personalize.so" ]; then
    mkdir -p "$build"
    git -C "$here" archive 9e068cb | tar -x -C "$build"
    make -s -C "$build" -j2 PG_CONFIG="$pg_config"
fi
mkdir -p "$here/fixtures"
"$build/scripts/with-temp-cluster.sh" "$here/make-fixtures.sh" --inside-cluster
ls -l "$here/fixtures"

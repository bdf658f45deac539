#!/usr/bin/env bash
# Per pillar (basket mining, summary + lifetime fit, k-means, propensity
# fit): wall time on a Citus 13.0.5 cluster (coordinator + 2 workers on
# loopback) against the same PostgreSQL on one node (local tables of the
# coordinator), and the bytes the workers send to the coordinator against the
# bytes a pull of the input rows would move. Prints Markdown tables.
#
# Bytes, exact: Citus receives the partial states in text form, one row per
# shard (worker_partial_agg's final function is the state type's output
# function), so the bytes moved are the sum over the 32 shards of
# octet_length(state::text), computed on each shard with run_command_on_shards
# and an aggregate that has the same transition function and state type but
# no final function. The input rows' bytes are what libpq would carry for
# `SELECT <input columns> FROM <table>`: the sum of the text lengths of the
# columns. Citus's own EXPLAIN ANALYZE "Tuple data received from nodes" is
# no alternative: it is rounded by pg_size_pretty, and on these plans Citus
# 13.0.5 fails ('column "field_0" has pseudo-type cstring': EXPLAIN ANALYZE
# re-plans the worker query that returns worker_partial_agg's cstring).
#
# Where the time goes: the worker phase is timed alone (the same per-shard
# partial states through run_command_on_shards, every shard at once, only
# their sizes returned); the rest of the distributed time is the
# coordinator's (receiving, parsing and combining the states, the final
# function: mining, the fit's optimisation, the k-means iterations).
#
# The cluster start-up is test/citus/run.sh's (same settings).
# Usage: test/bench/citus.sh [SIZE [RUNS]]   (SIZE demo or bench, default demo;
# RUNS per query, median reported, default 3)
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
size=${1:-demo}
runs=${2:-3}
[ -d "$repo/../shared" ] || { echo "SKIP: $repo/../shared is absent (it holds the Citus source)"; exit 0; }
pg_bin=/usr/lib/postgresql/15/bin
pg_config=$pg_bin/pg_config
libdir=$("$pg_config" --pkglibdir)
citus_stage=$("$repo/test/citus/build-citus.sh") || { echo "citus build failed"; exit 1; }
work=$(mktemp -d -t pg_personalize_citus_bench.XXXXXX)
chmod 755 "$work"
runas=()
if [ "$(id -u)" = 0 ]; then runas=(runuser -u postgres --); fi
ports=()
cleanup() {
    for i in 0 1 2; do
        [ -f "$work/data$i/postmaster.pid" ] && "${runas[@]}" "$pg_bin/pg_ctl" -D "$work/data$i" -m immediate stop >/dev/null 2>&1
    done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/stage"
cp -a "$citus_stage/usr" "$work/stage/"
make -s -C "$repo" PG_CONFIG="$pg_config" install DESTDIR="$work/stage" >/dev/null || { echo "make install failed"; exit 1; }
chmod -R a+rX "$work/stage"
mkdir -p "$work/sock"
[ ${#runas[@]} -gt 0 ] && chown postgres "$work/sock"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && [ ! -e "/var/run/postgresql/.s.PGSQL.$1" ]; }
for i in 0 1 2; do
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 20000))
        port_free "$p" && break
    done
    ports[$i]=$p
    mkdir -p "$work/data$i"
    [ ${#runas[@]} -gt 0 ] && chown postgres "$work/data$i"
    "${runas[@]}" "$pg_bin/initdb" -D "$work/data$i" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb$i.log" 2>&1 ||
        { echo "initdb failed: $(tail -2 "$work/initdb$i.log")"; exit 1; }
    cat >>"$work/data$i/postgresql.conf" <<CONF
port = $p
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work/sock'
shared_preload_libraries = 'citus'
extension_destdir = '$work/stage'
dynamic_library_path = '$work/stage$libdir:$libdir'
max_connections = 60
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
citus.max_cached_conns_per_worker = 2
citus.enable_version_checks = off
personalize.memory_limit = '2GB'
max_parallel_workers_per_gather = 0
TimeZone = 'UTC'
CONF
    "${runas[@]}" "$pg_bin/pg_ctl" -D "$work/data$i" -l "$work/data$i/server.log" -w start >/dev/null ||
        { echo "start node $i failed: $(tail -3 "$work/data$i/server.log")"; exit 1; }
done
q() { local node=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${ports[$node]}" -U postgres -d postgres "$@"; }
v() { local node=$1; shift; q "$node" -At "$@"; }
for i in 0 1 2; do v "$i" -c "CREATE EXTENSION citus" >/dev/null || exit 1; done
v 0 -c "SELECT citus_set_coordinator_host('localhost', ${ports[0]})" >/dev/null &&
    v 0 -c "SELECT citus_add_node('localhost', ${ports[1]})" -c "SELECT citus_add_node('localhost', ${ports[2]})" >/dev/null || exit 1
v 0 -c "CREATE EXTENSION pg_personalize" >/dev/null || exit 1
# The state-only aggregates (no final function), on every node.
for i in 0 1 2; do
    q "$i" <<'SQL' || exit 1
SET citus.enable_ddl_propagation = off;
CREATE AGGREGATE public.baskets_state(bigint, bigint) (SFUNC = personalize.baskets_transfn, STYPE = personalize.aggregate_state);
CREATE AGGREGATE public.bgnbd_state(float8, float8, float8) (SFUNC = personalize.bgnbd_fit_transfn, STYPE = personalize.aggregate_state);
CREATE AGGREGATE public.kmeans_state(float8[], integer, bigint, text) (SFUNC = personalize.kmeans_transfn, STYPE = personalize.aggregate_state);
CREATE AGGREGATE public.logistic_state(boolean, float8[]) (SFUNC = personalize.logistic_fit_transfn, STYPE = personalize.aggregate_state);
SQL
done

load_start=$(date +%s.%N)
q 0 >"$work/load.log" 2>&1 <<SQL || { echo "loading failed: $(grep -m2 ERROR "$work/load.log")"; exit 1; }
SET client_min_messages = warning;
SELECT count(*) FROM personalize.load_demo_shop('shop', '$size', 42);
CREATE TABLE shop.summary AS
SELECT customer_id, (personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 day', 'UTC')).*
FROM shop.orders WHERE status <> 'cancelled' GROUP BY customer_id;
ANALYZE shop.summary;
CREATE SCHEMA dist;
CREATE TABLE dist.customers (LIKE shop.customers);
CREATE TABLE dist.orders (LIKE shop.orders);
CREATE TABLE dist.order_lines (LIKE shop.order_lines);
CREATE TABLE dist.summary (LIKE shop.summary);
SELECT create_distributed_table('dist.customers', 'customer_id');
SELECT create_distributed_table('dist.orders', 'customer_id', colocate_with => 'dist.customers');
SELECT create_distributed_table('dist.summary', 'customer_id', colocate_with => 'dist.customers');
SELECT create_distributed_table('dist.order_lines', 'order_id');
INSERT INTO dist.customers SELECT * FROM shop.customers;
INSERT INTO dist.orders SELECT * FROM shop.orders;
INSERT INTO dist.order_lines SELECT * FROM shop.order_lines;
INSERT INTO dist.summary SELECT * FROM shop.summary;
ANALYZE dist.customers; ANALYZE dist.orders; ANALYZE dist.order_lines; ANALYZE dist.summary;
SQL
load_s=$(echo "$(date +%s.%N) - $load_start" | bc)

lines=$(v 0 -c "SELECT count(*) FROM shop.order_lines")
orders=$(v 0 -c "SELECT count(*) FROM shop.orders WHERE status <> 'cancelled'")
customers=$(v 0 -c "SELECT count(*) FROM shop.summary")
shards=$(v 0 -c "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'dist.orders'::regclass")

# Median wall time in ms of a query, run $runs times in one session.
timed() {  # sql
    local out
    local args=() i
    for i in $(seq "$runs"); do args+=(-c "$1"); done
    out=$(psql -X -At -h 127.0.0.1 -p "${ports[0]}" -U postgres -d postgres -c "SET client_min_messages = error" -c '\timing on' "${args[@]}" 2>&1 |
          grep '^Time:' | awk '{print $2}' | sort -n)
    [ -n "$out" ] || { echo "ERR"; return; }
    awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.0f", m}' <<<"$out"
}
# The answer, to check that local and distributed agree.
answer() { v 0 -c "SET client_min_messages = error" -c "$1" 2>&1 | md5sum | cut -c1-8; }
# Exact bytes of the partial states: one per shard of the table, as text.
state_bytes() {  # table (for the shards), per-shard SQL with %s for the shard
    v 0 -c "SELECT sum(result::bigint) FROM run_command_on_shards('$1', \$q\$$2\$q\$) WHERE success"
}
pull_bytes() { v 0 -c "SELECT sum($2) FROM $1"; }
fmt() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/;ta'; }

# pillar | query with S for the schema | shards' table | per-shard state bytes SQL | input table | input text length expression | input rows
pillars=(
"basket mining: baskets + association_rules(min_count 20)|SELECT count(*), md5(string_agg(r::text, ',' ORDER BY r::text)) FROM personalize.association_rules((SELECT personalize.baskets(order_id, product_id) FROM S.order_lines), min_count => 20) r|dist.order_lines|SELECT coalesce(octet_length(public.baskets_state(order_id, product_id)::text), 0) FROM %s|dist.order_lines|octet_length(order_id::text) + octet_length(product_id::text)|$lines order lines"
"summary + lifetime fit: customer_summary GROUP BY customer_id, bgnbd_fit over it|SELECT public.r6(personalize.bgnbd_fit(frequency, recency, age)) FROM (SELECT customer_id, (personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 day', 'UTC')).* FROM S.orders WHERE status <> 'cancelled' GROUP BY customer_id) s|dist.orders|SELECT coalesce(octet_length(public.bgnbd_state(frequency, recency, age)::text), 0) FROM (SELECT customer_id, (personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 day', 'UTC')).* FROM %s WHERE status <> 'cancelled' GROUP BY customer_id) s|dist.orders WHERE status <> 'cancelled'|octet_length(customer_id::text) + octet_length(ordered_at::text) + octet_length(total::text)|$orders orders"
"lifetime fit alone: bgnbd_fit over the summary table|SELECT public.r6(personalize.bgnbd_fit(frequency, recency, age)) FROM S.summary|dist.summary|SELECT coalesce(octet_length(public.bgnbd_state(frequency, recency, age)::text), 0) FROM %s|dist.summary|octet_length(frequency::text) + octet_length(recency::text) + octet_length(age::text)|$customers customers"
"k-means: kmeans(ARRAY[f, r, m], 8, 42, 'zscore')|SELECT public.r6(personalize.kmeans(ARRAY[frequency::float8, recency, monetary], 8, 42, 'zscore')) FROM S.summary|dist.summary|SELECT coalesce(octet_length(public.kmeans_state(ARRAY[frequency::float8, recency, monetary], 8, 42, 'zscore')::text), 0) FROM %s|dist.summary|octet_length(ARRAY[frequency::float8, recency, monetary]::text)|$customers customers"
"propensity fit: logistic_fit(frequency > 1, ARRAY[recency, age])|SELECT public.r6(personalize.logistic_fit(frequency > 1, ARRAY[recency, age])) FROM S.summary|dist.summary|SELECT coalesce(octet_length(public.logistic_state(frequency > 1, ARRAY[recency, age])::text), 0) FROM %s|dist.summary|octet_length((frequency > 1)::text) + octet_length(ARRAY[recency, age]::text)|$customers customers"
)
q 0 <<'SQL' || exit 1
CREATE FUNCTION public.r6(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE jsonb_typeof(j)
        WHEN 'number' THEN to_jsonb(CASE WHEN j::text::float8 = 0 THEN 0::float8
                                        ELSE round(j::text::float8::numeric, 5 - floor(log(abs(j::text::float8::numeric)))::int)::float8 END)
        WHEN 'array' THEN (SELECT coalesce(jsonb_agg(public.r6(e) ORDER BY o), '[]') FROM jsonb_array_elements(j) WITH ORDINALITY a(e, o))
        WHEN 'object' THEN (SELECT coalesce(jsonb_object_agg(k, public.r6(e)), '{}') FROM jsonb_each(j) b(k, e))
        ELSE j END $$;
SQL

echo "Citus $(v 0 -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'"), PostgreSQL $(v 0 -c "SHOW server_version"), coordinator + 2 workers on loopback, $(nproc) cores shared by all three; '$size' shop: $(fmt "$lines") order lines, $(fmt "$orders") orders (not cancelled), $(fmt "$customers") customers; $shards shards per table; load + distribute ${load_s%.*} s; median of $runs runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| pillar | input | one node (ms) | distributed (ms) | distributed / one node | of which worker phase (ms) | same answer | bytes to the coordinator (partial states, exact) | input rows as text (bytes) | states / rows |"
echo "|---|---|---|---|---|---|---|---|---|---|"
csv=()
for p in "${pillars[@]}"; do
    IFS='|' read -r name sql shard_table state_sql input_table input_len input <<<"$p"
    local_sql=${sql//S./shop.}
    dist_sql=${sql//S./dist.}
    t_local=$(timed "$local_sql")
    t_dist=$(timed "$dist_sql")
    t_work=$(timed "SELECT sum(result::bigint) FROM run_command_on_shards('$shard_table', \$q\$$state_sql\$q\$) WHERE success")
    same=no
    [ "$(answer "$local_sql")" = "$(answer "$dist_sql")" ] && same=yes
    sb=$(state_bytes "$shard_table" "$state_sql")
    ib=$(pull_bytes "$input_table" "$input_len")
    ratio=$(echo "scale=2; $t_dist / $t_local" | bc | sed "s/^\./0./")
    bratio=$(echo "scale=3; $sb / $ib" | bc | sed "s/^\./0./")
    n=${input%% *}
    echo "| $name | $(fmt "$n") ${input#* } | $t_local | $t_dist | $ratio | $t_work | $same | $(fmt "$sb") | $(fmt "$ib") | $bratio |"
    csv+=("$name|$n|$t_local|$t_dist|$t_work|$sb")
done
echo
echo "Throughput and bytes per input row (for the capacity plan in docs/distributed.md):"
echo
echo "| pillar | rows/s one node (one backend) | rows/s distributed (2 workers, whole machine) | rows/s per worker in the worker phase (rows / worker phase / 2) | coordinator ms per million input rows ((distributed - worker phase) / rows) | state bytes per input row |"
echo "|---|---|---|---|---|---|"
for c in "${csv[@]}"; do
    IFS='|' read -r name n tl td tw sb <<<"$c"
    echo "| $name | $(fmt "$(echo "$n * 1000 / $tl" | bc)") | $(fmt "$(echo "$n * 1000 / $td" | bc)") | $(fmt "$(echo "$n * 500 / $tw" | bc)") | $(echo "($td - $tw) * 1000000 / $n" | bc) | $(echo "scale=1; $sb / $n" | bc | sed "s/^\./0./") |"
done

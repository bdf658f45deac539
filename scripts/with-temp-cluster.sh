#!/usr/bin/env bash
# Usage: scripts/with-temp-cluster.sh COMMAND [ARG...]
#
# Runs COMMAND against a throwaway PostgreSQL 15 cluster on a free loopback
# port, with the freshly built pg_personalize available to CREATE EXTENSION,
# and always removes the cluster afterwards. Works as root (the server then
# runs as the "postgres" user) and as a normal user; neither needs to install
# anything system-wide: the extension is staged in a private directory that
# Debian's server reads through `extension_destdir`.
# COMMAND sees PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.
#
# --stock (first argument): leave work_mem and maintenance_work_mem at the
# server's defaults (4 MB, 64 MB), as on a stock server. The pg_regress suite
# runs this way in scripts/test.sh, so no test leans on a generous work_mem
# (the default personalize.memory_limit derives from it). Without --stock the
# cluster gets work_mem 64MB and maintenance_work_mem 512MB, for the
# benchmarks and the validations on real datasets.
set -euo pipefail
memory=(-o "work_mem=64MB" -o "maintenance_work_mem=512MB")
if [ "${1:-}" = "--stock" ]; then
    memory=()
    shift
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
pg_version=15
pg_config=/usr/lib/postgresql/$pg_version/bin/pg_config

stage=$(mktemp -d -t pg_personalize_stage.XXXXXX)
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"  # the server, maybe another user, must read it
make -s -C "$repo" PG_CONFIG="$pg_config" install DESTDIR="$stage" >/dev/null

libdir=$("$pg_config" --pkglibdir)
# pg_cron, when installed, is preloaded so the refresh recipe can be tested;
# its jobs run in background workers (no password needed).
cron=()
if [ -f "$libdir/pg_cron.so" ]; then
    cron=(-o "shared_preload_libraries=pg_cron" -o "cron.database_name=postgres" -o "cron.use_background_workers=on")
fi
# A random free port: pg_virtualenv's own choice (the lowest free port from
# 5432) collides when several runs start at once, since each -t cluster only
# sees itself ("Port conflict: another instance is already running").
port_free() { [ ! -e "/var/run/postgresql/.s.PGSQL.$1" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 50); do
    PGPORT=$((20000 + RANDOM % 20000))
    port_free "$PGPORT" && break
done
export PGPORT
# -t keeps the cluster in a private temporary directory even as root, so two
# runs never collide.
pg_virtualenv -t -v "$pg_version" \
    -o "extension_destdir=$stage" \
    -o "dynamic_library_path=$stage$libdir:$libdir" \
    -o "max_worker_processes=8" -o "max_parallel_workers=4" \
    -o "shared_buffers=512MB" "${memory[@]}" \
    -o "max_wal_size=4GB" -o "wal_level=minimal" -o "max_wal_senders=0" \
    "${cron[@]}" -- "$@"

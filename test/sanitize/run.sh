#!/usr/bin/env bash
# Usage: test/sanitize/run.sh
# The pg_regress suite against pg_personalize built with AddressSanitizer and
# UndefinedBehaviorSanitizer (docs/hardening.md). The unit tests under the
# sanitizers see src/core alone; this sees the glue, the error boundary and
# the memory-context callbacks inside a real server. The extension is built
# from a copy of the tree (the normal build stays as it is), staged privately
# (extension_destdir), and loaded into a throwaway server started with the
# ASan runtime preloaded, as an instrumented shared library needs; leak
# detection is off (the server does not free at exit). Every sanitizer report
# is a failure. Prints one PASS/FAIL line per regress file and one for the
# reports. Runs as root (the server as "postgres") or as a normal user.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
pg_bin=/usr/lib/postgresql/15/bin
pg_config=$pg_bin/pg_config
jobs=$(nproc 2>/dev/null || echo 2)
work=$(mktemp -d -t pg_personalize_sanitize.XXXXXX)
server_pid_file=
cleanup() {
    [ -n "$server_pid_file" ] && [ -f "$server_pid_file" ] && as_server "$pg_bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"

# The server may not run as root: as root it runs as "postgres".
as_server() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

libasan=$(gcc -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
    echo "FAIL sanitizers: gcc's libasan.so not found (Debian package libasan8, pulled in by g++)"
    exit 0
fi

# 1. Build a copy of the tree with the sanitizers. SANITIZE_BUILD_DIR keeps
# the copy between runs (cp -u: only changed files, so make rebuilds only
# what changed); by default it is thrown away.
src=${SANITIZE_BUILD_DIR:-$work/src}
mkdir -p "$src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp -u --parents -t "$src")
# -O1: the instrumented build takes half the time of -O2 and still inlines
# enough for realistic stack frames.
flags="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize=vptr"
if ! make -s -C "$src" -j "$jobs" PG_CONFIG="$pg_config" \
        EXTRA_CXXFLAGS="$flags" EXTRA_LDFLAGS="-fsanitize=address,undefined" >"$work/build.log" 2>&1; then
    tail -30 "$work/build.log"
    echo "FAIL sanitizers: the instrumented build failed"
    exit 0
fi
mkdir "$work/stage"
make -s -C "$src" PG_CONFIG="$pg_config" install DESTDIR="$work/stage" >/dev/null
libdir=$("$pg_config" --pkglibdir)

# 2. A throwaway server with the runtime preloaded (and no_nls.so after it:
# the gettext lock hang, see there); reports go to files.
mkdir "$work/reports" "$work/socket" "$work/log"
gcc -shared -fPIC -O2 -o "$work/no_nls.so" "$repo/test/sanitize/no_nls.c" ||
    { echo "FAIL sanitizers: test/sanitize/no_nls.c did not build"; exit 0; }
chmod 755 "$work/no_nls.so"
mkdir "$work/data" && chmod 700 "$work/data"
[ "$(id -u)" -eq 0 ] && chown postgres "$work/reports" "$work/socket" "$work/data" "$work/log" && chown -R postgres "$work/stage"
as_server "$pg_bin/initdb" -D "$work/data" -U postgres --auth=trust >"$work/initdb.log" 2>&1 ||
    { cat "$work/initdb.log"; echo "FAIL sanitizers: initdb failed"; exit 0; }
port_free() { [ ! -e "/var/run/postgresql/.s.PGSQL.$1" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 50); do
    port=$((20000 + RANDOM % 20000))
    port_free "$port" && break
done
# pg_cron, when installed, is preloaded as scripts/with-temp-cluster.sh does.
cron=
[ -f "$libdir/pg_cron.so" ] && cron="-c shared_preload_libraries=pg_cron -c cron.database_name=postgres -c cron.use_background_workers=on"
server_pid_file="$work/data/postmaster.pid"
# detect_leaks=0: the server exits without freeing; halt_on_error=0 with
# log_path: every report is written and counted below, and the run goes on.
# abort_on_error=0 and UBSan's default recovery keep one report from
# taking the rest of the suite down with it.
if ! as_server env LD_PRELOAD="$libasan $work/no_nls.so" \
        ASAN_OPTIONS="detect_leaks=0:log_path=$work/reports/asan:halt_on_error=0:abort_on_error=0:detect_odr_violation=0" \
        UBSAN_OPTIONS="print_stacktrace=1:log_path=$work/reports/ubsan" \
        "$pg_bin/pg_ctl" -D "$work/data" -l "$work/log/server.log" -w -t 120 \
        -o "-c port=$port -c listen_addresses='' -c unix_socket_directories=$work/socket" \
        -o "-c extension_destdir=$work/stage -c dynamic_library_path=$work/stage$libdir:$libdir" \
        -o "-c max_worker_processes=8 -c max_parallel_workers=4 -c shared_buffers=256MB -c fsync=off $cron" \
        start >"$work/start.log" 2>&1; then
    cat "$work/start.log" "$work/log/server.log" 2>/dev/null | tail -30
    echo "FAIL sanitizers: the server with the ASan runtime did not start"
    exit 0
fi

# 3. The suite (the stock work_mem, as scripts/test.sh runs it).
export PGHOST="$work/socket" PGPORT="$port" PGUSER=postgres
rm -rf "$src/test/results" "$src/test/regression.diffs"
make -s -C "$src" PG_CONFIG="$pg_config" installcheck >"$work/regress.log" 2>&1
sed -nE 's/^(ok|not ok|test)? *[0-9]* *-? *([a-z0-9_]+) +\.\.\. +(ok|FAILED).*/\3 \2/p' "$work/regress.log" |
    while read -r result name; do
        if [ "$result" = ok ]; then echo "PASS sanitized regress $name"; else echo "FAIL sanitized regress $name"; fi
    done
[ -f "$src/test/regression.diffs" ] && head -100 "$src/test/regression.diffs"
grep -qE '\.\.\. +(ok|FAILED)' "$work/regress.log" || { tail -40 "$work/regress.log"; echo "FAIL sanitized regress: no result"; }

# 4. Every report is a failure; a crashed backend shows in the server log.
as_server "$pg_bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1
server_pid_file=
reports=$(find "$work/reports" -type f | sort)
if [ -n "$reports" ]; then
    for f in $reports; do
        echo "FAIL sanitizer report $(basename "$f"): $(grep -m1 -E 'ERROR|runtime error' "$f")"
        head -40 "$f"
    done
elif grep -qE 'terminated by signal|was terminated' "$work/log/server.log"; then
    grep -E 'terminated by signal|was terminated' "$work/log/server.log" | head -5
    echo "FAIL sanitizers: a backend died (server log above)"
else
    echo "PASS sanitizers: no AddressSanitizer or UndefinedBehaviorSanitizer report from the suite"
fi

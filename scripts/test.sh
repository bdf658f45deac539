#!/usr/bin/env bash
# Runs every test of pg_personalize and ends with "N passed, M failed":
#   1. C++ unit tests of src/core (GoogleTest under ctest);
#   2. the pg_regress suite (test/sql/*.sql) against a throwaway PostgreSQL 15,
#      then the integration checks, the hostile-input test (test/hostile/run.sh),
#      the upgrade from 0.1.0 (ALTER EXTENSION ... UPDATE, pg_dump/pg_restore;
#      test/upgrade/run.sh) and the load and fault test (test/load/run.sh) on
#      such clusters; a Citus cluster (test/citus/run.sh, when ../shared has
#      the Citus source);
#   3. when ../shared/data exists: validations against published numbers;
#   4. the storefront's browser test (examples/storefront/test.sh: headless
#      chromium through the five use cases) and the campaign export test
#      (examples/campaign/test.sh), each on its own throwaway cluster;
#   5. the fuzzers of the offer rule language and of the byte format (libFuzzer,
#      ASan + UBSan), 60 s in all (FUZZ_SECONDS), each counted; skipped with a
#      message when clang or its fuzzer runtime is missing.
# Installs missing Debian packages first (apt-get; sudo when not root).
# Options: --sanitize  also build and run the unit tests with ASan + UBSan, and
#                      the pg_regress suite against the extension built with
#                      them (test/sanitize/run.sh).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
pg_config=/usr/lib/postgresql/15/bin/pg_config
jobs=$(nproc 2>/dev/null || echo 2)
sanitize=0
[ "${1:-}" = "--sanitize" ] && sanitize=1

passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
# Each header says how far into the run it starts, so slow parts show.
section() { printf '\n== %s == (at %d s)\n' "$*" "$SECONDS"; }
log_dir=$(mktemp -d -t pg_personalize_test.XXXXXX)
trap 'rm -rf "$log_dir"' EXIT

scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

# Runs ctest in build dir $1 and adds its counts ("N% tests passed, F tests failed out of T").
unit_tests() {
    local dir=$1 flags=$2
    if ! { cmake -S . -B "$dir" $flags >"$log_dir/cmake.log" 2>&1 &&
           cmake --build "$dir" -j "$jobs" >>"$log_dir/cmake.log" 2>&1; }; then
        tail -40 "$log_dir/cmake.log"
        echo "unit test build FAILED"
        count 0 1
        return
    fi
    (cd "$dir" && ctest --output-on-failure -j "$jobs") | tee "$log_dir/ctest.log" | grep -vE '^\s*(Start|[0-9]+/[0-9]+ Test)'
    local line total bad
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log_dir/ctest.log" | tail -1)
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    if [ -z "$line" ]; then count 0 1; else count $((total - bad)) "$bad"; fi
}

section "unit tests (src/core)"
unit_tests build "-DCMAKE_BUILD_TYPE=RelWithDebInfo"
if [ $sanitize -eq 1 ]; then
    section "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
    unit_tests build-sanitize "-DCMAKE_BUILD_TYPE=Debug -DPERSONALIZE_SANITIZE=ON -DPERSONALIZE_BENCHMARKS=OFF"
fi

section "extension build"
if ! make -s -j "$jobs" PG_CONFIG="$pg_config" >"$log_dir/make.log" 2>&1; then
    cat "$log_dir/make.log"
    echo "extension build FAILED"
    count 0 1
    echo
    echo "$passed passed, $failed failed"
    exit 1
fi
grep -E 'warning|error' "$log_dir/make.log" || echo "built pg_personalize.so"

# pg_regress prints "test NAME ... ok" / "... FAILED" per file.
# On a cluster with the stock work_mem (4MB): each test file sets what it needs.
section "pg_regress (test/sql/*.sql, stock work_mem)"
rm -rf test/results test/regression.diffs test/regression.out
scripts/with-temp-cluster.sh --stock make -s PG_CONFIG="$pg_config" installcheck >"$log_dir/regress.log" 2>&1
grep -E '^(test|ok|not ok|     ) .*\.\.\.|tests (passed|failed)|of [0-9]+ tests' "$log_dir/regress.log" || true
ok=$(grep -cE '^(test )?[a-z0-9_]+ +\.\.\. ok' "$log_dir/regress.log")
bad=$(grep -cE '\.\.\. FAILED' "$log_dir/regress.log")
if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ]; then
    tail -60 "$log_dir/regress.log"
    bad=1
fi
[ -f test/regression.diffs ] && head -200 test/regression.diffs
count "$ok" "$bad"

# Runs a check script on a throwaway cluster and counts its PASS/FAIL lines.
checks() {
    local log="$log_dir/$(basename "$(dirname "$1")").log" ok bad
    scripts/with-temp-cluster.sh "$@" >"$log" 2>&1
    grep -E '^(PASS|FAIL|SKIP) ' "$log" || tail -40 "$log"
    ok=$(grep -c '^PASS ' "$log")
    bad=$(grep -c '^FAIL ' "$log")
    [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && bad=1
    count "$ok" "$bad"
}

section "integration: cancel from another session, statement_timeout in each long-running function, pg_cron refresh, caps"
checks test/integration/run-all.sh

section "hostile input: every function and aggregate of the catalogue (about 2 minutes)"
checks test/hostile/run.sh

section "upgrade from 0.1.0, dump and restore"
checks test/upgrade/run.sh

section "Citus 13 cluster: coordinator + 2 workers, every aggregate combined on the workers, the pipeline against one node (~4 min; builds Citus once)"
citus_log="$log_dir/citus.log"
test/citus/run.sh >"$citus_log" 2>&1
grep -E '^(PASS|FAIL|SKIP) ' "$citus_log" || tail -40 "$citus_log"
if ! grep -q '^SKIP ' "$citus_log"; then
    ok=$(grep -c '^PASS ' "$citus_log"); bad=$(grep -c '^FAIL ' "$citus_log")
    [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && bad=1
    count "$ok" "$bad"
fi

section "load and fault: pgbench, concurrent refreshes, kill -9 mid-refresh, reconciliation (~90 s)"
checks test/load/run.sh 90

section "validation against published numbers (../shared/data)"
shared=$(cd "$repo/.." && pwd)/shared/data
if [ -d "$shared" ]; then
    checks test/validate/run-all.sh "$shared"
else
    echo "skipped: $shared not found (the validations need the real datasets)"
fi

# Counts the PASS/FAIL lines of a client test that starts its own cluster;
# a SKIP (a missing tool that could not be installed) is reported, not counted.
client_test() {
    local name=$1 ok bad
    shift
    "$@" >"$log_dir/$name.log" 2>&1
    grep -E '^(PASS|FAIL|SKIP) ' "$log_dir/$name.log" || tail -40 "$log_dir/$name.log"
    ok=$(grep -c '^PASS ' "$log_dir/$name.log")
    bad=$(grep -c '^FAIL ' "$log_dir/$name.log")
    if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && ! grep -q '^SKIP ' "$log_dir/$name.log"; then bad=1; fi
    [ "$bad" -gt 0 ] && grep -vE '^(PASS|FAIL|SKIP) ' "$log_dir/$name.log" | tail -20
    count "$ok" "$bad"
}

section "storefront: the five use cases in headless chromium, each page checked against SQL (~1 minute)"
client_test storefront bash examples/storefront/test.sh

section "campaign export (Python, psycopg): JSON lines checked against SQL (~1 minute)"
client_test campaign bash examples/campaign/test.sh

section "fuzz: offer rule language and byte format (${FUZZ_SECONDS:-60} s in all, clang, ASan + UBSan)"
test/fuzz/run.sh "${FUZZ_SECONDS:-60}" >"$log_dir/fuzz.log" 2>&1
grep -E '^(PASS|FAIL|SKIP) ' "$log_dir/fuzz.log" || tail -40 "$log_dir/fuzz.log"
# One line per fuzz target; SKIP (no clang) is reported above, not counted.
ok=$(grep -c '^PASS ' "$log_dir/fuzz.log")
bad=$(grep -c '^FAIL ' "$log_dir/fuzz.log")
if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && ! grep -q '^SKIP ' "$log_dir/fuzz.log"; then bad=1; fi
[ "$bad" -gt 0 ] && grep -vE '^(PASS|FAIL|SKIP) ' "$log_dir/fuzz.log" | tail -20
count "$ok" "$bad"

if [ $sanitize -eq 1 ]; then
    section "pg_regress against the extension built with ASan + UBSan (server with the runtime preloaded)"
    test/sanitize/run.sh >"$log_dir/sanitize.log" 2>&1
    grep -E '^(PASS|FAIL) ' "$log_dir/sanitize.log" | grep -v '^PASS sanitized regress' || true
    ok=$(grep -c '^PASS ' "$log_dir/sanitize.log")
    bad=$(grep -c '^FAIL ' "$log_dir/sanitize.log")
    echo "$(grep -c '^PASS sanitized regress' "$log_dir/sanitize.log") regress files passed under the sanitizers"
    [ "$bad" -gt 0 ] && grep -vE '^(PASS|FAIL) ' "$log_dir/sanitize.log" | tail -60
    [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && bad=1
    count "$ok" "$bad"
fi

echo
echo "all tests took $SECONDS s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

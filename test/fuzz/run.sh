#!/usr/bin/env bash
# Usage: test/fuzz/run.sh SECONDS
# Builds the libFuzzer target of the offer rule language (clang, ASan + UBSan,
# in build-fuzz/) and runs it for SECONDS on the seed corpus in
# test/fuzz/corpus/offer_rules (new inputs go to a temporary directory, not
# into the repository). Prints exactly one line:
#   PASS fuzz offer_rules: N runs in S s
#   FAIL fuzz offer_rules: <what> (the crashing input is kept in ...)
#   SKIP fuzz offer_rules: <why>      (no clang / libFuzzer runtime)
# Environment: FUZZ_JOBS (parallel fuzzing processes, default 1),
# FUZZ_KEEP=DIR (keep the generated corpus in DIR).
set -uo pipefail
seconds=${1:-60}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
name="fuzz offer_rules"

cxx=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$cxx" ]; then
    echo "SKIP $name: clang++ not found (apt-get install clang libclang-rt-14-dev)"
    exit 0
fi
runtime=$("$cxx" -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
if [ ! -f "$runtime" ]; then
    echo "SKIP $name: the libFuzzer runtime is missing (apt-get install libclang-rt-14-dev)"
    exit 0
fi

work=$(mktemp -d -t offer_rules_fuzz.XXXXXX)
log="$work/build.log"
if ! { cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERSONALIZE_FUZZ=ON \
             -DPERSONALIZE_BENCHMARKS=OFF >"$log" 2>&1 &&
       cmake --build build-fuzz --target offer_rules_fuzz -j 2 >>"$log" 2>&1; }; then
    tail -30 "$log" >&2
    echo "FAIL $name: the fuzz target does not build (log above)"
    exit 1
fi

corpus="${FUZZ_KEEP:-$work/corpus}"
mkdir -p "$corpus" "$work/artifacts"
jobs=${FUZZ_JOBS:-1}
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
      -dict=test/fuzz/offer_rules.dict -artifact_prefix="$work/artifacts/")
if [ "$jobs" -gt 1 ]; then args+=(-fork="$jobs"); fi
start=$(date +%s)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    build-fuzz/offer_rules_fuzz "${args[@]}" "$corpus" test/fuzz/corpus/offer_rules >"$work/fuzz.log" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))
runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$work/fuzz.log" | grep -oE '[0-9]+$' | tail -1)
[ -z "$runs" ] && runs=$(grep -oE '^Done [0-9]+ runs' "$work/fuzz.log" | grep -oE '[0-9]+' | tail -1)
# -fork mode prints "#N: cov: ..." status lines instead (N counts every job's runs).
[ -z "$runs" ] && runs=$(grep -oE '^#[0-9]+: cov:' "$work/fuzz.log" | grep -oE '[0-9]+' | tail -1)
crash=$(ls "$work/artifacts" 2>/dev/null | head -1)
bad_jobs=$(grep -oE 'oom/timeout/crash: [0-9]+/[0-9]+/[0-9]+' "$work/fuzz.log" | tail -1 | grep -vE ': 0/0/0$')
if [ $status -ne 0 ] || [ -n "$crash" ] || [ -n "$bad_jobs" ]; then
    keep=$(mktemp -d -t offer_rules_crash.XXXXXX)
    cp -r "$work/artifacts" "$work/fuzz.log" "$keep/" 2>/dev/null
    grep -E 'ERROR|SUMMARY|offer_rules_fuzz:|runtime error|deadly' "$work/fuzz.log" | head -5 >&2
    echo "FAIL $name: exit status $status after ${elapsed} s (the input and log are kept in $keep)"
    rm -rf "$work"
    exit 1
fi
echo "PASS $name: ${runs:-?} runs in ${elapsed} s"
rm -rf "$work"

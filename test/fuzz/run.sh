#!/usr/bin/env bash
# Usage: test/fuzz/run.sh SECONDS
# Builds the libFuzzer targets (clang, ASan + UBSan, in build-fuzz/) and runs
# each for its share of SECONDS (split evenly):
#   offer_rules  the offer rule language, on the seed corpus test/fuzz/corpus/offer_rules
#   bytes        every deserialiser of the byte format (test/fuzz/bytes_fuzz.cpp), on
#                seeds the target writes in the current format plus the committed
#                values in test/fuzz/corpus/bytes (real 0.1.0 bytes)
# New inputs go to a temporary directory, not into the repository. Prints
# exactly one line per target:
#   PASS fuzz NAME: N runs in S s
#   FAIL fuzz NAME: <what> (the crashing input is kept in ...)
#   SKIP fuzz NAME: <why>      (no clang / libFuzzer runtime)
# Environment: FUZZ_JOBS (parallel fuzzing processes per target, default 1),
# FUZZ_KEEP=DIR (keep the generated corpora in DIR/NAME).
set -uo pipefail
seconds=${1:-60}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
targets=(offer_rules bytes)
share=$(( seconds / ${#targets[@]} ))
[ "$share" -lt 1 ] && share=1

skip_all() {
    for t in "${targets[@]}"; do echo "SKIP fuzz $t: $1"; done
    exit 0
}
cxx=$(command -v clang++ || command -v clang++-14 || true)
[ -z "$cxx" ] && skip_all "clang++ not found (apt-get install clang libclang-rt-14-dev)"
runtime=$("$cxx" -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
[ -f "$runtime" ] || skip_all "the libFuzzer runtime is missing (apt-get install libclang-rt-14-dev)"

work=$(mktemp -d -t personalize_fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
log="$work/build.log"
if ! { cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERSONALIZE_FUZZ=ON \
             -DPERSONALIZE_BENCHMARKS=OFF >"$log" 2>&1 &&
       cmake --build build-fuzz --target "${targets[@]/%/_fuzz}" -j 2 >>"$log" 2>&1; }; then
    tail -30 "$log" >&2
    for t in "${targets[@]}"; do echo "FAIL fuzz $t: the fuzz targets do not build (log above)"; done
    exit 1
fi

# fuzz NAME ARGS... -- CORPUS_DIRS...: runs build-fuzz/NAME_fuzz for $share s.
status_all=0
fuzz() {
    local name=$1; shift
    local args=() dirs=()
    while [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift
    dirs=("$@")
    local dir="$work/$name" corpus="${FUZZ_KEEP:+$FUZZ_KEEP/$name}"
    corpus=${corpus:-$dir/corpus}
    mkdir -p "$corpus" "$dir/artifacts"
    local jobs=${FUZZ_JOBS:-1}
    args+=(-max_total_time="$share" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
    if [ "$jobs" -gt 1 ]; then args+=(-fork="$jobs"); fi
    local start status elapsed runs crash bad_jobs keep
    start=$(date +%s)
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "build-fuzz/${name}_fuzz" "${args[@]}" "$corpus" "${dirs[@]}" >"$dir/fuzz.log" 2>&1
    status=$?
    elapsed=$(( $(date +%s) - start ))
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$dir/fuzz.log" | grep -oE '[0-9]+$' | tail -1)
    [ -z "$runs" ] && runs=$(grep -oE '^Done [0-9]+ runs' "$dir/fuzz.log" | grep -oE '[0-9]+' | tail -1)
    # -fork mode prints "#N: cov: ..." status lines instead (N counts every job's runs).
    [ -z "$runs" ] && runs=$(grep -oE '^#[0-9]+: cov:' "$dir/fuzz.log" | grep -oE '[0-9]+' | tail -1)
    crash=$(ls "$dir/artifacts" 2>/dev/null | head -1)
    bad_jobs=$(grep -oE 'oom/timeout/crash: [0-9]+/[0-9]+/[0-9]+' "$dir/fuzz.log" | tail -1 | grep -vE ': 0/0/0$')
    if [ $status -ne 0 ] || [ -n "$crash" ] || [ -n "$bad_jobs" ]; then
        keep=$(mktemp -d -t "${name}_crash.XXXXXX")
        cp -r "$dir/artifacts" "$dir/fuzz.log" "$keep/" 2>/dev/null
        grep -E 'ERROR|SUMMARY|_fuzz:|runtime error|deadly' "$dir/fuzz.log" | head -5 >&2
        echo "FAIL fuzz $name: exit status $status after ${elapsed} s (the input and log are kept in $keep)"
        status_all=1
        return
    fi
    echo "PASS fuzz $name: ${runs:-?} runs in ${elapsed} s"
}

fuzz offer_rules -max_len=8192 -dict=test/fuzz/offer_rules.dict -- test/fuzz/corpus/offer_rules

mkdir -p "$work/bytes_seeds"
if ! BYTES_FUZZ_WRITE_SEEDS="$work/bytes_seeds" build-fuzz/bytes_fuzz >"$work/seeds.log" 2>&1; then
    cat "$work/seeds.log" >&2
    echo "FAIL fuzz bytes: the seed values cannot be written"
    exit 1
fi
fuzz bytes -max_len=4096 -- "$work/bytes_seeds" test/fuzz/corpus/bytes

exit $status_all

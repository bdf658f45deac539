#!/usr/bin/env bash
# Benchmark: k-means in the database (personalize.kmeans, 1M points x 8
# features, k = 8) against scikit-learn's KMeans(n_clusters=8, n_init=1) with
# one thread on the same points (exported from the same database).
#
# For each of SEEDS seeds, one after the other (so load from other work on
# the machine hits every kind of run alike):
#   1. build/kmeans_same_start writes the k-means++ centres that
#      personalize.kmeans(f, 8, seed) starts from, checks that Lloyd from
#      them reproduces the core fit, and times both in the core library;
#   2. the extension's fit in the database (seed), including passing the
#      arrays through the aggregate;
#   3. scikit-learn started from those centres (init=array): the same Lloyd
#      iterations, so iterations and inertia must agree and the pair of
#      times compares the work per iteration;
#   4. scikit-learn with its own k-means++ start (random_state = seed).
# Runs 2 and 4 each draw their own start, so single runs differ by luck (12
# to 100 iterations on this data) and their medians are what compares.
#
# Usage: scripts/with-temp-cluster.sh test/bench/kmeans.sh [POINTS] [SEEDS]
# (defaults 1000000 and 7; needs python3-sklearn and the CMake build tools).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
points=${1:-1000000}
seeds=${2:-7}
python=/usr/bin/python3
if ! "$python" -c 'import sklearn' 2>/dev/null; then
    echo "SKIP: scikit-learn is not installed (apt-get install python3-sklearn)"
    exit 0
fi
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$repo/build" --target kmeans_same_start -j2 >/dev/null
export PGOPTIONS="-c personalize.memory_limit=4GB"
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
# Eight overlapping Gaussian blobs (std 25) around centres spread over [-50, 50]^8,
# drawn with a hash-based Box-Muller so the data is the same every run.
q <<SQL
CREATE TABLE blobs AS
SELECT i, ARRAY(SELECT 50 * sin(i % 8 * 7 + d * 3) + 25 * sqrt(-2 * ln((abs(hashint8(i * 16 + d)) % 1000000 + 1) / 1000001.0))
                       * cos(2 * pi() * (abs(hashint8(i * 16 + d + 8)) % 1000000) / 1000000.0)
               FROM generate_series(1, 8) d)::float8[] AS f
FROM generate_series(1, $points) i;
ANALYZE blobs;
SQL
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
csv=$work/blobs.csv
q -c "\copy (SELECT array_to_string(f, ',') FROM blobs) TO '$csv'"

coproc SKLEARN { OMP_NUM_THREADS=1 "$python" "$here/kmeans_sklearn.py" "$csv" -k 8 --serve; }
sklearn() {  # one command to the scikit-learn process, its answer on stdout
    echo "$1" >&"${SKLEARN[1]}"
    local line
    read -r line <&"${SKLEARN[0]}"
    echo "$line"
}
read -r line <&"${SKLEARN[0]}" && echo "$line"  # "read N x 8 points ..."
read -r line <&"${SKLEARN[0]}" && echo "$line"  # versions

# median FORMAT VALUE...
median() {
    printf '%s\n' "${@:2}" | sort -g |
        awk -v f="$1" '{ v[NR] = $1 } END { printf f, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
best() { printf '%s\n' "$@" | sort -g | head -1; }
# seconds iterations inertia of a result line "...: T s, I iterations, inertia X"
fields() { sed -E 's/.*: ([0-9.]+) s, ([0-9]+) iterations, inertia ([0-9.e+]+).*/\1 \2 \3/' <<<"$1"; }
ext_times=() ext_iters=() ext_inertia=() sk_times=() sk_iters=() sk_inertia=() same_ratio=()

for seed in $(seq 1 "$seeds"); do
    echo "-- seed $seed"
    "$repo/build/kmeans_same_start" "$csv" 8 "$work" "$seed"

    t=$(psql -qX -v ON_ERROR_STOP=1 -c "\timing on" -c "CREATE TABLE km AS SELECT personalize.kmeans(f, 8, $seed) AS m FROM blobs" |
        sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p')
    read -r iterations inertia < <(q -F ' ' -c "SELECT m->>'iterations', round((m->>'inertia')::numeric) FROM km")
    q -c "DROP TABLE km"
    seconds=$(awk -v t="$t" 'BEGIN { printf "%.3f", t / 1000 }')
    echo "extension seed $seed: $seconds s, $iterations iterations, inertia $inertia"
    ext_times+=("$seconds") ext_iters+=("$iterations") ext_inertia+=("$inertia")

    line=$(sklearn "init $work/init_$seed.csv")
    echo "$line"
    read -r same_seconds same_iterations _ < <(fields "$line")
    [ "$same_iterations" = "$iterations" ] || echo "WARNING: different iterations from the same start"
    same_ratio+=("$(awk -v a="$same_seconds" -v b="$seconds" 'BEGIN { printf "%.3f", a / b }')")

    line=$(sklearn "fit $seed")
    echo "$line"
    read -r seconds iterations inertia < <(fields "$line")
    sk_times+=("$seconds") sk_iters+=("$iterations") sk_inertia+=("$(awk -v v="$inertia" 'BEGIN { printf "%.0f", v }')")
done
echo "== summary over $seeds seeds =="
for side in extension scikit-learn; do
    if [ $side = extension ]; then times=("${ext_times[@]}") iters=("${ext_iters[@]}") inertia=("${ext_inertia[@]}")
    else times=("${sk_times[@]}") iters=("${sk_iters[@]}") inertia=("${sk_inertia[@]}"); fi
    echo "$side, own k-means++: median $(median %.3f "${times[@]}") s, median $(median %.1f "${iters[@]}") iterations," \
         "median inertia $(median %.0f "${inertia[@]}"), lowest $(best "${inertia[@]}")"
done
echo "scikit-learn from the extension's start / extension: median $(median %.2f "${same_ratio[@]}")x" \
     "(all: ${same_ratio[*]})"

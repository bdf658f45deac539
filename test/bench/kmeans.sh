#!/usr/bin/env bash
# Benchmark: k-means in the database (personalize.kmeans, 1M points x 8
# features, k = 8) against scikit-learn's KMeans(n_clusters=8, n_init=1) with
# one thread on the same points (exported from the same database).
# Usage: scripts/with-temp-cluster.sh test/bench/kmeans.sh [POINTS]   (needs python3-sklearn)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
points=${1:-1000000}
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
csv=$(mktemp --suffix=.csv)
q -c "\copy (SELECT array_to_string(f, ',') FROM blobs) TO '$csv'"
for seed in 1 2 3; do
    t=$(psql -qX -v ON_ERROR_STOP=1 -c "\timing on" -c "CREATE TABLE km AS SELECT personalize.kmeans(f, 8, $seed) AS m FROM blobs" | sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p')
    inertia=$(q -c "SELECT round((m->>'inertia')::numeric, 0) || ' iterations ' || (m->>'iterations') FROM km")
    echo "extension seed $seed: $(awk -v t="$t" 'BEGIN { printf "%.2f", t / 1000 }') s, inertia $inertia"
    q -c "DROP TABLE km"
done
OMP_NUM_THREADS=1 /usr/bin/python3 "$here/kmeans_sklearn.py" "$csv" -k 8 --repeat 3
rm -f "$csv"

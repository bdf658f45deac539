#!/usr/bin/python3
"""Peer benchmark: scikit-learn KMeans on the points of the k-means benchmarks.

Run with Debian's Python (apt-get install -y python3-sklearn). Fit time with one
thread (OMP_NUM_THREADS=1 and threadpoolctl limits), iterations and inertia of
KMeans(n_clusters=k, n_init=1, algorithm="lloyd"):

    # random_state = seed, seed + 1, ... (k-means++ drawn by scikit-learn)
    OMP_NUM_THREADS=1 /usr/bin/python3 test/bench/kmeans_sklearn.py POINTS.csv --repeat 7 --seed 1
    # started from given centres (init=array), e.g. personalize.kmeans's own
    # k-means++ centres written by build/kmeans_same_start
    OMP_NUM_THREADS=1 /usr/bin/python3 test/bench/kmeans_sklearn.py POINTS.csv --init init_1.csv
    # scikit-learn's own k-means++ starts (as KMeans.fit draws them, on the
    # centred points), written to DIR/sklearn_init_SEED.csv for
    # build/kmeans_same_start POINTS.csv 8 --from DIR/*.csv
    OMP_NUM_THREADS=1 /usr/bin/python3 test/bench/kmeans_sklearn.py POINTS.csv --plusplus-only DIR --repeat 60 --seed 1
    # one fit per command read from stdin ("fit SEED" or "init FILE"), one
    # result line each: test/bench/kmeans.sh alternates these with the
    # extension's fits
    OMP_NUM_THREADS=1 /usr/bin/python3 test/bench/kmeans_sklearn.py POINTS.csv --serve

The micro benchmark's blobs (build/micro_bench with KMEANS_BENCH_CSV=/tmp/kmeans_blobs)
work too: compare with BM_KMeansFit/spread:S/k:8/zscore:0/seed:* (scaling none: the
same inertia definition).
"""
import os

# Before numpy / scikit-learn are imported: one thread everywhere.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans, kmeans_plusplus
from threadpoolctl import threadpool_limits


def fit(x, k, algorithm, init, random_state):
    """One timed fit: (seconds, iterations, inertia)."""
    model = KMeans(n_clusters=k, n_init=1, init=init, algorithm=algorithm, random_state=random_state)
    t0 = time.perf_counter()
    model.fit(x)
    return time.perf_counter() - t0, model.n_iter_, model.inertia_


def load_init(path, k, dim):
    init = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    if init.shape != (k, dim):
        raise SystemExit(f"{path}: expected {k} x {dim} centres, got {init.shape[0]} x {init.shape[1]}")
    return init


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", nargs="?", default="/tmp/kmeans_blobs_std4.csv", help="points, one per line")
    parser.add_argument("-k", type=int, default=8, help="number of clusters (default 8)")
    parser.add_argument("--repeat", type=int, default=3, help="timed fits (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="first random_state; each repeat uses seed + i")
    parser.add_argument("--algorithm", default="lloyd", choices=["lloyd", "elkan"])
    parser.add_argument("--init", help="start every fit from these centres (k lines, comma-separated)")
    parser.add_argument("--serve", action="store_true", help="fits on command from stdin (see above)")
    parser.add_argument("--plusplus-only", metavar="DIR", help="write k-means++ starts instead of fitting")
    args = parser.parse_args()

    t0 = time.perf_counter()
    x = np.ascontiguousarray(np.loadtxt(args.csv, delimiter=",", dtype=np.float64))
    print(f"read {x.shape[0]} x {x.shape[1]} points from {args.csv} in {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, algorithm={args.algorithm}, k={args.k}",
          flush=True)

    with threadpool_limits(limits=1):
        if args.plusplus_only:
            centred = x - x.mean(axis=0)  # what KMeans.fit seeds on (copy_x=True)
            for seed in range(args.seed, args.seed + args.repeat):
                _, indices = kmeans_plusplus(centred, args.k, random_state=seed)
                path = os.path.join(args.plusplus_only, f"sklearn_init_{seed}.csv")
                np.savetxt(path, x[indices], delimiter=",", fmt="%.17g")
                print(f"wrote {path}", flush=True)
            return 0
        if args.serve:
            for line in sys.stdin:
                command, _, value = line.strip().partition(" ")
                if command == "fit":
                    t, iterations, inertia = fit(x, args.k, args.algorithm, "k-means++", int(value))
                    print(f"scikit-learn seed {value}: {t:.3f} s, {iterations} iterations, inertia {inertia:.10g}",
                          flush=True)
                elif command == "init":
                    init = load_init(value, args.k, x.shape[1])
                    t, iterations, inertia = fit(x, args.k, args.algorithm, init, None)
                    print(f"scikit-learn from {os.path.basename(value)}: {t:.3f} s, {iterations} iterations, "
                          f"inertia {inertia:.10g}", flush=True)
                else:
                    print(f"unknown command: {line.strip()}", flush=True)
            return 0

        init = load_init(args.init, args.k, x.shape[1]) if args.init else "k-means++"
        times, inertias = [], []
        for i in range(args.repeat):
            t, iterations, inertia = fit(x, args.k, args.algorithm, init, args.seed + i)
            times.append(t)
            inertias.append(inertia)
            print(f"  fit {i}: {t:.3f} s  inertia {inertia:.10g}  iterations {iterations}", flush=True)
    print(f"sklearn fit time: min {min(times):.3f} s, median {statistics.median(times):.3f} s")
    print(f"sklearn inertia: min {min(inertias):.10g}, median {statistics.median(inertias):.10g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

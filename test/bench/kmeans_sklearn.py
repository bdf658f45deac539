#!/usr/bin/python3
"""Peer benchmark: scikit-learn KMeans on the points of the k-means micro benchmark.

Run with Debian's Python (apt-get install -y python3-sklearn):

    KMEANS_BENCH_CSV=/tmp/kmeans_blobs build/micro_bench --benchmark_filter=KMeans
    OMP_NUM_THREADS=1 /usr/bin/python3 test/bench/kmeans_sklearn.py /tmp/kmeans_blobs_std1.csv
    OMP_NUM_THREADS=1 /usr/bin/python3 test/bench/kmeans_sklearn.py /tmp/kmeans_blobs_std4.csv

Prints scikit-learn's fit time (one thread: OMP_NUM_THREADS=1 and threadpoolctl
limits) and inertia for KMeans(n_clusters=k, n_init=1, algorithm="lloyd"), to
compare with BM_KMeansFit/spread:S/k:8/zscore:0/seed:* (scaling none: the
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
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", nargs="?", default="/tmp/kmeans_blobs_std4.csv", help="points, one per line")
    parser.add_argument("-k", type=int, default=8, help="number of clusters (default 8)")
    parser.add_argument("--repeat", type=int, default=3, help="timed fits (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="first random_state; each repeat uses seed + i")
    parser.add_argument("--algorithm", default="lloyd", choices=["lloyd", "elkan"])
    args = parser.parse_args()

    t0 = time.perf_counter()
    x = np.loadtxt(args.csv, delimiter=",", dtype=np.float64)
    x = np.ascontiguousarray(x)
    print(f"read {x.shape[0]} x {x.shape[1]} points from {args.csv} in {time.perf_counter() - t0:.1f} s")
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, algorithm={args.algorithm}, k={args.k}")

    times, inertias = [], []
    with threadpool_limits(limits=1):
        for i in range(args.repeat):
            model = KMeans(n_clusters=args.k, n_init=1, algorithm=args.algorithm, random_state=args.seed + i)
            t0 = time.perf_counter()
            model.fit(x)
            elapsed = time.perf_counter() - t0
            times.append(elapsed)
            inertias.append(model.inertia_)
            print(f"  fit {i}: {elapsed:.3f} s  inertia {model.inertia_:.10g}  iterations {model.n_iter_}"
                  f"  sizes {sorted(np.bincount(model.labels_, minlength=args.k).tolist())}")
    print(f"sklearn fit time: min {min(times):.3f} s, median {statistics.median(times):.3f} s")
    print(f"sklearn inertia: min {min(inertias):.10g}, median {statistics.median(inertias):.10g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

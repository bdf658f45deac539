#!/usr/bin/python3
"""BG/NBD fitted the way the lifetimes package does it (its likelihood, scipy's
Nelder-Mead on log-parameters, tol 1e-7), on customers read from PostgreSQL.

Usage: bgnbd_scipy.py TABLE   (PG* variables select the database; TABLE has
frequency, recency, age). Prints the seconds for reading and for fitting and
the parameters r, alpha, a, b."""
import subprocess
import sys
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln


def negative_log_likelihood(log_params, x, t_x, big_t):
    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + big_t)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(t_x + alpha)
    ll = a1 + a2 + np.where(x > 0, np.logaddexp(a3, a4), a3)
    return -ll.mean()


def main():
    table = sys.argv[1]
    start = time.perf_counter()
    csv = subprocess.run(["psql", "-qXAt", "-c", f"\\copy (SELECT frequency, recency, age FROM {table}) TO STDOUT WITH (FORMAT csv)"],
                         check=True, capture_output=True).stdout
    data = np.loadtxt(csv.decode().splitlines(), delimiter=",")
    read = time.perf_counter() - start
    x, t_x, big_t = data[:, 0], data[:, 1], data[:, 2]
    start = time.perf_counter()
    result = minimize(negative_log_likelihood, x0=np.ones(4), args=(x, t_x, big_t), method="Nelder-Mead",
                      tol=1e-7, options={"maxiter": 2000})
    fit = time.perf_counter() - start
    r, alpha, a, b = np.exp(result.x)
    print(f"read {read:.2f} fit {fit:.2f} r {r:.6g} alpha {alpha:.6g} a {a:.6g} b {b:.6g} "
          f"converged {result.success} customers {len(x)}")


if __name__ == "__main__":
    main()

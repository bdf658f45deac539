// BG/NBD ("beta-geometric / negative binomial distribution") model of
// Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way".
//
// While alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after
// every purchase she drops out with probability p ~ Beta(a, b). Likelihood of
// one customer (FHL 2005, eq. 6):
//
//   L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
//     + [x > 0] B(a+1, b+x-1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))
//
// Predictions (given alive at T, the posterior is again BG/NBD with
// r+x, alpha+T, a, b+x, which every conditional formula below uses):
//   P(alive)      = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
//                   (a customer without repeat purchases is alive: BG/NBD
//                   only lets customers drop out right after a purchase);
//   E[X(t)]       = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]
//                   (FHL eq. 9), evaluated as a power series in -t/alpha for
//                   t <= alpha and in t/(alpha+t) after a Pfaff transformation
//                   otherwise, both free of the removable singularity at a = 1;
//   E[X(T,T+t] | x, t_x, T] = P(alive) E[X(t); r+x, alpha+T, a, b+x] (FHL eq. 10);
//   P(X(t) = n)   = FHL eq. 8, its finite sum as a regularized incomplete beta;
//   P(X(T,T+t] = n | ...) = [n = 0](1 - P(alive)) + P(alive) P(X(t) = n; posterior);
//   P(a purchase in (T, T+t] | alive) = 1 - ((alpha+T)/(alpha+T+t))^(r+x)
//                   (no dropout without a purchase), so its limit is 1.
#pragma once

#include <array>

#include "core/lifetime/data.hpp"
#include "core/lifetime/fit.hpp"
#include "core/lifetime/nbd_family.hpp"

namespace personalize::lifetime {

struct BgNbdParams {
    double r, alpha, a, b;

    // From a fit result of model "bgnbd" (else InvalidParameter).
    static BgNbdParams from(const FitResult &fit);
    // All four positive and finite, else InvalidParameter.
    void validate() const;
    std::array<double, 4> values() const { return {r, alpha, a, b}; }
};

// BG/NBD for the family's templates (nbd_family.hpp); its own closed forms
// (BgNbd::Forms) are in bgnbd.cpp.
struct BgNbd {
    using Params = BgNbdParams;
    static constexpr const char *kName = "bgnbd";
    struct Forms;
};

using BgNbdModel = NbdModel<BgNbd>;
using BgNbdFitState = NbdFitState<BgNbd>;

namespace bgnbd_detail {
// E[X(t)] of a new customer by its power series (NaN when unreliable) and by
// quadrature; exposed for tests.
double expected_new_series(double r, double alpha, double a, double b, double t);
double expected_new_quadrature(double r, double alpha, double a, double b, double t);
}  // namespace bgnbd_detail

}  // namespace personalize::lifetime

// Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), in the form of
// Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and
// Related Expressions".
//
// While alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha); her
// lifetime is exponential with rate mu ~ Gamma(s, beta). Likelihood of one
// customer (Fader & Hardie 2005, eq. 22 ff.):
//
//   L = Gamma(r+x) alpha^r beta^s / Gamma(r) *
//       [ 1 / ((alpha+T)^(r+x) (beta+T)^s)  +  s * I ],
//   I = int_{t_x}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau  = G(t_x) - G(T),
//
// which is the note's s/(r+s+x) A_0. G(tau) = int_tau^inf (same integrand) is
// the note's hypergeometric term; with a = r+s+x and Euler's transformation:
//   alpha >= beta: G = (alpha+tau)^-(r+x) (beta+tau)^-s / a * 2F1(1, r+x; a+1; (alpha-beta)/(alpha+tau))
//   alpha <  beta: G = (alpha+tau)^-(r+x-1) (beta+tau)^-(s+1) / a * 2F1(1, s+1; a+1; (beta-alpha)/(beta+tau))
// Both 2F1 have positive terms and an argument in [0, 1); they are evaluated
// by a continued fraction (math.hpp) in log space, with exact
// derivatives, so the likelihood is accurate on both sides of alpha = beta
// and has an analytic gradient.
//
// Predictions (given alive at T the posterior is again Pareto/NBD with
// r+x, alpha+T, s, beta+T):
//   P(alive)   = 1 / (1 + s I (alpha+T)^(r+x) (beta+T)^s);
//   E[X(t)]    = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]  (-> r beta/alpha ln(1+t/beta) at s = 1);
//   E[X(T,T+t] | x, t_x, T] = P(alive) (r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)];
//   P(X(t) = 0) = (alpha/(alpha+t))^r (beta/(beta+t))^s + s alpha^r beta^s (G(0) - G(t))  (x = 0);
//   P(X(t) = n), n > 0 = NB(n; r, alpha, t) (beta/(beta+t))^s
//                        + int_0^t NB(n; r, alpha, tau) s beta^s (beta+tau)^-(s+1) dtau,
//     the integral by adaptive Gauss-Kronrod quadrature (exact in theory,
//     ~1e-12 in practice) rather than the note's alternating hypergeometric sum;
//   P(X(T,T+t] = n | ...) = [n = 0](1 - P(alive)) + P(alive) P(X(t) = n; posterior);
//   P(a purchase in (T, T+t] | alive) = 1 - P(X(t) = 0; posterior), tending to
//     1 - s alpha'^r' beta'^s G(0) (posterior parameters): she may die first.
#pragma once

#include <array>

#include "core/lifetime/data.hpp"
#include "core/lifetime/fit.hpp"
#include "core/lifetime/nbd_family.hpp"

namespace personalize::lifetime {

struct ParetoNbdParams {
    double r, alpha, s, beta;

    // From a fit result of model "pareto_nbd" (else InvalidParameter).
    static ParetoNbdParams from(const FitResult &fit);
    // All four positive and finite, else InvalidParameter.
    void validate() const;
    std::array<double, 4> values() const { return {r, alpha, s, beta}; }
};

// Pareto/NBD for the family's templates (nbd_family.hpp); its own closed
// forms (ParetoNbd::Forms) are in pareto_nbd.cpp.
struct ParetoNbd {
    using Params = ParetoNbdParams;
    static constexpr const char *kName = "pareto_nbd";
    struct Forms;
};

using ParetoNbdModel = NbdModel<ParetoNbd>;
using ParetoNbdFitState = NbdFitState<ParetoNbd>;

namespace pareto_nbd_detail {
// ln G(tau) (see above) and its partial derivatives in (r, alpha, s, beta).
struct LogG {
    double value, dr, dalpha, ds, dbeta;
};
LogG log_g(double r, double alpha, double s, double beta, double x, double tau, bool gradient);
}  // namespace pareto_nbd_detail

}  // namespace personalize::lifetime

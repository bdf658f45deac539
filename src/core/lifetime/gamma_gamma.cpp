#include "core/lifetime/gamma_gamma.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/lifetime/math.hpp"

namespace personalize::lifetime {

namespace lm = math;

namespace {

constexpr const char *kModel = "gamma_gamma";

class GammaGammaLikelihood final : public LogLikelihood {
public:
    explicit GammaGammaLikelihood(const std::vector<SpendRow> &rows) {
        for (const SpendRow &row : rows) xs_.push_back(row.x);
        std::sort(xs_.begin(), xs_.end());
        xs_.erase(std::unique(xs_.begin(), xs_.end()), xs_.end());
        wx_.assign(xs_.size(), 0.0);
        for (const SpendRow &row : rows) {
            const auto xi = static_cast<std::uint32_t>(std::lower_bound(xs_.begin(), xs_.end(), row.x) - xs_.begin());
            items_.push_back({row.x, row.x * row.m, std::log(row.m), row.w});
            wx_[xi] += row.w;
        }
    }

    std::size_t dimension() const override { return 3; }

    double evaluate(const double *u, double *grad, const Interrupt &interrupt) const override {
        const double p = std::exp(u[0]), q = std::exp(u[1]), gamma = std::exp(u[2]);
        const double lgq = lm::lgamma(q), dgq = lm::digamma(q), lgam = std::log(gamma);
        double ll = 0.0, gp = 0.0, gq = 0.0, gg = 0.0;
        // Terms of x alone: lgamma(p x + q) - lgamma(p x) - lgamma(q) + q ln gamma + p x ln x.
        for (std::size_t k = 0; k < xs_.size(); ++k) {
            const double x = xs_[k], w = wx_[k], px = p * x, lx = std::log(x);
            const double d_pxq = lm::digamma(px + q);
            ll += w * (lm::lgamma(px + q) - lm::lgamma(px) - lgq + q * lgam + px * lx);
            gp += w * x * (d_pxq - lm::digamma(px) + lx);
            gq += w * (d_pxq - dgq + lgam);
            gg += w * q / gamma;
        }
        // Per customer: (p x - 1) ln m - (p x + q) ln(gamma + m x).
        for (std::size_t i = 0; i < items_.size(); ++i) {
            if ((i & 1023) == 0) interrupt.poll(1);
            const Item &it = items_[i];
            const double lden = std::log(gamma + it.xm);
            const double px = p * it.x;
            ll += it.w * ((px - 1.0) * it.lm - (px + q) * lden);
            gp += it.w * it.x * (it.lm - lden);
            gq += it.w * -lden;
            gg += it.w * -(px + q) / (gamma + it.xm);
        }
        grad[0] = gp * p;
        grad[1] = gq * q;
        grad[2] = gg * gamma;
        return ll;
    }

private:
    struct Item {
        double x, xm, lm, w;
    };
    std::vector<double> xs_, wx_;
    std::vector<Item> items_;
};

}  // namespace

GammaGammaParams GammaGammaParams::from(const FitResult &fit) {
    const std::vector<double> &v = fitted_parameters(fit, kModel);
    return {v[0], v[1], v[2]};
}

void GammaGammaParams::validate() const { check_parameters(kModel, values()); }

double gamma_gamma_log_likelihood(const GammaGammaParams &params, double x, double m) {
    params.validate();
    validate_spend(kModel, x, m);
    if (!(x > 0) || !(m > 0))
        throw_invalid("gamma_gamma: the likelihood needs \"frequency\" > 0 and \"monetary\" > 0");
    const double px = params.p * x;
    return lm::lgamma(px + params.q) - lm::lgamma(px) - lm::lgamma(params.q) + params.q * std::log(params.gamma) +
           (px - 1.0) * std::log(m) + px * std::log(x) - (px + params.q) * std::log(params.gamma + m * x);
}

double gamma_gamma_population_mean(const GammaGammaParams &params) {
    params.validate();
    if (!(params.q > 1)) return std::numeric_limits<double>::infinity();
    return params.p * params.gamma / (params.q - 1.0);
}

double gamma_gamma_expected_spend(const GammaGammaParams &params, double x, double m) {
    params.validate();
    validate_spend(kModel, x, m);
    if (!(x > 0) || !(m > 0)) return gamma_gamma_population_mean(params);
    const double denominator = params.p * x + params.q - 1.0;
    if (!(denominator > 0)) return std::numeric_limits<double>::infinity();
    return params.p * (params.gamma + x * m) / denominator;
}

GammaGammaFitState GammaGammaFitState::read(ByteReader &in) {
    GammaGammaFitState state;
    state.data_ = SpendAccumulator::read(in);
    return state;
}

double GammaGammaFitState::log_likelihood(const GammaGammaParams &params, std::vector<double> *gradient) const {
    params.validate();
    const GammaGammaLikelihood likelihood(data_.rows());
    const auto theta = params.values();
    return log_likelihood_at(likelihood, theta.data(), theta.size(), gradient);
}

FitResult GammaGammaFitState::fit(const FitOptions &options, const Interrupt &interrupt) const {
    options.validate(kModel, 3);
    const std::vector<SpendRow> rows = data_.rows();
    if (rows.empty())
        throw_invalid("gamma_gamma: cannot fit a model without repeat customers (frequency > 0, monetary > 0)");
    double weight = 0.0, sum_m = 0.0;
    for (const SpendRow &row : rows) {
        weight += row.w;
        sum_m += row.w * row.m;
    }
    const double mean = sum_m / weight;

    const GammaGammaLikelihood likelihood(rows);
    // Starts with population mean p gamma / (q - 1) = the sample mean; gamma
    // is on the scale of the money.
    FitResult result = maximize_likelihood(
        bounded_problem(kModel, likelihood, weight,
                        {{2.0, 3.0, mean}, {1.0, 2.0, mean}, {5.0, 5.0, 0.8 * mean}, {0.5, 1.5, mean}}, {1.0, 1.0, mean}),
        options, interrupt);
    result.ignored = data_.ignored_weight();
    return result;
}

}  // namespace personalize::lifetime

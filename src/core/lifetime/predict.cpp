#include "core/lifetime/predict.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

// clang-format off
#include "core/common/eigen_config.hpp"
// clang-format on
#include "core/common/error.hpp"
#include "core/lifetime/bgnbd.hpp"
#include "core/lifetime/pareto_nbd.hpp"
#include "core/common/random.hpp"

namespace personalize::lifetime {

std::unique_ptr<TransactionModel> make_transaction_model(const FitResult &fit) {
    if (fit.model == "bgnbd") return std::make_unique<BgNbdModel>(BgNbdParams::from(fit));
    if (fit.model == "pareto_nbd") return std::make_unique<ParetoNbdModel>(ParetoNbdParams::from(fit));
    throw_invalid("lifetime model: " + fit.model + " is not a transaction model (use bgnbd or pareto_nbd)");
}

void ClvOptions::validate() const {
    if (periods <= 0 || periods > 100000) throw_invalid("clv: \"periods\" must be between 1 and 100000");
    if (!std::isfinite(period_length) || !(period_length > 0))
        throw_invalid("clv: \"period_length\" must be a positive finite number");
    if (!std::isfinite(discount_rate) || discount_rate < 0)
        throw_invalid("clv: \"discount_rate\" must be a finite number >= 0");
}

double customer_lifetime_value(const TransactionModel &model, const LifetimeCustomer &customer, double value,
                               const ClvOptions &options, const Interrupt &interrupt) {
    options.validate();
    if (!std::isfinite(value)) throw_invalid("clv: the purchase value must be a finite number");
    // The path a chunk of horizons at a time, polling in between: 100000
    // periods take seconds. Each value depends on its own horizon only, so
    // the chunks give the same path (and one chunk for the usual horizons).
    constexpr int kChunk = 4096;
    std::vector<double> path;
    path.reserve(static_cast<std::size_t>(options.periods));
    std::vector<double> ts;
    for (int first = 1; first <= options.periods; first += kChunk) {
        interrupt.check();
        const int last = std::min(options.periods, first + kChunk - 1);
        ts.clear();
        for (int k = first; k <= last; ++k) ts.push_back(k * options.period_length);
        const std::vector<double> part = model.expected_purchases_path(ts, customer);
        path.insert(path.end(), part.begin(), part.end());
    }
    double clv = 0.0, previous = 0.0, discount = 1.0;
    const double step = 1.0 / (1.0 + options.discount_rate);
    for (int k = 1; k <= options.periods; ++k) {
        const double cumulative = path[k - 1];
        discount *= step;
        clv += value * (cumulative - previous) * discount;
        previous = cumulative;
    }
    return clv;
}

double expected_time_to_next_purchase(const TransactionModel &model, const LifetimeCustomer &customer,
                                      double probability) {
    if (const auto *bg = dynamic_cast<const BgNbdModel *>(&model)) {
        if (!(probability > 0 && probability < 1)) throw_invalid("next purchase: \"probability\" must be in (0, 1)");
        const double alive = bg->probability_alive(customer);
        if (alive < probability) return std::numeric_limits<double>::infinity();
        const BgNbdParams &p = bg->params();
        // (1 - q)^(-1/k) - 1 with q = probability / P(alive), k = r + x
        const double q = probability / alive;
        if (q >= 1) return std::numeric_limits<double>::infinity();
        return (p.alpha + customer.T) * std::expm1(-std::log1p(-q) / (p.r + customer.x));
    }
    return time_to_next_purchase_by_bisection(model, customer, probability);
}

double time_to_next_purchase_by_bisection(const TransactionModel &model, const LifetimeCustomer &customer,
                                          double probability) {
    if (!(probability > 0 && probability < 1)) throw_invalid("next purchase: \"probability\" must be in (0, 1)");
    constexpr double kInf = std::numeric_limits<double>::infinity();
    if (model.probability_any_purchase_limit(customer) < probability) return kInf;
    // Bracket: grow from the customer's own time scale.
    double hi = std::max({customer.T, customer.t_x, 1e-6});
    double lo = 0.0;
    int doublings = 0;
    while (model.probability_any_purchase(hi, customer) < probability) {
        lo = hi;
        hi *= 2.0;
        if (++doublings > 200 || !std::isfinite(hi)) return kInf;  // the limit is reached only at infinity
    }
    for (int i = 0; i < 200 && hi - lo > 1e-10 * hi; ++i) {
        const double mid = 0.5 * (lo + hi);
        if (model.probability_any_purchase(mid, customer) >= probability)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

ParameterDraws ParameterDraws::sample(const FitResult &fit, std::size_t draws, std::uint64_t seed,
                                      const Interrupt &interrupt) {
    const std::size_t k = fit.params.size();
    if (k == 0) throw_invalid(fit.model + ": the model has no parameters");
    if (fit.covariance.size() != k * k)
        throw_invalid(fit.model +
                      ": the model has no covariance matrix (standard errors unavailable), so no intervals");
    if (draws == 0 || draws > 1000000) throw_invalid(fit.model + ": the number of draws must be between 1 and 1000000");
    Eigen::MatrixXd cov(k, k);
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < k; ++j) cov(i, j) = fit.cov(i, j) / (fit.params[i] * fit.params[j]);
    // A symmetric square root that tolerates a semi-definite matrix.
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
    if (eig.info() != Eigen::Success) throw_invalid(fit.model + ": the covariance matrix is not usable");
    const Eigen::VectorXd values = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
    const Eigen::MatrixXd root = eig.eigenvectors() * values.asDiagonal();

    ParameterDraws out;
    out.dimension_ = k;
    out.draws_.reserve(draws);
    Random rng(seed);
    Eigen::VectorXd z(k);
    for (std::size_t d = 0; d < draws; ++d) {
        interrupt.poll(64);
        for (std::size_t i = 0; i < k; ++i) z[i] = rng.normal();
        const Eigen::VectorXd shift = root * z;
        std::vector<double> params(k);
        for (std::size_t i = 0; i < k; ++i) {
            // Clamp in log space so an extreme draw stays a valid, finite model.
            const double lu = std::min(std::max(std::log(fit.params[i]) + shift[i], -300.0), 300.0);
            params[i] = std::exp(lu);
        }
        out.draws_.push_back(std::move(params));
    }
    return out;
}

Interval percentile_interval(std::vector<double> values, double level) {
    if (!(level > 0 && level < 1)) throw_invalid("interval: \"level\" must be in (0, 1)");
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
                 values.end());
    if (values.empty()) throw_invalid("interval: no draw gave a finite value");
    std::sort(values.begin(), values.end());
    auto quantile = [&](double q) {
        const double h = (values.size() - 1) * q;
        const std::size_t lo = static_cast<std::size_t>(std::floor(h));
        const std::size_t hi = std::min(lo + 1, values.size() - 1);
        return values[lo] + (h - lo) * (values[hi] - values[lo]);
    };
    return {quantile((1.0 - level) / 2), quantile((1.0 + level) / 2)};
}

Interval expected_purchases_interval(const TransactionModel &model, const ParameterDraws &draws, double t,
                                     const LifetimeCustomer &customer, double level, const Interrupt &interrupt) {
    std::vector<double> values;
    values.reserve(draws.size());
    for (std::size_t i = 0; i < draws.size(); ++i) {
        interrupt.poll(16);
        values.push_back(model.with_parameters(draws[i])->expected_purchases(t, customer));
    }
    return percentile_interval(std::move(values), level);
}

Interval clv_interval(const TransactionModel &model, const ParameterDraws &draws, const LifetimeCustomer &customer,
                      double value, const std::function<double(std::size_t)> &value_of_draw,
                      const ClvOptions &options, double level, const Interrupt &interrupt) {
    std::vector<double> values;
    values.reserve(draws.size());
    for (std::size_t i = 0; i < draws.size(); ++i) {
        interrupt.check();  // one draw is up to 100000 periods of work
        const double v = value_of_draw ? value_of_draw(i) : value;
        if (!std::isfinite(v)) continue;
        values.push_back(customer_lifetime_value(*model.with_parameters(draws[i]), customer, v, options, interrupt));
    }
    return percentile_interval(std::move(values), level);
}

}  // namespace personalize::lifetime

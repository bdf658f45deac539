// Micro benchmarks of the buy-till-you-die lifetime models: a million
// simulated customers (two-year cohort, day granularity in weekly units, as
// customer_summary() produces them) and the CDNOW sample when the shared data
// folder is there (PERSONALIZE_SHARED_DATA overrides /work/shared/data).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/lifetime/bgnbd.hpp"
#include "core/lifetime/gamma_gamma.hpp"
#include "core/lifetime/pareto_nbd.hpp"
#include "core/lifetime/predict.hpp"
#include "core/lifetime/simulate.hpp"

namespace {

using namespace personalize;
using namespace personalize::lifetime;

const std::vector<SimulatedCustomer> &million() {
    static const std::vector<SimulatedCustomer> customers = [] {
        SimulationSpec spec;
        spec.customers = 1000000;
        spec.age_min = 0;
        spec.age_max = 104;
        spec.granularity = 1.0 / 7;
        spec.spend_p = 6;
        spec.spend_q = 4;
        spec.spend_gamma = 15;
        spec.seed = 1;
        return simulate_bgnbd(0.5, 6.0, 0.8, 3.0, spec);
    }();
    return customers;
}

template <typename State>
const State &million_state() {
    static const State state = [] {
        State s;
        for (const auto &c : million()) s.add(c.x, c.t_x, c.T);
        return s;
    }();
    return state;
}

const FitResult &million_bgnbd_fit() {
    static const FitResult fit = million_state<BgNbdFitState>().fit();
    return fit;
}

struct CdnowRow {
    double x, t_x, T, m;
};

const std::vector<CdnowRow> &cdnow() {
    static const std::vector<CdnowRow> rows = [] {
        std::vector<CdnowRow> out;
        const char *env = std::getenv("PERSONALIZE_SHARED_DATA");
        const std::string dir = env != nullptr && *env != '\0' ? env : "/work/shared/data";
        std::ifstream in(dir + "/cdnow/cdnow_customers_summary_with_transactions.csv");
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            std::stringstream ss(line);
            std::string f[5];
            for (auto &field : f) std::getline(ss, field, ',');
            out.push_back({std::stod(f[1]), std::stod(f[2]), std::stod(f[3]), std::stod(f[4])});
        }
        return out;
    }();
    return rows;
}

void BM_LifetimeAdd1M(benchmark::State &state) {
    const auto &customers = million();
    for (auto _ : state) {
        BgNbdFitState s;
        for (const auto &c : customers) s.add(c.x, c.t_x, c.T);
        benchmark::DoNotOptimize(s.distinct());
        state.counters["distinct"] = static_cast<double>(s.distinct());
    }
    state.SetItemsProcessed(state.iterations() * customers.size());
}
BENCHMARK(BM_LifetimeAdd1M)->Unit(benchmark::kMillisecond);

void BM_LifetimeSerialize1M(benchmark::State &state) {
    const auto &s = million_state<BgNbdFitState>();
    for (auto _ : state) {
        auto bytes = to_bytes(s);
        const auto back = read_whole(bytes.data(), bytes.size(), "bgnbd", BgNbdFitState::read);
        benchmark::DoNotOptimize(back.distinct());
        state.counters["bytes"] = static_cast<double>(bytes.size());
    }
}
BENCHMARK(BM_LifetimeSerialize1M)->Unit(benchmark::kMillisecond);

void BM_BgNbdFit1M(benchmark::State &state) {
    const auto &s = million_state<BgNbdFitState>();
    for (auto _ : state) {
        const FitResult fit = s.fit();
        if (!fit.converged) state.SkipWithError(fit.message.c_str());
        state.counters["iterations"] = fit.iterations;
    }
}
BENCHMARK(BM_BgNbdFit1M)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_BgNbdPredict1M(benchmark::State &state) {
    const auto &customers = million();
    const BgNbdModel model(BgNbdParams::from(million_bgnbd_fit()));
    for (auto _ : state) {
        double sum = 0;
        for (const auto &c : customers) {
            const LifetimeCustomer lc{c.x, c.t_x, c.T};
            sum += model.probability_alive(lc) + model.expected_purchases(52, lc);
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * customers.size());
}
BENCHMARK(BM_BgNbdPredict1M)->Unit(benchmark::kMillisecond);

void BM_BgNbdClv1M(benchmark::State &state) {
    const auto &customers = million();
    const BgNbdModel model(BgNbdParams::from(million_bgnbd_fit()));
    const GammaGammaParams spend{6, 4, 15};
    ClvOptions options;
    options.periods = 12;
    options.period_length = 4.345;  // months, in weeks
    options.discount_rate = 0.01;
    for (auto _ : state) {
        double sum = 0;
        for (const auto &c : customers) {
            const double value = gamma_gamma_expected_spend(spend, c.x, c.m);
            sum += customer_lifetime_value(model, {c.x, c.t_x, c.T}, value, options);
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * customers.size());
}
BENCHMARK(BM_BgNbdClv1M)->Unit(benchmark::kMillisecond);

void BM_BgNbdNextPurchase100k(benchmark::State &state) {
    const auto &customers = million();
    const BgNbdModel model(BgNbdParams::from(million_bgnbd_fit()));
    for (auto _ : state) {
        double sum = 0;
        for (std::size_t i = 0; i < 100000; ++i) {
            const auto &c = customers[i];
            const double t = expected_time_to_next_purchase(model, {c.x, c.t_x, c.T});
            if (t < 1e300) sum += t;
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * 100000);
}
BENCHMARK(BM_BgNbdNextPurchase100k)->Unit(benchmark::kMillisecond);

void BM_ParetoNbdFit1M(benchmark::State &state) {
    const auto &s = million_state<ParetoNbdFitState>();
    for (auto _ : state) {
        const FitResult fit = s.fit();
        if (!fit.converged) state.SkipWithError(fit.message.c_str());
        state.counters["iterations"] = fit.iterations;
    }
}
BENCHMARK(BM_ParetoNbdFit1M)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_GammaGammaFit1M(benchmark::State &state) {
    static const GammaGammaFitState s = [] {
        GammaGammaFitState g;
        for (const auto &c : million()) g.add(c.x, c.m);
        return g;
    }();
    for (auto _ : state) {
        const FitResult fit = s.fit();
        if (!fit.converged) state.SkipWithError(fit.message.c_str());
        state.counters["customers"] = fit.customers;
    }
}
BENCHMARK(BM_GammaGammaFit1M)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_BgNbdBootstrap(benchmark::State &state) {
    const FitResult &fit = million_bgnbd_fit();
    const auto model = make_transaction_model(fit);
    const LifetimeCustomer c{3, 40, 60};
    for (auto _ : state) {
        const auto draws = ParameterDraws::sample(fit, 1000, 42);
        benchmark::DoNotOptimize(expected_purchases_interval(*model, draws, 52, c));
    }
}
BENCHMARK(BM_BgNbdBootstrap)->Unit(benchmark::kMillisecond);

template <typename State>
void fit_cdnow(benchmark::State &state) {
    const auto &rows = cdnow();
    if (rows.empty()) {
        state.SkipWithError("CDNOW data not found");
        return;
    }
    State s;
    for (const auto &r : rows) s.add(r.x, r.t_x, r.T);
    for (auto _ : state) benchmark::DoNotOptimize(s.fit().log_likelihood);
}
void BM_BgNbdFitCdnow(benchmark::State &state) { fit_cdnow<BgNbdFitState>(state); }
void BM_ParetoNbdFitCdnow(benchmark::State &state) { fit_cdnow<ParetoNbdFitState>(state); }
BENCHMARK(BM_BgNbdFitCdnow)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParetoNbdFitCdnow)->Unit(benchmark::kMillisecond);

void BM_GammaGammaFitCdnow(benchmark::State &state) {
    const auto &rows = cdnow();
    if (rows.empty()) {
        state.SkipWithError("CDNOW data not found");
        return;
    }
    GammaGammaFitState s;
    for (const auto &r : rows) s.add(r.x, r.m);
    for (auto _ : state) benchmark::DoNotOptimize(s.fit().log_likelihood);
}
BENCHMARK(BM_GammaGammaFitCdnow)->Unit(benchmark::kMillisecond);

}  // namespace

// Micro benchmarks of core hot paths (Google Benchmark). The SQL-level
// comparisons with plain PostgreSQL live in test/bench/*.sh.
#include <benchmark/benchmark.h>

#include "core/customers/summary.hpp"
#include "core/demo/shop.hpp"

namespace {

using personalize::customers::CustomerSummary;
using personalize::customers::SummaryParams;

// One customer's orders arriving in time order (the common case) or reversed.
void BM_CustomerSummaryAdd(benchmark::State &state) {
    const auto orders = static_cast<int>(state.range(0));
    const bool reversed = state.range(1) != 0;
    const SummaryParams params{1LL << 40, 100000, 7.0};
    for (auto _ : state) {
        CustomerSummary summary;
        for (int i = 0; i < orders; ++i) {
            const int day = reversed ? orders - i : i;
            summary.add(params, day, day, 10.0 + i);
        }
        benchmark::DoNotOptimize(summary.result());
    }
    state.SetItemsProcessed(state.iterations() * orders);
}
BENCHMARK(BM_CustomerSummaryAdd)->Args({5, 0})->Args({100, 0})->Args({100, 1})->Args({5000, 1});

void BM_DemoShopOrderLines(benchmark::State &state) {
    const auto spec = personalize::demo::make_spec("demo", 42);
    std::int64_t lines = 0;
    for (auto _ : state) {
        personalize::demo::generate_order_lines(
            spec, [&](const personalize::demo::OrderLine &) { ++lines; }, personalize::Interrupt());
    }
    state.SetItemsProcessed(lines);
}
BENCHMARK(BM_DemoShopOrderLines)->Unit(benchmark::kMillisecond);

}  // namespace

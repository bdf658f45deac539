// Micro benchmarks of basket collection and association-rule mining.
// Datasets under $PERSONALIZE_SHARED_DATA (default /work/shared/data) are
// optional: their benchmarks report an error when the file is missing.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/mining/association_rules.hpp"
#include "core/mining/baskets.hpp"

namespace {

using personalize::mining::BasketBuilder;
using personalize::mining::BasketCollection;
using personalize::Interrupt;
using personalize::MemoryBudget;
using personalize::mining::MiningStats;
using personalize::mining::Rule;
using personalize::mining::RuleOptions;

struct Line {
    std::int64_t basket, item;
};

// 10M (basket, item) lines over 1M baskets and 20k items, in random order.
const std::vector<Line> &random_lines() {
    static const std::vector<Line> lines = [] {
        std::mt19937_64 rng(42);
        std::vector<Line> v(10'000'000);
        for (auto &l : v) l = {static_cast<std::int64_t>(rng() % 1'000'000), static_cast<std::int64_t>(rng() % 20'000)};
        return v;
    }();
    return lines;
}

void BM_MiningBasketAdd(benchmark::State &state) {
    const auto &lines = random_lines();
    for (auto _ : state) {
        BasketBuilder builder{MemoryBudget()};
        for (const Line &l : lines) builder.add(l.basket, l.item);
        benchmark::DoNotOptimize(builder.pending_lines());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(lines.size()));
}
BENCHMARK(BM_MiningBasketAdd)->Unit(benchmark::kMillisecond);

void BM_MiningBasketFinish(benchmark::State &state) {
    const auto &lines = random_lines();
    std::size_t baskets = 0, distinct = 0, peak = 0;
    for (auto _ : state) {
        state.PauseTiming();
        BasketBuilder builder{MemoryBudget()};
        for (const Line &l : lines) builder.add(l.basket, l.item);
        state.ResumeTiming();
        const BasketCollection c = builder.finish(Interrupt());
        baskets = c.size();
        distinct = c.lines();
        peak = builder.budget().peak();
        benchmark::DoNotOptimize(c.lines());
    }
    state.counters["baskets"] = static_cast<double>(baskets);
    state.counters["distinct_lines"] = static_cast<double>(distinct);
    state.counters["peak_MB"] = static_cast<double>(peak) / (1 << 20);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(lines.size()));
}
BENCHMARK(BM_MiningBasketFinish)->Unit(benchmark::kMillisecond);

// The byte form of the baskets() state (10M lines, 160 MB) and of the
// finished collection: serialfunc / deserialfunc and the stored type. The
// deserialisation times are mostly the fresh allocation's page faults.
const BasketBuilder &random_builder() {
    static const BasketBuilder builder = [] {
        BasketBuilder b{MemoryBudget()};
        for (const Line &l : random_lines()) b.add(l.basket, l.item);
        return b;
    }();
    return builder;
}

void BM_MiningBasketStateWrite(benchmark::State &state) {
    const BasketBuilder &builder = random_builder();
    std::vector<unsigned char> bytes(personalize::byte_size(builder));
    for (auto _ : state) {
        personalize::write_bytes(builder, bytes.data(), bytes.size());
        benchmark::DoNotOptimize(bytes.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_MiningBasketStateWrite)->Unit(benchmark::kMillisecond);

void BM_MiningBasketStateRead(benchmark::State &state) {
    const std::vector<unsigned char> bytes = personalize::to_bytes(random_builder());
    for (auto _ : state) {
        const BasketBuilder back = BasketBuilder::deserialize(bytes.data(), bytes.size(), MemoryBudget());
        benchmark::DoNotOptimize(back.pending_lines());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_MiningBasketStateRead)->Unit(benchmark::kMillisecond);

void BM_MiningBasketValueRead(benchmark::State &state) {
    BasketBuilder builder{MemoryBudget()};
    builder.merge(random_builder());
    const std::vector<unsigned char> bytes = personalize::to_bytes(builder.finish(Interrupt()));
    for (auto _ : state) {
        MemoryBudget budget;
        const BasketCollection back = BasketCollection::deserialize(bytes.data(), bytes.size(), budget);
        benchmark::DoNotOptimize(back.lines());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_MiningBasketValueRead)->Unit(benchmark::kMillisecond);

// 1M baskets of ~10 distinct items drawn from a Zipf(1) law over 20k items.
const BasketCollection &zipf_baskets() {
    static const BasketCollection baskets = [] {
        constexpr int kItems = 20'000;
        std::vector<double> cdf(kItems);
        double sum = 0;
        for (int i = 0; i < kItems; ++i) cdf[static_cast<std::size_t>(i)] = sum += 1.0 / (i + 1);
        for (double &c : cdf) c /= sum;
        std::mt19937_64 rng(7);
        std::uniform_real_distribution<double> u(0.0, 1.0);
        BasketBuilder builder{MemoryBudget()};
        for (std::int64_t b = 0; b < 1'000'000; ++b)
            for (int k = 0; k < 10; ++k)
                builder.add(b, std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
        return builder.finish(Interrupt());
    }();
    return baskets;
}

std::string shared_data() {
    const char *env = std::getenv("PERSONALIZE_SHARED_DATA");
    return env && *env ? env : "/work/shared/data";
}

// FIMI retail: one basket per line, space-separated item ids.
const BasketCollection *retail_baskets() {
    static const BasketCollection *baskets = []() -> const BasketCollection * {
        std::ifstream in(shared_data() + "/fimi_retail/retail.dat");
        if (!in) return nullptr;
        BasketBuilder builder{MemoryBudget()};
        std::string line;
        std::int64_t b = 0;
        while (std::getline(in, line)) {
            std::istringstream items(line);
            std::int64_t item;
            while (items >> item) builder.add(b, item);
            ++b;
        }
        return new BasketCollection(builder.finish(Interrupt()));
    }();
    return baskets;
}

void run_mining(benchmark::State &state, const BasketCollection &baskets, const RuleOptions &options) {
    MiningStats stats;
    for (auto _ : state) {
        MemoryBudget budget;
        stats = personalize::mining::mine_rules(baskets, options, budget, Interrupt(),
                                        [](const Rule &r) { benchmark::DoNotOptimize(r.lift); });
    }
    state.counters["baskets"] = static_cast<double>(stats.baskets);
    state.counters["min_count"] = static_cast<double>(stats.min_count);
    state.counters["frequent_items"] = static_cast<double>(stats.frequent_items);
    state.counters["itemsets"] = static_cast<double>(stats.frequent_itemsets);
    state.counters["rules"] = static_cast<double>(stats.rules);
    state.counters["peak_MB"] = static_cast<double>(stats.peak_bytes) / (1 << 20);
}

void BM_MiningZipfPairs(benchmark::State &state) {
    RuleOptions o;
    o.min_count = 20;
    o.max_len = 2;
    run_mining(state, zipf_baskets(), o);
}
BENCHMARK(BM_MiningZipfPairs)->Unit(benchmark::kMillisecond);

void BM_MiningZipfTriples(benchmark::State &state) {
    RuleOptions o;
    o.min_count = 20;
    o.max_len = 3;
    run_mining(state, zipf_baskets(), o);
}
BENCHMARK(BM_MiningZipfTriples)->Unit(benchmark::kMillisecond);

void BM_MiningRetailPairs(benchmark::State &state) {
    const BasketCollection *retail = retail_baskets();
    if (!retail) return state.SkipWithError("no fimi_retail/retail.dat");
    RuleOptions o;
    o.min_count = 10;
    o.max_len = 2;
    run_mining(state, *retail, o);
}
BENCHMARK(BM_MiningRetailPairs)->Unit(benchmark::kMillisecond);

void BM_MiningRetailFpGrowth(benchmark::State &state) {
    const BasketCollection *retail = retail_baskets();
    if (!retail) return state.SkipWithError("no fimi_retail/retail.dat");
    RuleOptions o;
    o.min_support = static_cast<double>(state.range(0)) / 10000.0;
    o.max_len = static_cast<int>(state.range(1));
    run_mining(state, *retail, o);
}
BENCHMARK(BM_MiningRetailFpGrowth)->Args({10, 3})->Args({10, 10})->Args({5, 10})->Unit(benchmark::kMillisecond);

}  // namespace

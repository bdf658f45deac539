// The demo shop's catalogue (see catalogue.hpp): the reference data, the
// product layout per catalogue size, and per (size, seed) the prices,
// popularity and samplers.
#include "core/demo/catalogue.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>

namespace personalize::demo {

namespace {

struct CategoryDef {
    const char *name;
    double weight;  // share of the catalogue and of customers' favourites
};

constexpr CategoryDef kCategories[] = {
    {"Phones & accessories", 10}, {"Kitchen", 10}, {"Coffee", 6},        {"Printing", 5},
    {"Outdoor", 8},               {"Beauty", 9},   {"Books", 12},        {"Toys", 9},
    {"Garden", 7},                {"Pet supplies", 7}, {"Clothing", 10}, {"Home", 8},
};
static_assert(sizeof(kCategories) / sizeof(kCategories[0]) == kCategoryCount);

struct BaseDef {
    int category;
    const char *name;
    double lo, hi;  // price range, GBP
};

constexpr BaseDef kBases[] = {
    {0, "Phone case", 5, 25},         {0, "Screen protector", 4, 15},   {0, "Charging cable", 5, 20},
    {0, "Wireless charger", 15, 60},  {0, "Earbuds", 15, 150},          {0, "Power bank", 15, 60},
    {1, "Chef's knife", 15, 120},     {1, "Frying pan", 15, 90},        {1, "Chopping board", 8, 40},
    {1, "Mixing bowl", 6, 30},        {1, "Toaster", 20, 80},           {1, "Kettle", 20, 90},
    {2, "Coffee machine", 60, 450},   {2, "Coffee beans", 5, 18},       {2, "Coffee grinder", 25, 180},
    {2, "Milk frother", 15, 80},      {2, "Travel mug", 8, 25},         {2, "Paper filters", 2.5, 6},
    {3, "Printer", 60, 300},          {3, "Ink cartridge", 12, 45},     {3, "Printer paper", 4, 15},
    {3, "Label maker", 20, 70},       {3, "Photo paper", 6, 20},
    {4, "Tent", 50, 400},             {4, "Sleeping bag", 25, 150},     {4, "Camping stove", 25, 90},
    {4, "Head torch", 10, 45},        {4, "Hiking backpack", 30, 160},  {4, "Water bottle", 8, 30},
    {5, "Razor", 8, 60},              {5, "Razor blades", 6, 25},       {5, "Face cream", 8, 60},
    {5, "Shampoo", 3, 15},            {5, "Hair dryer", 20, 120},       {5, "Lip balm", 2, 8},
    {6, "Novel", 6, 15},              {6, "Cookbook", 12, 30},          {6, "Travel guide", 10, 25},
    {6, "Children's book", 5, 14},    {6, "Biography", 9, 25},
    {7, "Train set", 25, 120},        {7, "Train track extension", 8, 30}, {7, "Jigsaw puzzle", 8, 25},
    {7, "Building blocks", 10, 80},   {7, "Board game", 12, 50},        {7, "Plush toy", 6, 30},
    {8, "Hose pipe", 15, 60},         {8, "Hose connector", 3, 12},     {8, "Plant pot", 4, 30},
    {8, "Secateurs", 8, 40},          {8, "Seed packet", 1.5, 4},       {8, "Garden gloves", 4, 15},
    {9, "Dog lead", 8, 30},           {9, "Dog treats", 3, 12},         {9, "Cat litter", 5, 20},
    {9, "Pet bed", 15, 80},           {9, "Dog toy", 4, 15},            {9, "Cat food", 4, 25},
    {10, "T-shirt", 8, 30},           {10, "Socks", 4, 15},             {10, "Hoodie", 20, 60},
    {10, "Rain jacket", 30, 150},     {10, "Scarf", 10, 40},            {10, "Jeans", 25, 90},
    {11, "Scented candle", 6, 30},    {11, "Cushion", 10, 40},          {11, "Throw blanket", 15, 60},
    {11, "Picture frame", 6, 30},     {11, "Lamp", 20, 120},            {11, "Towel set", 12, 50},
};
constexpr int kBaseCount = static_cast<int>(sizeof(kBases) / sizeof(kBases[0]));

struct PairDef {
    const char *antecedent;  // base names; the products are "<base> 1"
    const char *consequent;
    double attach_rate;
};

constexpr PairDef kPairs[] = {
    {"Phone case", "Screen protector", 0.60},   {"Printer", "Ink cartridge", 0.70},
    {"Coffee machine", "Coffee beans", 0.65},   {"Tent", "Sleeping bag", 0.50},
    {"Dog lead", "Dog treats", 0.55},           {"Razor", "Razor blades", 0.60},
    {"Hose pipe", "Hose connector", 0.50},      {"Train set", "Train track extension", 0.60},
};
static_assert(sizeof(kPairs) / sizeof(kPairs[0]) == kPairCount);

constexpr double kZipfExponent = 1.05;
constexpr double kZipfOffset = 10.0;  // Zipf-Mandelbrot: weight 1 / (rank + offset)^exponent

}  // namespace

// ---------------------------------------------------------------------------
// Product layout: names and categories depend on the number of products only
// (never on the seed), and live for the life of the process, so names can be
// handed out as static storage.

struct Layout {
    std::int64_t n = 0;
    std::vector<std::uint8_t> base;      // per product index
    std::vector<const char *> names;     // into text
    std::string text;
    std::array<std::uint32_t, kPairCount> pair_antecedent{};
    std::array<std::uint32_t, kPairCount> pair_consequent{};
};

namespace {

int find_base(const char *name) {
    for (int b = 0; b < kBaseCount; ++b)
        if (std::strcmp(kBases[b].name, name) == 0) return b;
    return -1;
}

void build_layout(Layout &layout, std::int64_t n) {
    layout.n = n;
    std::array<int, kCategoryCount> nbases{};
    std::array<int, kCategoryCount> first_base{};
    for (int b = kBaseCount - 1; b >= 0; --b) {
        ++nbases[kBases[b].category];
        first_base[kBases[b].category] = b;
    }
    // Every base name at least once, the rest by largest remainder of the weights.
    std::array<std::int64_t, kCategoryCount> count{};
    std::int64_t assigned = 0;
    double total_weight = 0;
    for (int c = 0; c < kCategoryCount; ++c) {
        count[c] = nbases[c];
        assigned += nbases[c];
        total_weight += kCategories[c].weight;
    }
    const std::int64_t rest = n - assigned;
    std::array<double, kCategoryCount> remainder{};
    std::int64_t given = 0;
    for (int c = 0; c < kCategoryCount; ++c) {
        const double quota = static_cast<double>(rest) * kCategories[c].weight / total_weight;
        const auto whole = static_cast<std::int64_t>(std::floor(quota));
        count[c] += whole;
        given += whole;
        remainder[c] = quota - static_cast<double>(whole);
    }
    for (std::int64_t left = rest - given; left > 0; --left) {
        int best = 0;
        for (int c = 1; c < kCategoryCount; ++c)
            if (remainder[c] > remainder[best]) best = c;
        ++count[best];
        remainder[best] = -1.0;
    }

    struct Item {
        std::uint8_t base;
        std::uint32_t number;
    };
    std::vector<Item> items;
    items.reserve(static_cast<std::size_t>(n));
    for (int c = 0; c < kCategoryCount; ++c)
        for (std::int64_t j = 0; j < count[c]; ++j)
            items.push_back({static_cast<std::uint8_t>(first_base[c] + j % nbases[c]),
                             static_cast<std::uint32_t>(j / nbases[c] + 1)});
    // Mix the categories over the product ids (fixed: names never depend on the seed).
    Random rng(mix64(0x6c61796f7574ULL ^ static_cast<std::uint64_t>(n)));
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[scaled_below(rng, i)]);

    layout.base.resize(items.size());
    std::vector<std::size_t> offsets(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        layout.base[i] = items[i].base;
        offsets[i] = layout.text.size();
        layout.text += kBases[items[i].base].name;
        layout.text += ' ';
        layout.text += std::to_string(items[i].number);
        layout.text += '\0';
    }
    layout.names.resize(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) layout.names[i] = layout.text.data() + offsets[i];

    for (int k = 0; k < kPairCount; ++k) {
        const int a = find_base(kPairs[k].antecedent);
        const int b = find_base(kPairs[k].consequent);
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (items[i].number != 1) continue;
            if (items[i].base == a) layout.pair_antecedent[k] = static_cast<std::uint32_t>(i);
            if (items[i].base == b) layout.pair_consequent[k] = static_cast<std::uint32_t>(i);
        }
    }
}

const Layout &layout_for(std::int64_t n) {
    static std::mutex mutex;
    static std::deque<Layout> cache;  // a deque never moves its elements
    std::lock_guard<std::mutex> lock(mutex);
    for (const Layout &layout : cache)
        if (layout.n == n) return layout;
    Layout &layout = cache.emplace_back();
    build_layout(layout, n);
    return layout;
}

}  // namespace

// ---------------------------------------------------------------------------
// Per-(spec) catalogue: prices, popularity and the samplers.

Catalogue::Catalogue(const ShopSpec &spec) {
    n_ = spec.products;
    layout_ = &layout_for(n_);
    const auto n = static_cast<std::size_t>(n_);

    price_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        Random rng = stream(spec.seed, i + 1, kProductPrice, 0);
        const BaseDef &b = kBases[layout_->base[i]];
        const double pounds = b.lo * det_exp(rng.uniform() * det_log(b.hi / b.lo));
        std::int64_t pence = static_cast<std::int64_t>(std::floor(pounds * 100.0 + 0.5));
        const double style = rng.uniform();
        if (style < 0.55 && pence >= 200) {
            pence = (pence + 50) / 100 * 100 - 1;  // 12.99
        } else if (style < 0.75 && pence >= 100) {
            pence = (pence + 25) / 50 * 50 - 1;    // 12.49 / 12.99
        }
        price_[i] = std::max<std::int64_t>(pence, 99);
    }

    // Popularity: Zipf over a seeded shuffle of the products; the planted pair
    // products are moved to moderate ranks so that their lift is clearly high.
    std::vector<std::uint32_t> by_rank(n);
    for (std::size_t i = 0; i < n; ++i) by_rank[i] = static_cast<std::uint32_t>(i);
    {
        Random rng = stream(spec.seed, 0, kPopularity, 0);
        for (std::size_t i = n; i > 1; --i) std::swap(by_rank[i - 1], by_rank[scaled_below(rng, i)]);
    }
    std::vector<double> rank_weight(n);
    double harmonic = 0;
    for (std::size_t r = 0; r < n; ++r) {
        rank_weight[r] = det_exp(-kZipfExponent * det_log(static_cast<double>(r + 1) + kZipfOffset));
        harmonic += rank_weight[r];
    }
    // Aim at ~0.8% of orders containing a pair product by popularity alone.
    const double target_share = 0.008 / spec.mean_lines;
    double r0 = det_pow(1.0 / (target_share * harmonic), 1.0 / kZipfExponent) - kZipfOffset;
    const double last_start = static_cast<double>(n) - 2.0 * kPairCount - 2.0;
    r0 = std::min(std::max(r0, static_cast<double>(n) / 10.0), last_start);
    const auto start = static_cast<std::size_t>(r0);
    std::vector<std::uint32_t> rank_of(n);
    for (std::size_t r = 0; r < n; ++r) rank_of[by_rank[r]] = static_cast<std::uint32_t>(r);
    for (int k = 0; k < kPairCount; ++k) {
        const std::uint32_t products[2] = {layout_->pair_antecedent[k], layout_->pair_consequent[k]};
        for (int j = 0; j < 2; ++j) {
            const std::size_t target = start + static_cast<std::size_t>(2 * k + j);
            const std::uint32_t product = products[j];
            const std::uint32_t displaced = by_rank[target];
            const std::uint32_t old_rank = rank_of[product];
            std::swap(by_rank[target], by_rank[old_rank]);
            rank_of[product] = static_cast<std::uint32_t>(target);
            rank_of[displaced] = old_rank;
        }
    }
    role_.assign(n, 0);
    for (int k = 0; k < kPairCount; ++k) {
        planted_[k] = {layout_->pair_antecedent[k], layout_->pair_consequent[k], kPairs[k].attach_rate};
        pairs_.push_back(planted_[k]);
        role_[layout_->pair_antecedent[k]] = static_cast<std::int8_t>(k + 1);
        role_[layout_->pair_consequent[k]] = static_cast<std::int8_t>(-(k + 1));
    }
    std::vector<double> weight(n);
    for (std::size_t i = 0; i < n; ++i) weight[i] = rank_weight[rank_of[i]];
    global_.build(weight);
    for (std::size_t i = 0; i < n; ++i)
        members_[kBases[layout_->base[i]].category].push_back(static_cast<std::uint32_t>(i));
    for (int c = 0; c < kCategoryCount; ++c) {
        // Within a favourite category the pair products stay modest too.
        std::vector<double> w;
        w.reserve(members_[c].size());
        for (std::uint32_t i : members_[c]) w.push_back(role_[i] != 0 ? 0.25 * weight[i] : weight[i]);
        by_category_[c].build(w);
    }

    std::sort(pairs_.begin(), pairs_.end(),
              [](const Pair &a, const Pair &b) { return a.antecedent < b.antecedent; });

    std::vector<double> kw;
    for (const CategoryDef &c : kCategories) kw.push_back(c.weight);
    categories_.build(kw);
}

const char *Catalogue::name(std::size_t product) const { return layout_->names[product]; }

const char *Catalogue::category(std::size_t product) const {
    return kCategories[kBases[layout_->base[product]].category].name;
}

}  // namespace personalize::demo

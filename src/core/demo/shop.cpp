// Deterministic demo shop generator (see demo_shop.hpp).
//
// Determinism: everything comes from our own xoshiro256** streams and our own
// distribution code (std::*_distribution differs between standard libraries).
// Even log/exp are our own (det_log / det_exp below, built from IEEE +, *, /,
// frexp, ldexp and floor only), so the output does not depend on the libm
// either. What remains is IEEE-754 double arithmetic itself: on a target with
// fused multiply-add, a compiler that contracts a*b+c into one FMA could change
// a last bit, so builds should keep -ffp-contract=off (clang is told so below).
//
// Streams: customer c draws its profile, its order times, each of its orders
// (status and lines), its web sessions, the anonymous sessions of its "slot"
// and each session's events from separate streams keyed by (seed, c, purpose,
// index). Every table therefore agrees with every other without any of them
// being materialised, and ids are assigned by walking customers in order.
#include "core/demo/shop.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "core/common/error.hpp"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace personalize::demo {

namespace {

constexpr std::int64_t kSecond = 1000000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

// 2024-01-01 and 2026-01-01, 00:00 UTC, in Unix microseconds.
constexpr std::int64_t kHistoryStart = 1704067200LL * kSecond;
constexpr std::int64_t kHistoryEnd = 1767225600LL * kSecond;
constexpr std::int64_t kSessionDays = 90;

// ---------------------------------------------------------------------------
// Deterministic elementary functions.

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // low 32 bits zero: k*kLn2Hi is exact
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;

// Natural logarithm of a positive finite x, |relative error| ~ 1e-16.
double det_log(double x) {
    int e = 0;
    double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e -= 1;
    }
    const double f = m - 1.0;  // exact
    const double s = f / (2.0 + f);
    const double z = s * s;
    // log(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.1716.
    double poly = 1.0 / 23.0;
    poly = poly * z + 1.0 / 21.0;
    poly = poly * z + 1.0 / 19.0;
    poly = poly * z + 1.0 / 17.0;
    poly = poly * z + 1.0 / 15.0;
    poly = poly * z + 1.0 / 13.0;
    poly = poly * z + 1.0 / 11.0;
    poly = poly * z + 1.0 / 9.0;
    poly = poly * z + 1.0 / 7.0;
    poly = poly * z + 1.0 / 5.0;
    poly = poly * z + 1.0 / 3.0;
    const double log_m = 2.0 * s + 2.0 * s * (z * poly);
    const double de = static_cast<double>(e);
    return de * kLn2Hi + (de * kLn2Lo + log_m);
}

double det_exp(double x) {
    if (x > 709.0) return std::numeric_limits<double>::infinity();
    if (x < -745.0) return 0.0;
    const double k = std::floor(x * kInvLn2 + 0.5);
    const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= 0.35
    double poly = 1.0 / 6227020800.0;                // 1/13!
    poly = poly * r + 1.0 / 479001600.0;
    poly = poly * r + 1.0 / 39916800.0;
    poly = poly * r + 1.0 / 3628800.0;
    poly = poly * r + 1.0 / 362880.0;
    poly = poly * r + 1.0 / 40320.0;
    poly = poly * r + 1.0 / 5040.0;
    poly = poly * r + 1.0 / 720.0;
    poly = poly * r + 1.0 / 120.0;
    poly = poly * r + 1.0 / 24.0;
    poly = poly * r + 1.0 / 6.0;
    poly = poly * r + 0.5;
    poly = poly * r + 1.0;
    poly = poly * r + 1.0;
    return std::ldexp(poly, static_cast<int>(k));
}

double det_pow(double x, double y) { return det_exp(y * det_log(x)); }

// ---------------------------------------------------------------------------
// Random streams.

inline std::uint64_t mix64(std::uint64_t z) {  // splitmix64 step + finaliser
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

class Rng {
public:
    explicit Rng(std::uint64_t seed) {
        std::uint64_t x = seed;
        for (auto &w : s_) {
            w = mix64(x);
            x += 0x9e3779b97f4a7c15ULL;
        }
    }

    std::uint64_t next() {  // xoshiro256**
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }            // [0, 1)
    double uniform_pos() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }  // (0, 1]
    bool chance(double p) { return uniform() < p; }

    // Uniform integer in [0, n), n < 2^32.
    std::uint32_t below(std::uint64_t n) { return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32); }
    std::int64_t between(std::int64_t lo, std::int64_t hi) {  // [lo, hi], hi - lo < 2^32
        return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
    }

    double exponential() { return -det_log(uniform_pos()); }

    double normal() {  // Marsaglia's polar method, one value per call
        for (;;) {
            const double a = 2.0 * uniform() - 1.0;
            const double b = 2.0 * uniform() - 1.0;
            const double s = a * a + b * b;
            if (s > 0.0 && s < 1.0) return a * std::sqrt(-2.0 * det_log(s) / s);
        }
    }

    double gamma(double shape) {  // scale 1; Marsaglia & Tsang
        if (shape < 1.0) {
            const double g = gamma(shape + 1.0);
            return g * det_exp(det_log(uniform_pos()) / shape);
        }
        const double d = shape - 1.0 / 3.0;
        const double c = 1.0 / std::sqrt(9.0 * d);
        for (;;) {
            double x = 0.0, v = 0.0;
            do {
                x = normal();
                v = 1.0 + c * x;
            } while (v <= 0.0);
            v = v * v * v;
            const double u = uniform_pos();
            const double x2 = x * x;
            if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
            if (det_log(u) < 0.5 * x2 + d * (1.0 - v + det_log(v))) return d * v;
        }
    }

    double beta(double a, double b) {
        const double x = gamma(a);
        const double y = gamma(b);
        const double s = x + y;
        return s > 0.0 ? x / s : 0.5;
    }

    std::int64_t poisson(double mean) {
        if (!(mean > 0.0)) return 0;
        if (mean < 40.0) {
            const double u = uniform();
            double p = det_exp(-mean);
            double cdf = p;
            std::int64_t x = 0;
            while (u > cdf && x < 1000) {
                ++x;
                p *= mean / static_cast<double>(x);
                cdf += p;
            }
            return x;
        }
        const double x = std::floor(mean + std::sqrt(mean) * normal() + 0.5);
        return x < 0.0 ? 0 : static_cast<std::int64_t>(x);
    }

    // Negative binomial as a gamma-Poisson mixture: mean `mean`, dispersion `k`.
    std::int64_t neg_binomial(double k, double mean) { return poisson(gamma(k) * (mean / k)); }

private:
    std::array<std::uint64_t, 4> s_;
};

enum Purpose : std::uint64_t {
    kProfile = 1,
    kOrderTimes,
    kOrder,
    kSessions,
    kAnonymous,
    kEvents,
    kProductPrice,
    kPopularity,
};

Rng stream(std::uint64_t seed, std::uint64_t key, std::uint64_t purpose, std::uint64_t index) {
    std::uint64_t h = mix64(seed ^ 0x243f6a8885a308d3ULL);
    h = mix64(h ^ key);
    h = mix64(h ^ (purpose * 0xd1b54a32d192ed03ULL));
    h = mix64(h ^ index);
    return Rng(h);
}

// Walker's alias method: O(1) sampling from a fixed discrete distribution.
class AliasTable {
public:
    AliasTable() = default;
    explicit AliasTable(const std::vector<double> &weights) { build(weights); }

    void build(const std::vector<double> &weights) {
        const std::size_t n = weights.size();
        prob_.assign(n, 1.0);
        alias_.resize(n);
        double total = 0.0;
        for (double w : weights) total += w;
        std::vector<double> scaled(n);
        std::vector<std::uint32_t> small, large;
        small.reserve(n);
        large.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            alias_[i] = static_cast<std::uint32_t>(i);
            scaled[i] = weights[i] * static_cast<double>(n) / total;
            (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
        }
        while (!small.empty() && !large.empty()) {
            const std::uint32_t s = small.back();
            small.pop_back();
            const std::uint32_t l = large.back();
            prob_[s] = scaled[s];
            alias_[s] = l;
            scaled[l] = (scaled[l] + scaled[s]) - 1.0;
            if (scaled[l] < 1.0) {
                large.pop_back();
                small.push_back(l);
            }
        }
        // Whatever is left holds probability 1 (rounding leftovers).
    }

    std::uint32_t sample(Rng &rng) const {
        const std::uint64_t x = rng.next();
        const auto i = static_cast<std::uint32_t>(((x >> 32) * prob_.size()) >> 32);
        const double frac = static_cast<double>(x & 0xffffffffULL) * 0x1.0p-32;
        return frac < prob_[i] ? i : alias_[i];
    }

    std::size_t size() const { return prob_.size(); }

private:
    std::vector<double> prob_;
    std::vector<std::uint32_t> alias_;
};

// ---------------------------------------------------------------------------
// Static reference data.

struct CategoryDef {
    const char *name;
    double weight;  // share of the catalogue and of customers' favourites
};

constexpr CategoryDef kCategories[] = {
    {"Phones & accessories", 10}, {"Kitchen", 10}, {"Coffee", 6},        {"Printing", 5},
    {"Outdoor", 8},               {"Beauty", 9},   {"Books", 12},        {"Toys", 9},
    {"Garden", 7},                {"Pet supplies", 7}, {"Clothing", 10}, {"Home", 8},
};
constexpr int kCategoryCount = static_cast<int>(sizeof(kCategories) / sizeof(kCategories[0]));

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
constexpr int kPairCount = static_cast<int>(sizeof(kPairs) / sizeof(kPairs[0]));

struct CountryDef {
    const char *code;
    double weight;
};

constexpr CountryDef kCountries[] = {
    {"GB", 46}, {"IE", 9}, {"FR", 8}, {"DE", 8}, {"NL", 6}, {"US", 6}, {"ES", 4},
    {"BE", 3},  {"IT", 3}, {"SE", 2}, {"DK", 1.5}, {"CH", 1.5}, {"AU", 1}, {"CA", 1},
};

// Share of activity per UTC hour (the customers are mostly in Europe): busy evenings.
constexpr double kHourWeights[24] = {
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.2, 3.0, 3.5, 3.8, 4.0,
    4.8, 4.5, 4.0, 4.0, 4.3, 5.0, 6.0, 7.5, 8.5, 8.0, 5.5, 2.8,
};

const char *const kCompleted = "completed";
const char *const kCancelled = "cancelled";
const char *const kReturned = "returned";
const char *const kPageView = "page_view";
const char *const kAddToCart = "add_to_cart";
const char *const kExitIntent = "exit_intent";
const char *const kCheckout = "checkout";

// ---------------------------------------------------------------------------
// Model parameters (one set for every size; the sizes differ in scale only).

constexpr double kProspectShare = 0.10;     // sign up but never order (late signups add a few more)
constexpr double kEmailOptIn = 0.60;
constexpr double kSignupPower = 0.8;        // signup at start + U^0.8 * span: more recent a bit likelier
constexpr double kRateShape = 0.55;         // lambda ~ Gamma(r, alpha), per day
constexpr double kRateScaleDays = 12.5;     // alpha in days: mean lambda = r / alpha
constexpr double kMaxRatePerDay = 0.5;
constexpr double kDropA = 0.7;              // p ~ Beta(a, b)
constexpr double kDropB = 4.0;
constexpr double kSameVisitFirstOrder = 0.4;
constexpr double kFirstOrderDelayDays = 20.0;
constexpr double kZipfExponent = 1.05;
constexpr double kZipfOffset = 10.0;       // Zipf-Mandelbrot: weight 1 / (rank + offset)^exponent
constexpr double kBulkShare = 0.01;         // orders drawn from the bulk tail (25..200 lines)
constexpr int kBulkFrom = 25;
constexpr double kBulkMeanExtra = 30.0;
constexpr int kMaxDrawnLines = 200;         // + at most one consequent per pair: <= 208 lines
constexpr double kCompletedShare = 0.94;
constexpr double kCancelledShare = 0.03;

// Web sessions.
constexpr double kProspectBrowsePerDay = 0.05;
constexpr double kBaseBrowsePerDay = 0.008;  // any signed-up customer
constexpr double kActiveBrowsePerOrder = 1.8;  // non-converting visits per expected order while active
constexpr double kAnonymousPerSlot = 1.0;    // anonymous sessions per customer slot over the window
constexpr double kConvertedExitIntent = 0.08;
constexpr double kBrowseExitIntent = 0.30;
constexpr double kCartReturning = 0.68;      // P(cart) in a non-converting session (carts are
constexpr double kCartCustomer = 0.62;       // abandoned a lot)
constexpr double kCartAnonymous = 0.55;
constexpr double kProductPageShare = 0.55;   // page views that show a product
constexpr double kOrderSizedCart = 0.7;      // abandoned carts sized like orders (else small)

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
    Rng rng(mix64(0x6c61796f7574ULL ^ static_cast<std::uint64_t>(n)));
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.below(i)]);

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

std::int64_t min_products() {
    return 80;  // every base name (70) at least once, with room to spare
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

// ---------------------------------------------------------------------------
// Per-(spec) catalogue: prices, popularity and the samplers.

struct Pair {
    std::uint32_t antecedent;  // product index (id - 1)
    std::uint32_t consequent;
    double attach_rate;
};

struct LineItem {
    std::uint32_t product;  // index (id - 1)
    std::int32_t quantity;
    std::int64_t price;     // pence
};

struct Profile {
    std::int64_t customer_id = 0;
    std::int64_t signed_up_at = 0;
    std::uint32_t country = 0;
    bool email_opt_in = false;
    bool prospect = false;
    double lambda = 0;       // orders per day
    double drop = 0;         // dropout probability after each order
    double fav_share = 0;    // share of lines drawn from the favourite categories
    int favourites = 0;
    std::array<std::uint8_t, 3> favourite{};
    int staples = 0;
    std::array<std::uint32_t, 3> staple{};
    std::int64_t first_order_at = 0;  // of the process; may be >= history_end
};

struct SessionRec {
    std::int64_t started_at;
    std::int64_t ended_at;
    std::int64_t ordered_at;  // converted only
    std::int32_t pages;
    std::int32_t items;
    std::int64_t cart_pence;
    std::int64_t order_index;  // -1 unless converted
    std::uint32_t cart_begin;
    std::uint32_t gen;         // generation order, the sort tie-break
    bool exit_intent;
    bool converted;
};

class Shop {
public:
    explicit Shop(const ShopSpec &spec);

    void profile(std::int64_t customer_id, Profile &out) const;
    // Order times of a customer, ascending; returns when the customer stops being active.
    std::int64_t order_times(const Profile &p, std::vector<std::int64_t> &out) const;
    // Lines of the customer's k-th order (0-based); returns the total in pence.
    std::int64_t order_lines(const Profile &p, std::int64_t k, const char *&status, std::vector<LineItem> &out);
    // The customer's sessions in the window (sorted), then the anonymous ones of its slot.
    void sessions(const Profile &p, const std::vector<std::int64_t> &orders, std::int64_t active_until);
    void anonymous_sessions(std::int64_t slot);
    void events(const Profile *p, std::int64_t slot, std::uint64_t index, const SessionRec &s);

    const ShopSpec &spec() const { return spec_; }
    const Layout &layout() const { return *layout_; }
    std::int64_t price(std::uint32_t product) const { return price_[product]; }
    const std::vector<Pair> &pairs() const { return pairs_; }

    std::vector<SessionRec> sessions_;     // of the last sessions()/anonymous_sessions() call
    std::vector<LineItem> carts_;          // cart contents of those sessions
    struct Event {
        const char *type;
        std::uint32_t product;  // index + 1, 0 for none
        std::int64_t at;
    };
    std::vector<Event> events_;            // of the last events() call

private:
    std::int64_t place_in_day(Rng &rng, std::int64_t t, std::int64_t after) const;
    std::uint32_t draw_product(Rng &rng, const Profile *p) const;
    bool add_distinct(Rng &rng, const Profile *p, std::vector<LineItem> &out);
    void start_basket() {
        if (++stamp_ == 0) {
            std::fill(mark_.begin(), mark_.end(), 0);
            stamp_ = 1;
        }
    }
    std::int32_t draw_quantity(Rng &rng) const {
        const double u = rng.uniform();
        return u < 0.86 ? 1 : (u < 0.96 ? 2 : 3);
    }
    void add_session(Rng &rng, const Profile *p, std::int64_t started, double cart_chance);
    void fill_cart(Rng &rng, const Profile *p, std::int32_t items);

    ShopSpec spec_;
    const Layout *layout_;
    std::int64_t n_;
    std::vector<std::int64_t> price_;
    std::vector<std::int8_t> role_;          // k+1: antecedent of pair k; -(k+1): consequent
    std::vector<Pair> pairs_;
    AliasTable global_;
    std::array<AliasTable, kCategoryCount> by_category_;
    std::array<std::vector<std::uint32_t>, kCategoryCount> members_;
    AliasTable line_counts_;                 // value + 1 lines
    AliasTable hours_;
    AliasTable countries_;
    AliasTable categories_;
    std::int32_t max_drawn_lines_;
    std::vector<std::uint32_t> mark_;        // mark_[product] == stamp_: in the current basket
    std::uint32_t stamp_ = 0;
    std::vector<double> gaps_;
    std::vector<LineItem> line_buffer_;
};

// Line-count distribution: 1 + NB(k, m) for most orders, a geometric bulk tail
// for kBulkShare of them, truncated at `cap`.
std::vector<double> line_pmf(double m, std::int32_t cap) {
    std::vector<double> pmf(static_cast<std::size_t>(cap), 0.0);
    const double k = 1.3;
    const double q = m / (k + m);
    double p = det_exp(k * det_log(k / (k + m)));
    double total = 0;
    for (std::int32_t x = 0; x < cap; ++x) {  // lines = x + 1
        pmf[static_cast<std::size_t>(x)] = p;
        total += p;
        p *= (static_cast<double>(x) + k) / (static_cast<double>(x) + 1.0) * q;
    }
    for (double &v : pmf) v *= (1.0 - kBulkShare) / total;
    const std::int32_t from = std::min(kBulkFrom, std::max<std::int32_t>(1, cap / 2));
    const double g = 1.0 / (kBulkMeanExtra + 1.0);
    double tail = 0;
    double w = g;
    std::vector<double> bulk(static_cast<std::size_t>(cap), 0.0);
    for (std::int32_t lines = from; lines <= cap; ++lines) {
        bulk[static_cast<std::size_t>(lines - 1)] = w;
        tail += w;
        w *= 1.0 - g;
    }
    for (std::size_t i = 0; i < pmf.size(); ++i) pmf[i] += kBulkShare * bulk[i] / tail;
    return pmf;
}

double pmf_mean(const std::vector<double> &pmf) {
    double mean = 0, total = 0;
    for (std::size_t i = 0; i < pmf.size(); ++i) {
        mean += static_cast<double>(i + 1) * pmf[i];
        total += pmf[i];
    }
    return mean / total;
}

void check_spec(const ShopSpec &spec) {
    if (spec.customers < 0 || spec.customers > 100000000)
        throw_invalid("demo shop: \"customers\" must be between 0 and 100000000");
    if (spec.products < min_products() || spec.products > 1000000)
        throw_invalid("demo shop: \"products\" must be between " + std::to_string(min_products()) +
                      " and 1000000");
    if (!(spec.mean_lines >= 2.0 && spec.mean_lines <= 30.0))
        throw_invalid("demo shop: \"mean_lines\" must be between 2 and 30");
    if (!(spec.history_start < spec.history_end) || spec.sessions_from < spec.history_start ||
        spec.sessions_from >= spec.history_end || spec.history_end - spec.history_start > 20 * 366 * kDay)
        throw_invalid("demo shop: the history window is invalid");
}

Shop::Shop(const ShopSpec &spec) : spec_(spec) {
    check_spec(spec);
    n_ = spec.products;
    layout_ = &layout_for(n_);
    const auto n = static_cast<std::size_t>(n_);

    price_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        Rng rng = stream(spec.seed, i + 1, kProductPrice, 0);
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
        Rng rng = stream(spec.seed, 0, kPopularity, 0);
        for (std::size_t i = n; i > 1; --i) std::swap(by_rank[i - 1], by_rank[rng.below(i)]);
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
        pairs_.push_back({layout_->pair_antecedent[k], layout_->pair_consequent[k], kPairs[k].attach_rate});
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

    // Line counts: solve for the NB mean that gives spec.mean_lines in all
    // (the planted pairs add a few hundredths of a line).
    max_drawn_lines_ = static_cast<std::int32_t>(std::min<std::int64_t>(kMaxDrawnLines, n_ / 2));
    double lo = 0.0, hi = 60.0;
    for (int it = 0; it < 60; ++it) {
        const double mid = 0.5 * (lo + hi);
        if (pmf_mean(line_pmf(mid, max_drawn_lines_)) < spec.mean_lines - 0.03) lo = mid; else hi = mid;
    }
    line_counts_.build(line_pmf(0.5 * (lo + hi), max_drawn_lines_));

    hours_.build(std::vector<double>(std::begin(kHourWeights), std::end(kHourWeights)));
    std::vector<double> cw;
    for (const CountryDef &c : kCountries) cw.push_back(c.weight);
    countries_.build(cw);
    std::vector<double> kw;
    for (const CategoryDef &c : kCategories) kw.push_back(c.weight);
    categories_.build(kw);

    mark_.assign(n, 0);
    sessions_.reserve(256);
    carts_.reserve(1024);
    events_.reserve(1024);
    gaps_.reserve(1024);
    line_buffer_.reserve(512);
}

// Moves t to a realistic time of its day, strictly after `after`.
std::int64_t Shop::place_in_day(Rng &rng, std::int64_t t, std::int64_t after) const {
    const std::int64_t day = (t - spec_.history_start) / kDay;
    std::int64_t r = spec_.history_start + day * kDay + static_cast<std::int64_t>(hours_.sample(rng)) * kHour +
                     static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(kHour)));
    if (r <= after) r = after + kMinute + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * kHour)));
    return r;
}

void Shop::profile(std::int64_t customer_id, Profile &p) const {
    Rng rng = stream(spec_.seed, static_cast<std::uint64_t>(customer_id), kProfile, 0);
    p.customer_id = customer_id;
    const std::int64_t days = (spec_.history_end - spec_.history_start) / kDay;
    const double f = det_pow(rng.uniform_pos(), kSignupPower);
    std::int64_t day = static_cast<std::int64_t>(f * static_cast<double>(days));
    if (day >= days) day = days - 1;
    p.signed_up_at = spec_.history_start + day * kDay + static_cast<std::int64_t>(hours_.sample(rng)) * kHour +
                     static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(kHour)));
    if (p.signed_up_at >= spec_.history_end) p.signed_up_at = spec_.history_end - kHour;
    p.country = countries_.sample(rng);
    p.email_opt_in = rng.chance(kEmailOptIn);
    p.prospect = rng.chance(kProspectShare);
    p.lambda = std::min(rng.gamma(kRateShape) / kRateScaleDays, kMaxRatePerDay);
    p.drop = rng.beta(kDropA, kDropB);

    const double u = rng.uniform();
    p.favourites = u < 0.55 ? 1 : (u < 0.88 ? 2 : 3);
    for (int i = 0; i < p.favourites; ++i) {
        for (;;) {
            const auto c = static_cast<std::uint8_t>(categories_.sample(rng));
            bool seen = false;
            for (int j = 0; j < i; ++j) seen = seen || p.favourite[j] == c;
            if (!seen) {
                p.favourite[i] = c;
                break;
            }
        }
    }
    p.fav_share = 0.25 + 0.35 * rng.uniform();
    // Staples: products the customer buys again and again, from a favourite category.
    const double v = rng.uniform();
    p.staples = v < 0.4 ? 0 : (v < 0.8 ? 1 : 2);
    for (int i = 0; i < p.staples; ++i) {
        const std::uint8_t c = p.favourite[rng.below(static_cast<std::uint64_t>(p.favourites))];
        p.staple[i] = members_[c][by_category_[c].sample(rng)];
        if (i == 1 && p.staple[1] == p.staple[0]) p.staples = 1;
    }

    // First order: 40% in the signup visit, otherwise after an exponential delay.
    if (rng.chance(kSameVisitFirstOrder)) {
        p.first_order_at = p.signed_up_at + rng.between(kMinute, 40 * kMinute);
    } else {
        const double delay = std::min(rng.exponential() * kFirstOrderDelayDays, 5000.0);
        p.first_order_at = place_in_day(rng, p.signed_up_at + static_cast<std::int64_t>(delay * static_cast<double>(kDay)),
                                        p.signed_up_at);
    }
}

std::int64_t Shop::order_times(const Profile &p, std::vector<std::int64_t> &out) const {
    out.clear();
    if (p.prospect) return p.signed_up_at;
    Rng rng = stream(spec_.seed, static_cast<std::uint64_t>(p.customer_id), kOrderTimes, 0);
    std::int64_t t = p.first_order_at;
    while (t < spec_.history_end) {
        out.push_back(t);
        if (rng.chance(p.drop)) return t;  // dropped out for good after this order
        const double gap_days = std::min(rng.exponential() / p.lambda, 5000.0);
        t = place_in_day(rng, t + static_cast<std::int64_t>(gap_days * static_cast<double>(kDay)), t);
    }
    return spec_.history_end;  // still active
}

std::uint32_t Shop::draw_product(Rng &rng, const Profile *p) const {
    if (p != nullptr && rng.uniform() < p->fav_share) {
        const std::uint8_t c = p->favourite[rng.below(static_cast<std::uint64_t>(p->favourites))];
        return members_[c][by_category_[c].sample(rng)];
    }
    return global_.sample(rng);
}

bool Shop::add_distinct(Rng &rng, const Profile *p, std::vector<LineItem> &out) {
    std::uint32_t product = 0;
    bool found = false;
    for (int attempt = 0; attempt < 32 && !found; ++attempt) {
        product = draw_product(rng, p);
        found = mark_[product] != stamp_;
    }
    if (!found) {  // a crowded basket: the next free product after a random one
        product = rng.below(static_cast<std::uint64_t>(n_));
        for (std::int64_t i = 0; i < n_ && mark_[product] == stamp_; ++i)
            product = static_cast<std::uint32_t>((product + 1) % static_cast<std::uint64_t>(n_));
        if (mark_[product] == stamp_) return false;
    }
    mark_[product] = stamp_;
    out.push_back({product, 0, price_[product]});
    return true;
}

std::int64_t Shop::order_lines(const Profile &p, std::int64_t k, const char *&status, std::vector<LineItem> &out) {
    Rng rng = stream(spec_.seed, static_cast<std::uint64_t>(p.customer_id), kOrder, static_cast<std::uint64_t>(k));
    const double s = rng.uniform();
    status = s < kCompletedShare ? kCompleted : (s < kCompletedShare + kCancelledShare ? kCancelled : kReturned);

    out.clear();
    start_basket();
    const auto drawn = static_cast<std::int32_t>(line_counts_.sample(rng)) + 1;
    for (int i = 0; i < p.staples && static_cast<std::int32_t>(out.size()) < drawn; ++i) {
        if (rng.chance(0.3) && mark_[p.staple[i]] != stamp_) {
            mark_[p.staple[i]] = stamp_;
            out.push_back({p.staple[i], 0, price_[p.staple[i]]});
        }
    }
    while (static_cast<std::int32_t>(out.size()) < drawn)
        if (!add_distinct(rng, &p, out)) break;

    // Planted pairs: with the antecedent in the basket, the consequent is in it
    // with probability attach_rate exactly (added, or taken out).
    std::array<int, kPairCount> present{};
    int npresent = 0;
    for (const LineItem &line : out)
        if (role_[line.product] > 0) present[npresent++] = role_[line.product] - 1;
    for (int j = 0; j < npresent; ++j) {
        const int pair = present[j];
        const std::uint32_t consequent = layout_->pair_consequent[pair];
        const bool attach = rng.chance(kPairs[pair].attach_rate);
        const bool in_basket = mark_[consequent] == stamp_;
        if (attach && !in_basket) {
            mark_[consequent] = stamp_;
            out.push_back({consequent, 0, price_[consequent]});
        } else if (!attach && in_basket) {
            for (std::size_t i = 0; i < out.size(); ++i) {
                if (out[i].product == consequent) {
                    out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
                    break;
                }
            }
            mark_[consequent] = 0;
        }
    }

    std::int64_t total = 0;
    for (LineItem &line : out) {
        line.quantity = draw_quantity(rng);
        total += line.quantity * line.price;
    }
    return total;
}

void Shop::fill_cart(Rng &rng, const Profile *p, std::int32_t items) {
    start_basket();
    std::vector<LineItem> &out = carts_;
    for (std::int32_t i = 0; i < items; ++i) {
        if (!add_distinct(rng, p, out)) break;
        out.back().quantity = draw_quantity(rng);
    }
}

void Shop::add_session(Rng &rng, const Profile *p, std::int64_t started, double cart_chance) {
    SessionRec s{};
    s.started_at = started;
    s.order_index = -1;
    s.converted = false;
    s.gen = static_cast<std::uint32_t>(sessions_.size());
    s.cart_begin = static_cast<std::uint32_t>(carts_.size());
    if (rng.chance(cart_chance)) {
        std::int32_t items = 0;
        if (rng.chance(kOrderSizedCart))
            items = std::min<std::int32_t>(static_cast<std::int32_t>(line_counts_.sample(rng)) + 1, 60);
        else
            items = 1 + static_cast<std::int32_t>(std::min<std::int64_t>(rng.neg_binomial(1.0, 1.5), 30));
        fill_cart(rng, p, items);
    }
    s.items = static_cast<std::int32_t>(carts_.size() - s.cart_begin);
    s.pages = 1 + static_cast<std::int32_t>(std::min<std::int64_t>(rng.neg_binomial(1.2, 3.5), 150)) + s.items / 3;
    s.cart_pence = 0;
    for (std::size_t i = s.cart_begin; i < carts_.size(); ++i) s.cart_pence += carts_[i].quantity * carts_[i].price;
    s.exit_intent = rng.chance(kBrowseExitIntent);
    const std::int64_t events = s.pages + s.items + (s.exit_intent ? 1 : 0);
    const double per_event = 35.0 * (0.4 + 1.2 * rng.uniform());
    s.ended_at = started + static_cast<std::int64_t>(per_event * static_cast<double>(events) * static_cast<double>(kSecond)) +
                 rng.between(kSecond, 30 * kSecond);
    if (s.ended_at >= spec_.history_end) s.ended_at = spec_.history_end - 1;
    sessions_.push_back(s);
}

void Shop::sessions(const Profile &p, const std::vector<std::int64_t> &orders, std::int64_t active_until) {
    sessions_.clear();
    carts_.clear();
    Rng rng = stream(spec_.seed, static_cast<std::uint64_t>(p.customer_id), kSessions, 0);
    const std::int64_t from = std::max(spec_.sessions_from, p.signed_up_at);
    const std::int64_t end = spec_.history_end;
    const std::int64_t first_order = orders.empty() ? end : orders.front();

    // One converted session per order in the window.
    std::vector<LineItem> &lines = line_buffer_;
    for (std::size_t k = 0; k < orders.size(); ++k) {
        const std::int64_t at = orders[k];
        if (at < spec_.sessions_from) continue;
        const char *status = nullptr;
        SessionRec s{};
        s.converted = true;
        s.order_index = static_cast<std::int64_t>(k);
        s.ordered_at = at;
        s.gen = static_cast<std::uint32_t>(sessions_.size());
        s.cart_begin = static_cast<std::uint32_t>(carts_.size());
        s.cart_pence = order_lines(p, static_cast<std::int64_t>(k), status, lines);
        carts_.insert(carts_.end(), lines.begin(), lines.end());
        s.items = static_cast<std::int32_t>(lines.size());
        if (rng.chance(0.18))
            s.pages = 1 + static_cast<std::int32_t>(rng.poisson(1.0));  // straight to the basket
        else
            s.pages = 2 + static_cast<std::int32_t>(std::min<std::int64_t>(rng.neg_binomial(2.0, 5.0), 150)) +
                      s.items / 3;
        s.exit_intent = rng.chance(kConvertedExitIntent);
        const std::int64_t events = s.pages + s.items + (s.exit_intent ? 1 : 0);
        const double per_event = 35.0 * (0.4 + 1.2 * rng.uniform());
        const std::int64_t before = static_cast<std::int64_t>(per_event * static_cast<double>(events) * static_cast<double>(kSecond)) +
                                    rng.between(kSecond, 60 * kSecond);
        s.started_at = std::max(at - before, from);
        if (s.started_at > at) s.started_at = at;
        s.ended_at = std::min(at + rng.between(5 * kSecond, 120 * kSecond), end - 1);
        if (s.ended_at < at) s.ended_at = at;
        sessions_.push_back(s);
    }

    // Browsing without buying: every customer a little, active customers more.
    const double base_rate = p.prospect ? kProspectBrowsePerDay : kBaseBrowsePerDay;
    double t = static_cast<double>(from);
    const double day = static_cast<double>(kDay);
    for (;;) {
        t += rng.exponential() / base_rate * day;
        if (t >= static_cast<double>(end)) break;
        const auto at = place_in_day(rng, static_cast<std::int64_t>(t), from - 1);
        if (at >= end) continue;
        const bool returning = at > first_order;
        add_session(rng, &p, at, returning ? kCartReturning : kCartCustomer);
    }
    const std::int64_t active_from = std::max(from, first_order);
    const std::int64_t active_to = std::min(active_until + kDay, end);
    if (!orders.empty() && active_from < active_to) {
        const double rate = kActiveBrowsePerOrder * p.lambda;
        t = static_cast<double>(active_from);
        for (;;) {
            t += rng.exponential() / rate * day;
            if (t >= static_cast<double>(active_to)) break;
            const auto at = place_in_day(rng, static_cast<std::int64_t>(t), active_from - 1);
            if (at >= end) continue;
            const bool returning = at > first_order;
            add_session(rng, &p, at, returning ? kCartReturning : kCartCustomer);
        }
    }
    std::sort(sessions_.begin(), sessions_.end(), [](const SessionRec &a, const SessionRec &b) {
        return a.started_at != b.started_at ? a.started_at < b.started_at : a.gen < b.gen;
    });
}

void Shop::anonymous_sessions(std::int64_t slot) {
    sessions_.clear();
    carts_.clear();
    Rng rng = stream(spec_.seed, static_cast<std::uint64_t>(slot), kAnonymous, 0);
    const std::int64_t from = spec_.sessions_from;
    const std::int64_t end = spec_.history_end;
    const double rate = kAnonymousPerSlot / static_cast<double>(end - from);
    double t = static_cast<double>(from);
    for (;;) {
        t += rng.exponential() / rate;
        if (t >= static_cast<double>(end)) break;
        const auto at = place_in_day(rng, static_cast<std::int64_t>(t), from - 1);
        if (at >= end) continue;
        add_session(rng, nullptr, at, kCartAnonymous);
    }
    std::sort(sessions_.begin(), sessions_.end(), [](const SessionRec &a, const SessionRec &b) {
        return a.started_at != b.started_at ? a.started_at < b.started_at : a.gen < b.gen;
    });
}

void Shop::events(const Profile *p, std::int64_t slot, std::uint64_t index, const SessionRec &s) {
    events_.clear();
    Rng rng = stream(spec_.seed, static_cast<std::uint64_t>(slot), kEvents, index);
    // Page views; a cart item is added right after a view of its product page,
    // the views that lead to the cart spread evenly (selection sampling).
    std::int32_t pages_left = s.pages;
    std::int32_t items_left = s.items;
    std::uint32_t item = s.cart_begin;
    while (pages_left > 0) {
        const bool to_cart = items_left > 0 && rng.uniform() * pages_left < items_left;
        if (to_cart) {
            const std::uint32_t product = carts_[item++].product + 1;
            events_.push_back({kPageView, product, 0});
            events_.push_back({kAddToCart, product, 0});
            --items_left;
        } else {
            const std::uint32_t product = rng.chance(kProductPageShare) ? draw_product(rng, p) + 1 : 0;
            events_.push_back({kPageView, product, 0});
        }
        --pages_left;
    }
    for (; items_left > 0; --items_left) events_.push_back({kAddToCart, carts_[item++].product + 1, 0});  // "buy again" list
    if (s.exit_intent) events_.push_back({kExitIntent, 0, 0});
    if (s.converted) events_.push_back({kCheckout, 0, 0});

    // Times: the first event at started_at, the last at the order (converted)
    // or at ended_at, exponential gaps in between.
    const std::size_t n = events_.size();
    const std::int64_t a = s.started_at;
    const std::int64_t b = s.converted ? s.ordered_at : s.ended_at;
    gaps_.clear();
    double total = 0;
    for (std::size_t i = 1; i < n; ++i) {
        total += 0.2 + rng.exponential();
        gaps_.push_back(total);
    }
    const double span = static_cast<double>(b - a);
    events_[0].at = a;
    for (std::size_t i = 1; i < n; ++i) {
        std::int64_t at = a + static_cast<std::int64_t>(span * (gaps_[i - 1] / total));
        if (at > b) at = b;
        if (at < events_[i - 1].at) at = events_[i - 1].at;
        events_[i].at = at;
    }
    if (n > 1) events_[n - 1].at = b;
}

constexpr std::uint64_t kAnonymousEventIndex = 1ULL << 32;

}  // namespace

ShopSpec make_spec(const std::string &size, std::int64_t seed) {
    ShopSpec spec;
    if (size == "tiny") {
        spec.customers = 300;
        spec.products = 80;
    } else if (size == "demo") {
        spec.customers = 10000;
        spec.products = 1000;
    } else if (size == "bench") {
        spec.customers = 200000;
        spec.products = 20000;
    } else {
        throw_invalid("demo shop: \"size\" must be one of tiny, demo, bench");
    }
    spec.size = size;
    spec.seed = static_cast<std::uint64_t>(seed);
    spec.mean_lines = 10.0;
    spec.history_start = kHistoryStart;
    spec.history_end = kHistoryEnd;
    spec.sessions_from = kHistoryEnd - kSessionDays * kDay;
    return spec;
}

void generate_customers(const ShopSpec &spec, const Sink<Customer> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    Profile p;
    for (std::int64_t id = 1; id <= spec.customers; ++id) {
        interrupt.poll();
        shop.profile(id, p);
        emit(Customer{id, p.signed_up_at, kCountries[p.country].code, p.email_opt_in});
    }
}

void generate_products(const ShopSpec &spec, const Sink<Product> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    const Layout &layout = shop.layout();
    for (std::int64_t i = 0; i < spec.products; ++i) {
        interrupt.poll();
        const auto index = static_cast<std::size_t>(i);
        emit(Product{i + 1, layout.names[index], kCategories[kBases[layout.base[index]].category].name,
                     static_cast<double>(shop.price(static_cast<std::uint32_t>(i))) / 100.0});
    }
}

void generate_orders(const ShopSpec &spec, const Sink<Order> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    Profile p;
    std::vector<std::int64_t> times;
    std::vector<LineItem> lines;
    times.reserve(1024);
    lines.reserve(512);
    std::int64_t order_id = 0;
    for (std::int64_t id = 1; id <= spec.customers; ++id) {
        interrupt.poll();
        shop.profile(id, p);
        shop.order_times(p, times);
        for (std::size_t k = 0; k < times.size(); ++k) {
            interrupt.poll();
            const char *status = nullptr;
            const std::int64_t total = shop.order_lines(p, static_cast<std::int64_t>(k), status, lines);
            emit(Order{++order_id, id, times[k], status, static_cast<double>(total) / 100.0,
                       static_cast<std::int32_t>(lines.size())});
        }
    }
}

void generate_order_lines(const ShopSpec &spec, const Sink<OrderLine> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    Profile p;
    std::vector<std::int64_t> times;
    std::vector<LineItem> lines;
    times.reserve(1024);
    lines.reserve(512);
    std::int64_t order_id = 0;
    for (std::int64_t id = 1; id <= spec.customers; ++id) {
        interrupt.poll();
        shop.profile(id, p);
        shop.order_times(p, times);
        for (std::size_t k = 0; k < times.size(); ++k) {
            const char *status = nullptr;
            shop.order_lines(p, static_cast<std::int64_t>(k), status, lines);
            ++order_id;
            std::int32_t line_no = 0;
            for (const LineItem &line : lines) {
                interrupt.poll();
                emit(OrderLine{order_id, ++line_no, static_cast<std::int64_t>(line.product) + 1, line.quantity,
                               static_cast<double>(line.price) / 100.0,
                               static_cast<double>(line.quantity * line.price) / 100.0});
            }
        }
    }
}

namespace {

// Walks customers in order with the ids every session table agrees on; calls
// visit(profile or nullptr, slot, index in the slot, session id, customer id, order id, session).
template <typename Visit>
void walk_sessions(Shop &shop, const Interrupt &interrupt, Visit &&visit) {
    const ShopSpec &spec = shop.spec();
    Profile p;
    std::vector<std::int64_t> times;
    times.reserve(1024);
    std::int64_t order_id = 0;
    std::int64_t session_id = 0;
    for (std::int64_t id = 1; id <= spec.customers; ++id) {
        interrupt.poll();
        shop.profile(id, p);
        const std::int64_t active_until = shop.order_times(p, times);
        const std::int64_t first_order_id = order_id + 1;
        order_id += static_cast<std::int64_t>(times.size());
        shop.sessions(p, times, active_until);
        for (std::size_t i = 0; i < shop.sessions_.size(); ++i) {
            interrupt.poll();
            const SessionRec &s = shop.sessions_[i];
            visit(&p, id, static_cast<std::uint64_t>(i), ++session_id, id,
                  s.converted ? first_order_id + s.order_index : 0, s);
        }
        shop.anonymous_sessions(id);
        for (std::size_t i = 0; i < shop.sessions_.size(); ++i) {
            interrupt.poll();
            visit(nullptr, id, kAnonymousEventIndex + i, ++session_id, std::int64_t{0}, std::int64_t{0},
                  shop.sessions_[i]);
        }
    }
}

}  // namespace

void generate_sessions(const ShopSpec &spec, const Sink<Session> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    walk_sessions(shop, interrupt,
                  [&](const Profile *, std::int64_t, std::uint64_t, std::int64_t session_id, std::int64_t customer_id,
                      std::int64_t order_id, const SessionRec &s) {
                      emit(Session{session_id, customer_id, s.started_at, s.ended_at, s.pages, s.items,
                                   static_cast<double>(s.cart_pence) / 100.0, s.exit_intent, s.converted,
                                   order_id});
                  });
}

void generate_session_events(const ShopSpec &spec, const Sink<SessionEvent> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    walk_sessions(shop, interrupt,
                  [&](const Profile *p, std::int64_t slot, std::uint64_t index, std::int64_t session_id,
                      std::int64_t, std::int64_t, const SessionRec &s) {
                      shop.events(p, slot, index, s);
                      std::int32_t seq = 0;
                      for (const Shop::Event &e : shop.events_) {
                          interrupt.poll();
                          emit(SessionEvent{session_id, ++seq, e.at, e.type, static_cast<std::int64_t>(e.product)});
                      }
                  });
}

void generate_planted_pairs(const ShopSpec &spec, const Sink<PlantedPair> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    for (const Pair &pair : shop.pairs()) {
        interrupt.poll();
        emit(PlantedPair{static_cast<std::int64_t>(pair.antecedent) + 1, static_cast<std::int64_t>(pair.consequent) + 1,
                         pair.attach_rate});
    }
}

}  // namespace personalize::demo

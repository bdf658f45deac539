// The demo shop's orders and baskets (see orders.hpp), and the orders and
// order lines tables.
#include "core/demo/orders.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

#include "core/demo/walk.hpp"

namespace personalize::demo {

namespace {

// One set of parameters for every size (the sizes differ in scale only).
constexpr double kBulkShare = 0.01;   // orders drawn from the bulk tail (25..200 lines)
constexpr int kBulkFrom = 25;
constexpr double kBulkMeanExtra = 30.0;
constexpr int kMaxDrawnLines = 200;   // + at most one consequent per pair: <= 208 lines
constexpr double kCompletedShare = 0.94;
constexpr double kCancelledShare = 0.03;

const char *const kCompleted = "completed";
const char *const kCancelled = "cancelled";
const char *const kReturned = "returned";

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

}  // namespace

// ---------------------------------------------------------------------------
// Baskets

Baskets::Baskets(const ShopSpec &spec, const Catalogue &catalogue) : catalogue_(catalogue) {
    // Line counts: solve for the NB mean that gives spec.mean_lines in all
    // (the planted pairs add a few hundredths of a line).
    const auto max_drawn_lines = static_cast<std::int32_t>(std::min<std::int64_t>(kMaxDrawnLines, spec.products / 2));
    double lo = 0.0, hi = 60.0;
    for (int it = 0; it < 60; ++it) {
        const double mid = 0.5 * (lo + hi);
        if (pmf_mean(line_pmf(mid, max_drawn_lines)) < spec.mean_lines - 0.03) lo = mid; else hi = mid;
    }
    line_counts_.build(line_pmf(0.5 * (lo + hi), max_drawn_lines));

    mark_.assign(static_cast<std::size_t>(spec.products), 0);
}

bool Baskets::put_distinct(Random &rng, const Taste *taste, std::vector<LineItem> &out) {
    const auto n = static_cast<std::uint64_t>(catalogue_.size());
    std::uint32_t product = 0;
    bool found = false;
    for (int attempt = 0; attempt < 32 && !found; ++attempt) {
        product = catalogue_.draw_product(rng, taste);
        found = !contains(product);
    }
    if (!found) {  // a crowded basket: the next free product after a random one
        product = scaled_below(rng, n);
        for (std::uint64_t i = 0; i < n && contains(product); ++i) product = static_cast<std::uint32_t>((product + 1) % n);
        if (contains(product)) return false;
    }
    put(product, out);
    return true;
}

// ---------------------------------------------------------------------------
// Orders

Orders::Orders(const ShopSpec &spec, const Calendar &calendar, const Catalogue &catalogue, Baskets &baskets)
    : seed_(spec.seed), history_end_(spec.history_end), calendar_(calendar), catalogue_(catalogue), baskets_(baskets) {}

std::int64_t Orders::order_times(const Profile &p, std::vector<std::int64_t> &out) const {
    out.clear();
    if (p.prospect) return p.signed_up_at;
    Random rng = stream(seed_, static_cast<std::uint64_t>(p.customer_id), kOrderTimes, 0);
    std::int64_t t = p.first_order_at;
    while (t < history_end_) {
        out.push_back(t);
        if (chance(rng, p.drop)) return t;  // dropped out for good after this order
        const double gap_days = std::min(standard_exponential(rng) / p.lambda, 5000.0);
        t = calendar_.place_in_day(rng, t + static_cast<std::int64_t>(gap_days * static_cast<double>(kDay)), t);
    }
    return history_end_;  // still active
}

std::int64_t Orders::order_lines(const Profile &p, std::int64_t k, const char *&status, std::vector<LineItem> &out) {
    Random rng = stream(seed_, static_cast<std::uint64_t>(p.customer_id), kOrder, static_cast<std::uint64_t>(k));
    const double s = rng.uniform();
    status = s < kCompletedShare ? kCompleted : (s < kCompletedShare + kCancelledShare ? kCancelled : kReturned);

    out.clear();
    baskets_.start();
    const std::int32_t drawn = baskets_.draw_lines(rng);
    for (int i = 0; i < p.staples && static_cast<std::int32_t>(out.size()) < drawn; ++i)
        if (chance(rng, 0.3) && !baskets_.contains(p.staple[i])) baskets_.put(p.staple[i], out);
    while (static_cast<std::int32_t>(out.size()) < drawn)
        if (!baskets_.put_distinct(rng, &p.taste, out)) break;

    // Planted pairs: with the antecedent in the basket, the consequent is in it
    // with probability attach_rate exactly (added, or taken out).
    std::array<int, kPairCount> present{};
    int npresent = 0;
    for (const LineItem &line : out) {
        const int pair = catalogue_.pair_led_by(line.product);
        if (pair >= 0) present[npresent++] = pair;
    }
    for (int j = 0; j < npresent; ++j) {
        const Pair &pair = catalogue_.planted(present[j]);
        const std::uint32_t consequent = pair.consequent;
        const bool attach = chance(rng, pair.attach_rate);
        const bool in_basket = baskets_.contains(consequent);
        if (attach && !in_basket) {
            baskets_.put(consequent, out);
        } else if (!attach && in_basket) {
            for (std::size_t i = 0; i < out.size(); ++i) {
                if (out[i].product == consequent) {
                    out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
                    break;
                }
            }
            baskets_.take_out(consequent);
        }
    }

    std::int64_t total = 0;
    for (LineItem &line : out) {
        line.quantity = Baskets::draw_quantity(rng);
        total += line.quantity * line.price;
    }
    return total;
}

// ---------------------------------------------------------------------------
// The tables

void generate_orders(const ShopSpec &spec, const Sink<Order> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    walk_orders(shop, interrupt,
                [&](const Profile &p, std::int64_t order_id, std::int64_t ordered_at, const char *status,
                    std::int64_t total, const std::vector<LineItem> &lines) {
                    emit(Order{order_id, p.customer_id, ordered_at, status, static_cast<double>(total) / 100.0,
                               static_cast<std::int32_t>(lines.size())});
                });
}

void generate_order_lines(const ShopSpec &spec, const Sink<OrderLine> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    walk_orders(shop, interrupt,
                [&](const Profile &, std::int64_t order_id, std::int64_t, const char *, std::int64_t,
                    const std::vector<LineItem> &lines) {
                    std::int32_t line_no = 0;
                    for (const LineItem &line : lines) {
                        interrupt.poll();
                        emit(OrderLine{order_id, ++line_no, static_cast<std::int64_t>(line.product) + 1, line.quantity,
                                       static_cast<double>(line.price) / 100.0,
                                       static_cast<double>(line.quantity * line.price) / 100.0});
                    }
                });
}

}  // namespace personalize::demo

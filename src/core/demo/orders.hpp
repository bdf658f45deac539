// The demo shop's orders: each customer's order times (a buy-till-you-die
// process), and each order's status and lines, the planted pairs attached at
// their rates. Baskets (the lines of an order or a web session's cart) are
// filled with distinct products by one Baskets object.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/demo/calendar.hpp"
#include "core/demo/catalogue.hpp"
#include "core/demo/customers.hpp"
#include "core/demo/shop.hpp"

namespace personalize::demo {

struct LineItem {
    std::uint32_t product;  // index (id - 1)
    std::int32_t quantity;
    std::int64_t price;     // pence
};

// The basket being filled, and how many lines and what quantities baskets get.
class Baskets {
public:
    Baskets(const ShopSpec &spec, const Catalogue &catalogue);

    // Lines of an order: 1 + NB for most, a long tail of bulk orders.
    std::int32_t draw_lines(Random &rng) const { return static_cast<std::int32_t>(line_counts_.sample(rng)) + 1; }
    static std::int32_t draw_quantity(Random &rng) {
        const double u = rng.uniform();
        return u < 0.86 ? 1 : (u < 0.96 ? 2 : 3);
    }

    // Empties the basket.
    void start() {
        if (++stamp_ == 0) {
            std::fill(mark_.begin(), mark_.end(), 0);
            stamp_ = 1;
        }
    }
    bool contains(std::uint32_t product) const { return mark_[product] == stamp_; }
    // Puts `product` into the basket and a line for it (quantity 0) into `out`.
    void put(std::uint32_t product, std::vector<LineItem> &out) {
        mark_[product] = stamp_;
        out.push_back({product, 0, catalogue_.price(product)});
    }
    // Takes `product` out of the basket (its line is the caller's).
    void take_out(std::uint32_t product) { mark_[product] = 0; }
    // Puts a product drawn for `taste` that is not in the basket yet; false
    // when every product is.
    bool put_distinct(Random &rng, const Taste *taste, std::vector<LineItem> &out);

private:
    const Catalogue &catalogue_;
    AliasTable line_counts_;          // value + 1 lines
    std::vector<std::uint32_t> mark_;  // mark_[product] == stamp_: in the basket
    std::uint32_t stamp_ = 0;
};

class Orders {
public:
    Orders(const ShopSpec &spec, const Calendar &calendar, const Catalogue &catalogue, Baskets &baskets);

    // Order times of a customer, ascending; returns when the customer stops being active.
    std::int64_t order_times(const Profile &p, std::vector<std::int64_t> &out) const;
    // Lines of the customer's k-th order (0-based); returns the total in pence.
    std::int64_t order_lines(const Profile &p, std::int64_t k, const char *&status, std::vector<LineItem> &out);

private:
    std::uint64_t seed_;
    std::int64_t history_end_;
    const Calendar &calendar_;
    const Catalogue &catalogue_;
    Baskets &baskets_;
};

}  // namespace personalize::demo

// The demo shop's customers: each one's profile, drawn from her own stream:
// signup, country, e-mail opt-in, whether she ever orders, her buy-till-you-die
// order rate and dropout probability (BG/NBD), her taste, her staples and the
// time of her first order.
#pragma once

#include <array>
#include <cstdint>

#include "core/demo/calendar.hpp"
#include "core/demo/catalogue.hpp"
#include "core/demo/shop.hpp"

namespace personalize::demo {

struct Profile {
    std::int64_t customer_id = 0;
    std::int64_t signed_up_at = 0;
    std::uint32_t country = 0;
    bool email_opt_in = false;
    bool prospect = false;   // signs up but never orders
    double lambda = 0;       // orders per day
    double drop = 0;         // dropout probability after each order
    Taste taste;
    int staples = 0;         // products bought again and again
    std::array<std::uint32_t, 3> staple{};
    std::int64_t first_order_at = 0;  // of the process; may be >= history_end
};

class Customers {
public:
    Customers(const ShopSpec &spec, const Calendar &calendar, const Catalogue &catalogue);

    void profile(std::int64_t customer_id, Profile &out) const;
    // ISO 3166 alpha-2, static storage.
    static const char *country_code(std::uint32_t country);

private:
    std::uint64_t seed_;
    std::int64_t history_end_;
    const Calendar &calendar_;
    const Catalogue &catalogue_;
    AliasTable countries_;
};

}  // namespace personalize::demo

// The demo shop for one spec, and the walk over its customers, their orders
// and their web sessions that every table generator shares: customers in id
// order, order and session ids counted along the way, so that every table
// agrees with every other without any of them being materialised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/demo/calendar.hpp"
#include "core/demo/catalogue.hpp"
#include "core/demo/customers.hpp"
#include "core/demo/orders.hpp"
#include "core/demo/sessions.hpp"
#include "core/demo/shop.hpp"

namespace personalize::demo {

// `spec` if it is valid (at least 80 products, 2 <= mean_lines <= 30, a sane
// window), else InvalidParameter.
const ShopSpec &checked(const ShopSpec &spec);

struct Shop {
    explicit Shop(const ShopSpec &s)
        : spec(checked(s)),
          calendar(spec),
          catalogue(spec),
          customers(spec, calendar, catalogue),
          baskets(spec, catalogue),
          orders(spec, calendar, catalogue, baskets),
          sessions(spec, calendar, catalogue, baskets, orders) {}
    Shop(const Shop &) = delete;
    Shop &operator=(const Shop &) = delete;

    const ShopSpec spec;
    const Calendar calendar;
    const Catalogue catalogue;
    const Customers customers;
    Baskets baskets;
    Orders orders;
    Sessions sessions;
};

// visit(profile) for every customer.
template <typename Visit>
void walk_customers(Shop &shop, const Interrupt &interrupt, Visit &&visit) {
    Profile p;
    for (std::int64_t id = 1; id <= shop.spec.customers; ++id) {
        interrupt.poll();
        shop.customers.profile(id, p);
        visit(static_cast<const Profile &>(p));
    }
}

// visit(profile, order id, ordered at, status, total in pence, lines) for
// every order.
template <typename Visit>
void walk_orders(Shop &shop, const Interrupt &interrupt, Visit &&visit) {
    std::vector<std::int64_t> times;
    std::vector<LineItem> lines;
    times.reserve(1024);
    lines.reserve(512);
    std::int64_t order_id = 0;
    walk_customers(shop, interrupt, [&](const Profile &p) {
        shop.orders.order_times(p, times);
        for (std::size_t k = 0; k < times.size(); ++k) {
            interrupt.poll();
            const char *status = nullptr;
            const std::int64_t total = shop.orders.order_lines(p, static_cast<std::int64_t>(k), status, lines);
            visit(p, ++order_id, times[k], status, total, static_cast<const std::vector<LineItem> &>(lines));
        }
    });
}

// visit(profile or nullptr, slot, index in the slot, session id, customer
// id, order id, session) for every session: each customer's, then the
// anonymous ones of her slot.
template <typename Visit>
void walk_sessions(Shop &shop, const Interrupt &interrupt, Visit &&visit) {
    std::vector<std::int64_t> times;
    times.reserve(1024);
    std::int64_t order_id = 0;
    std::int64_t session_id = 0;
    walk_customers(shop, interrupt, [&](const Profile &p) {
        const std::int64_t id = p.customer_id;
        const std::int64_t active_until = shop.orders.order_times(p, times);
        const std::int64_t first_order_id = order_id + 1;
        order_id += static_cast<std::int64_t>(times.size());
        const std::vector<SessionRec> &own = shop.sessions.of_customer(p, times, active_until);
        for (std::size_t i = 0; i < own.size(); ++i) {
            interrupt.poll();
            const SessionRec &s = own[i];
            visit(&p, id, static_cast<std::uint64_t>(i), ++session_id, id, s.converted ? first_order_id + s.order_index : 0,
                  s);
        }
        const std::vector<SessionRec> &anonymous = shop.sessions.anonymous(id);
        for (std::size_t i = 0; i < anonymous.size(); ++i) {
            interrupt.poll();
            visit(static_cast<const Profile *>(nullptr), id, kAnonymousEventIndex + i, ++session_id, std::int64_t{0},
                  std::int64_t{0}, anonymous[i]);
        }
    });
}

}  // namespace personalize::demo

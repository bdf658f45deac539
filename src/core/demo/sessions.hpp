// The demo shop's web sessions over the last days of the history: one
// converted session per order in that window, customers browsing without
// buying (more while they are active), anonymous visitors, and each
// session's events (page views, cart additions, exit intent, checkout).
#pragma once

#include <cstdint>
#include <vector>

#include "core/demo/calendar.hpp"
#include "core/demo/catalogue.hpp"
#include "core/demo/customers.hpp"
#include "core/demo/orders.hpp"
#include "core/demo/shop.hpp"

namespace personalize::demo {

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

struct Event {
    const char *type;
    std::uint32_t product;  // index + 1, 0 for none
    std::int64_t at;
};

// The index of the first anonymous session of a slot in its events' streams.
constexpr std::uint64_t kAnonymousEventIndex = 1ULL << 32;

class Sessions {
public:
    Sessions(const ShopSpec &spec, const Calendar &calendar, const Catalogue &catalogue, Baskets &baskets,
             Orders &orders);

    // The customer's sessions in the window, by start.
    const std::vector<SessionRec> &of_customer(const Profile &p, const std::vector<std::int64_t> &orders,
                                               std::int64_t active_until);
    // The anonymous visitors' sessions of customer slot `slot`, by start.
    const std::vector<SessionRec> &anonymous(std::int64_t slot);
    // The events of session s of the last call above; p is its customer
    // (nullptr: anonymous), index its place in the slot's streams.
    const std::vector<Event> &events(const Profile *p, std::int64_t slot, std::uint64_t index, const SessionRec &s);

private:
    template <typename Visit>
    void visits(Random &rng, std::int64_t from, std::int64_t to, double rate, double unit, Visit &&visit) const;
    void add_session(Random &rng, const Taste *taste, std::int64_t started, double cart_chance);
    void fill_cart(Random &rng, const Taste *taste, std::int32_t items);
    void sort_sessions();

    std::uint64_t seed_;
    std::int64_t sessions_from_;
    std::int64_t history_end_;
    const Calendar &calendar_;
    const Catalogue &catalogue_;
    Baskets &baskets_;
    Orders &orders_;
    std::vector<SessionRec> sessions_;
    std::vector<LineItem> carts_;  // cart contents of those sessions
    std::vector<Event> events_;
    std::vector<double> gaps_;
    std::vector<LineItem> line_buffer_;
};

}  // namespace personalize::demo

// The demo shop's web sessions and their events (see sessions.hpp), and the
// sessions and session events tables.
#include "core/demo/sessions.hpp"

#include <algorithm>
#include <cstddef>

#include "core/demo/walk.hpp"

namespace personalize::demo {

namespace {

// One set of parameters for every size (the sizes differ in scale only).
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

const char *const kPageView = "page_view";
const char *const kAddToCart = "add_to_cart";
const char *const kExitIntent = "exit_intent";
const char *const kCheckout = "checkout";

}  // namespace

Sessions::Sessions(const ShopSpec &spec, const Calendar &calendar, const Catalogue &catalogue, Baskets &baskets,
                   Orders &orders)
    : seed_(spec.seed),
      sessions_from_(spec.sessions_from),
      history_end_(spec.history_end),
      calendar_(calendar),
      catalogue_(catalogue),
      baskets_(baskets),
      orders_(orders) {
    sessions_.reserve(256);
    carts_.reserve(1024);
    events_.reserve(1024);
    gaps_.reserve(1024);
    line_buffer_.reserve(512);
}

// Visits at the times of a Poisson process with `rate` per `unit` of time
// over [from, to), each moved to a realistic moment of its day (after from);
// one moved to the end of the history or later is dropped.
template <typename Visit>
void Sessions::visits(Random &rng, std::int64_t from, std::int64_t to, double rate, double unit, Visit &&visit) const {
    double t = static_cast<double>(from);
    for (;;) {
        t += standard_exponential(rng) / rate * unit;
        if (t >= static_cast<double>(to)) break;
        const auto at = calendar_.place_in_day(rng, static_cast<std::int64_t>(t), from - 1);
        if (at >= history_end_) continue;
        visit(at);
    }
}

void Sessions::sort_sessions() {
    std::sort(sessions_.begin(), sessions_.end(), [](const SessionRec &a, const SessionRec &b) {
        return a.started_at != b.started_at ? a.started_at < b.started_at : a.gen < b.gen;
    });
}

void Sessions::fill_cart(Random &rng, const Taste *taste, std::int32_t items) {
    baskets_.start();
    std::vector<LineItem> &out = carts_;
    for (std::int32_t i = 0; i < items; ++i) {
        if (!baskets_.put_distinct(rng, taste, out)) break;
        out.back().quantity = Baskets::draw_quantity(rng);
    }
}

void Sessions::add_session(Random &rng, const Taste *taste, std::int64_t started, double cart_chance) {
    SessionRec s{};
    s.started_at = started;
    s.order_index = -1;
    s.converted = false;
    s.gen = static_cast<std::uint32_t>(sessions_.size());
    s.cart_begin = static_cast<std::uint32_t>(carts_.size());
    if (chance(rng, cart_chance)) {
        std::int32_t items = 0;
        if (chance(rng, kOrderSizedCart))
            items = std::min<std::int32_t>(baskets_.draw_lines(rng), 60);
        else
            items = 1 + static_cast<std::int32_t>(std::min<std::int64_t>(neg_binomial(rng, 1.0, 1.5), 30));
        fill_cart(rng, taste, items);
    }
    s.items = static_cast<std::int32_t>(carts_.size() - s.cart_begin);
    s.pages = 1 + static_cast<std::int32_t>(std::min<std::int64_t>(neg_binomial(rng, 1.2, 3.5), 150)) + s.items / 3;
    s.cart_pence = 0;
    for (std::size_t i = s.cart_begin; i < carts_.size(); ++i) s.cart_pence += carts_[i].quantity * carts_[i].price;
    s.exit_intent = chance(rng, kBrowseExitIntent);
    const std::int64_t events = s.pages + s.items + (s.exit_intent ? 1 : 0);
    const double per_event = 35.0 * (0.4 + 1.2 * rng.uniform());
    s.ended_at = started + static_cast<std::int64_t>(per_event * static_cast<double>(events) * static_cast<double>(kSecond)) +
                 between(rng, kSecond, 30 * kSecond);
    if (s.ended_at >= history_end_) s.ended_at = history_end_ - 1;
    sessions_.push_back(s);
}

const std::vector<SessionRec> &Sessions::of_customer(const Profile &p, const std::vector<std::int64_t> &orders,
                                                     std::int64_t active_until) {
    sessions_.clear();
    carts_.clear();
    Random rng = stream(seed_, static_cast<std::uint64_t>(p.customer_id), kSessions, 0);
    const std::int64_t from = std::max(sessions_from_, p.signed_up_at);
    const std::int64_t end = history_end_;
    const std::int64_t first_order = orders.empty() ? end : orders.front();

    // One converted session per order in the window.
    std::vector<LineItem> &lines = line_buffer_;
    for (std::size_t k = 0; k < orders.size(); ++k) {
        const std::int64_t at = orders[k];
        if (at < sessions_from_) continue;
        const char *status = nullptr;
        SessionRec s{};
        s.converted = true;
        s.order_index = static_cast<std::int64_t>(k);
        s.ordered_at = at;
        s.gen = static_cast<std::uint32_t>(sessions_.size());
        s.cart_begin = static_cast<std::uint32_t>(carts_.size());
        s.cart_pence = orders_.order_lines(p, static_cast<std::int64_t>(k), status, lines);
        carts_.insert(carts_.end(), lines.begin(), lines.end());
        s.items = static_cast<std::int32_t>(lines.size());
        if (chance(rng, 0.18))
            s.pages = 1 + static_cast<std::int32_t>(poisson(rng, 1.0));  // straight to the basket
        else
            s.pages = 2 + static_cast<std::int32_t>(std::min<std::int64_t>(neg_binomial(rng, 2.0, 5.0), 150)) +
                      s.items / 3;
        s.exit_intent = chance(rng, kConvertedExitIntent);
        const std::int64_t events = s.pages + s.items + (s.exit_intent ? 1 : 0);
        const double per_event = 35.0 * (0.4 + 1.2 * rng.uniform());
        const std::int64_t before = static_cast<std::int64_t>(per_event * static_cast<double>(events) * static_cast<double>(kSecond)) +
                                    between(rng, kSecond, 60 * kSecond);
        s.started_at = std::max(at - before, from);
        if (s.started_at > at) s.started_at = at;
        s.ended_at = std::min(at + between(rng, 5 * kSecond, 120 * kSecond), end - 1);
        if (s.ended_at < at) s.ended_at = at;
        sessions_.push_back(s);
    }

    // Browsing without buying: every customer a little, active customers more.
    const auto browse = [&](std::int64_t at) {
        const bool returning = at > first_order;
        add_session(rng, &p.taste, at, returning ? kCartReturning : kCartCustomer);
    };
    const double day = static_cast<double>(kDay);
    visits(rng, from, end, p.prospect ? kProspectBrowsePerDay : kBaseBrowsePerDay, day, browse);
    const std::int64_t active_from = std::max(from, first_order);
    const std::int64_t active_to = std::min(active_until + kDay, end);
    if (!orders.empty() && active_from < active_to) visits(rng, active_from, active_to, kActiveBrowsePerOrder * p.lambda, day, browse);
    sort_sessions();
    return sessions_;
}

const std::vector<SessionRec> &Sessions::anonymous(std::int64_t slot) {
    sessions_.clear();
    carts_.clear();
    Random rng = stream(seed_, static_cast<std::uint64_t>(slot), kAnonymous, 0);
    const std::int64_t from = sessions_from_, end = history_end_;
    // kAnonymousPerSlot over the window, the time unit a microsecond.
    visits(rng, from, end, kAnonymousPerSlot / static_cast<double>(end - from), 1.0,
           [&](std::int64_t at) { add_session(rng, nullptr, at, kCartAnonymous); });
    sort_sessions();
    return sessions_;
}

const std::vector<Event> &Sessions::events(const Profile *p, std::int64_t slot, std::uint64_t index,
                                           const SessionRec &s) {
    events_.clear();
    Random rng = stream(seed_, static_cast<std::uint64_t>(slot), kEvents, index);
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
            const std::uint32_t product =
                chance(rng, kProductPageShare) ? catalogue_.draw_product(rng, p != nullptr ? &p->taste : nullptr) + 1 : 0;
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
        total += 0.2 + standard_exponential(rng);
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
    return events_;
}

// ---------------------------------------------------------------------------
// The tables

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
                      std::int32_t seq = 0;
                      for (const Event &e : shop.sessions.events(p, slot, index, s)) {
                          interrupt.poll();
                          emit(SessionEvent{session_id, ++seq, e.at, e.type, static_cast<std::int64_t>(e.product)});
                      }
                  });
}

}  // namespace personalize::demo

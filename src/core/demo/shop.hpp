// Deterministic demo shop: customers, products, orders, order lines and web
// sessions, generated from (size, seed) alone. Every table can be generated on
// its own and agrees with the others (same ids), because each customer draws
// from its own random stream derived from (seed, customer_id).
//
// Timestamps are Unix-epoch microseconds (UTC). Money is in GBP, rounded to pence.
//
// The shop's history runs from 2024-01-01 to 2026-01-01 (UTC). Customers,
// products, orders and order lines cover all of it; web sessions (and their
// events) are kept for the last 90 days only, [sessions_from, history_end):
// every order in that window has exactly one converted session, and there are
// about 3-4 non-converting sessions (customers' and anonymous visitors') for
// each converting one.
//
// Sizes (make_spec): "tiny" 300 customers / 80 products (~1,500 orders),
// "demo" 10,000 / 1,000 (~50k orders), "bench" 200,000 / 20,000 (>= 1M orders,
// ~10M order lines). Orders follow a buy-till-you-die (BG/NBD) process per
// customer; about 12% of customers never order. Text fields point to static
// storage that lives as long as the process.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/common/interrupt.hpp"

namespace personalize::demo {

struct ShopSpec {
    std::string size;            // "tiny", "demo" or "bench"
    std::uint64_t seed = 0;
    std::int64_t customers = 0;  // signed-up customers (some never order)
    std::int64_t products = 0;
    double mean_lines = 0;       // mean lines per order (long tail)
    std::int64_t history_start = 0;  // first possible signup / order (µs)
    std::int64_t history_end = 0;    // the shop's "now": nothing happens at or after it (µs)
    std::int64_t sessions_from = 0;  // web sessions are kept from here to history_end (µs)
};

// Throws InvalidParameter naming "size" for an unknown size. A negative seed is
// fine (its bits are used). The generators also accept a hand-made spec (they
// check it: at least 80 products, 2 <= mean_lines <= 30, a sane window).
ShopSpec make_spec(const std::string &size, std::int64_t seed);

struct Customer {
    std::int64_t customer_id;
    std::int64_t signed_up_at;
    const char *country;         // ISO 3166 alpha-2, static storage
    bool email_opt_in;
};

struct Product {
    std::int64_t product_id;
    const char *name;            // static storage
    const char *category;        // static storage
    double price;                // GBP
};

struct Order {
    std::int64_t order_id;
    std::int64_t customer_id;
    std::int64_t ordered_at;
    const char *status;          // "completed", "cancelled" or "returned"
    double total;                // sum of the order's line amounts
    std::int32_t lines;
};

struct OrderLine {
    std::int64_t order_id;
    std::int32_t line_no;        // 1..lines of the order
    std::int64_t product_id;     // distinct within an order
    std::int32_t quantity;
    double unit_price;
    double amount;               // quantity * unit_price
};

struct Session {
    std::int64_t session_id;
    std::int64_t customer_id;    // 0 for an anonymous visitor
    std::int64_t started_at;
    std::int64_t ended_at;
    std::int32_t pages_viewed;
    std::int32_t items_in_cart;
    double cart_value;
    bool exit_intent;
    bool converted;
    std::int64_t order_id;       // 0 unless converted
};

struct SessionEvent {
    std::int64_t session_id;
    std::int32_t seq;            // 1.. within the session
    std::int64_t event_at;
    const char *event_type;      // "page_view", "add_to_cart", "exit_intent", "checkout"
    std::int64_t product_id;     // 0 when the event has no product
};

// A complementary pair planted on purpose (e.g. phone case -> screen
// protector), so tests can check that basket mining finds it.
struct PlantedPair {
    std::int64_t antecedent;
    std::int64_t consequent;
    double attach_rate;          // P(consequent in order | antecedent in order), by construction
};

template <typename Row>
using Sink = std::function<void(const Row &)>;

// Each call emits the whole table in key order and polls `interrupt`.
void generate_customers(const ShopSpec &spec, const Sink<Customer> &emit, const Interrupt &interrupt);
void generate_products(const ShopSpec &spec, const Sink<Product> &emit, const Interrupt &interrupt);
void generate_orders(const ShopSpec &spec, const Sink<Order> &emit, const Interrupt &interrupt);
void generate_order_lines(const ShopSpec &spec, const Sink<OrderLine> &emit, const Interrupt &interrupt);
void generate_sessions(const ShopSpec &spec, const Sink<Session> &emit, const Interrupt &interrupt);
void generate_session_events(const ShopSpec &spec, const Sink<SessionEvent> &emit, const Interrupt &interrupt);
void generate_planted_pairs(const ShopSpec &spec, const Sink<PlantedPair> &emit, const Interrupt &interrupt);

}  // namespace personalize::demo

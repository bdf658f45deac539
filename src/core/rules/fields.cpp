#include "core/rules/fields.hpp"

#include "core/rules/rules.hpp"
#include "core/rules/functions.hpp"
#include "core/rules/text.hpp"

namespace personalize::rules::detail {

const std::vector<CatalogueField> &catalogue() {
    // THE table. Keep docs/offer_rules.md's field table in step (a unit test checks it).
    static const std::vector<CatalogueField> fields = {
        {"customer.id", Type::Number, "the customer's id"},
        {"customer.orders", Type::Number, "number of completed orders"},
        {"customer.first_order_at", Type::Timestamp, "time of the first completed order"},
        {"customer.last_order_at", Type::Timestamp, "time of the latest completed order"},
        {"customer.total_spent", Type::Money, "sum of all completed orders"},
        {"customer.average_order", Type::Money, "mean value of a completed order"},
        {"customer.signed_up_at", Type::Timestamp, "when the customer's account was created"},
        {"customer.country", Type::Text, "country code of the customer, e.g. 'GB'"},
        {"customer.email_opt_in", Type::Bool, "the customer accepts marketing e-mail"},
        {"customer.segment", Type::Text, "segment name, e.g. from a segment map ('champions')"},
        {"customer.r", Type::Number, "RFM recency score"},
        {"customer.f", Type::Number, "RFM frequency score"},
        {"customer.m", Type::Number, "RFM monetary score"},
        {"customer.p_alive", Type::Number, "probability that the customer is still active (lifetime model)"},
        {"customer.expected_orders", Type::Number, "expected orders in the model's horizon (lifetime model)"},
        {"customer.clv", Type::Money, "customer lifetime value (lifetime model)"},
        {"customer.cluster", Type::Number, "k-means cluster of the customer"},
        {"customer.tags", Type::TextList, "tags of the customer, e.g. ['vip', 'staff']"},
        {"cart.total", Type::Money, "value of the cart"},
        {"cart.items", Type::NumberList, "product ids in the cart"},
        {"cart.quantity", Type::Number, "number of units in the cart"},
        {"cart.categories", Type::TextList, "categories of the products in the cart"},
        {"cart.currency", Type::Text, "currency code of the cart (also the currency of cart amounts written as numbers)"},
        {"session.exit_intent", Type::Bool, "the visitor is about to leave the page"},
        {"session.offer_shown", Type::Bool, "an offer was already shown in this session"},
        {"session.pages_viewed", Type::Number, "pages viewed in this session"},
        {"session.minutes_on_site", Type::Number, "minutes spent on the site in this session"},
        {"session.returning", Type::Bool, "the visitor has been here before"},
        {"session.channel", Type::Text, "where the visit came from, e.g. 'email', 'search'"},
        {"session.propensity", Type::Number, "purchase propensity score of this session"},
        {"session.product_id", Type::Number, "product page being viewed"},
        {"session.complements", Type::NumberList, "complementary products of the viewed product"},
        {"session.started_at", Type::Timestamp, "when the session started"},
        {"now", Type::Timestamp, "the evaluation time: the context's \"now\", else the time the caller passes"},
    };
    return fields;
}

int find_catalogue_field(std::string_view path) {
    const auto &fields = catalogue();
    for (std::size_t i = 0; i < fields.size(); ++i)
        if (path == fields[i].path) return static_cast<int>(i);
    return -1;
}

namespace {

const char *const kNamespaces[] = {"customer", "cart", "session"};

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

bool is_attribute_path(std::string_view path) {
    for (const char *ns : kNamespaces) {
        const std::string prefix = std::string(ns) + ".attributes.";
        if (starts_with(path, prefix) && path.size() > prefix.size()) return true;
    }
    return false;
}

std::string unknown_field_message(std::string_view path) {
    const std::string quoted = "\"" + truncate_utf8(path, 80) + "\"";
    for (const char *ns : kNamespaces) {
        if (path == ns)
            return quoted + " is not a field; write one of its fields, e.g. " + std::string(ns) + "." +
                   (path == "customer" ? "orders" : path == "cart" ? "total" : "exit_intent");
        if (path == std::string(ns) + ".attributes")
            return quoted + " is not a field; write " + std::string(ns) + ".attributes.NAME for a shop-specific value";
    }
    if (is_function_name(path)) return quoted + " is a function; write " + std::string(path) + "(...)";
    std::vector<std::string_view> candidates;
    for (const auto &f : catalogue()) candidates.emplace_back(f.path);
    const std::string_view guess = closest_match(path, candidates);
    if (!guess.empty()) return "unknown field " + quoted + "; did you mean \"" + std::string(guess) + "\"?";
    for (const char *ns : kNamespaces) {
        const std::string prefix = std::string(ns) + ".";
        if (!starts_with(path, prefix)) continue;
        std::string names;
        for (const auto &f : catalogue()) {
            if (!starts_with(f.path, prefix)) continue;
            if (!names.empty()) names += ", ";
            names += std::string(f.path).substr(prefix.size());
        }
        return "unknown field " + quoted + "; the " + ns + " fields are " + names + "; shop-specific values go under " +
               ns + ".attributes.NAME";
    }
    return "unknown field " + quoted + "; fields start with customer., cart. or session., or are now";
}

}  // namespace personalize::rules::detail

namespace personalize::rules {

const std::vector<FieldInfo> &field_catalogue() {
    static const std::vector<FieldInfo> fields = [] {
        std::vector<FieldInfo> out;
        for (const auto &f : detail::catalogue()) out.push_back({f.path, detail::type_name(f.type), f.description});
        out.push_back({"customer.attributes.NAME", "inferred",
                       "shop-specific customer value or model output; its type is inferred from the rule"});
        out.push_back({"cart.attributes.NAME", "inferred", "shop-specific cart value; its type is inferred from the rule"});
        out.push_back({"session.attributes.NAME", "inferred",
                       "shop-specific session value; its type is inferred from the rule"});
        return out;
    }();
    return fields;
}

}  // namespace personalize::rules

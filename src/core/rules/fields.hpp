// The field catalogue of the offer rule language: the context fields a rule
// may read, with their types. The table itself is in rule_fields.cpp (one
// place to add a field; docs/offer_rules.md lists the same fields and a unit
// test keeps the two equal). Besides the catalogue, three open namespaces
// hold shop-specific values whose type is inferred from the rule:
// customer.attributes.NAME, cart.attributes.NAME, session.attributes.NAME.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/rules/types.hpp"

namespace personalize::rules::detail {

// The evaluator keeps one slot per catalogue field; the table may grow up to this.
constexpr std::size_t kMaxCatalogueFields = 64;

struct CatalogueField {
    const char *path;
    Type type;
    const char *description;
};

const std::vector<CatalogueField> &catalogue();

// Index of `path` in the catalogue, or -1.
int find_catalogue_field(std::string_view path);

// customer.attributes.NAME[.MORE...] (and cart., session.).
bool is_attribute_path(std::string_view path);

// The message for a path that is neither: "unknown field \"customer.ordrs\";
// did you mean \"customer.orders\"?" and the like.
std::string unknown_field_message(std::string_view path);

}  // namespace personalize::rules::detail

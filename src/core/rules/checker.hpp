// Type checking of a parsed rule, with inference of the types of attribute
// fields (customer.attributes.NAME, ...) from how they are used.
//
// check(node, hint) types a node; `hint` is the type the parent needs when
// it is already known (a comparison's other side, a function's parameter,
// "condition" under and/or/not). An attribute field takes the first hint it
// gets and keeps it for the whole rule. Because a later use can decide an
// earlier one (a = b and a > 3), the checker repeats until no attribute
// gains a type, then runs a final strict pass in which anything still
// unknown is an error asking for a literal to compare with. Type errors are
// InvalidParameter with the position of the offending expression; unknown
// fields and functions too; more than kMaxRuleFields fields is ProgramLimit.
#pragma once

#include <string>
#include <vector>

#include "core/rules/ast.hpp"

namespace personalize::rules::detail {

struct FieldUse {
    std::string path;
    Type type;       // Any: an attribute only tested with is [not] null
    int catalogue;   // -1: attribute
};

// Annotates ast's nodes (type, conversions, field index) and returns the
// distinct fields in order of first use.
std::vector<FieldUse> check(Ast &ast);

}  // namespace personalize::rules::detail

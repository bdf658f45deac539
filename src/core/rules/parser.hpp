// Recursive-descent parser of the offer rule language (grammar in
// docs/offer_rules.md). Syntax errors are ErrorCode::Syntax with the
// position of the token that was not expected and what was expected there;
// nesting deeper than kMaxDepth and lists longer than kMaxListItems are
// ProgramLimit errors.
#pragma once

#include <string_view>

#include "core/rules/ast.hpp"

namespace personalize::rules::detail {

Ast parse(std::string_view rule);

}  // namespace personalize::rules::detail

// Code generation: a type-checked syntax tree -> Program (postfix bytecode,
// constants, field table, the logic tree and operand texts for explain).
#pragma once

#include <cstddef>
#include <vector>

#include "core/rules/ast.hpp"
#include "core/rules/checker.hpp"
#include "core/rules/program.hpp"

namespace personalize::rules::detail {

// The evaluator's stack holds this many slots; deeper programs do not compile
// (the nesting limit keeps real rules far below it).
constexpr std::size_t kStackSize = 256;

Program generate(const Ast &ast, const std::vector<FieldUse> &fields);

}  // namespace personalize::rules::detail

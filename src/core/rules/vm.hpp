// The bytecode interpreter: runs code[begin, end) of a program (the whole
// rule, or one condition or operand for explain) and returns the one value
// it leaves. No allocation: the stack is a local array sized by kStackSize,
// which the compiler guarantees is enough.
#pragma once

#include <cstdint>

#include "core/rules/eval_state.hpp"
#include "core/rules/program.hpp"

namespace personalize::rules::detail {

Slot run(EvalState &s, const Program &p, std::uint32_t begin, std::uint32_t end);

}  // namespace personalize::rules::detail

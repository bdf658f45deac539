// List operations of the evaluator: membership (contains, in), any_in and
// all_in, over constant lists (sorted at compile time) and context lists
// (read in place). A context list is scanned the first time it is probed;
// from the second probe on, a sorted index of its items (built once per
// Evaluator) answers in O(log n), so many contains() calls on a 10,000-item
// cart are not quadratic.
#pragma once

#include <string_view>

#include "core/rules/eval_state.hpp"
#include "core/rules/value.hpp"

namespace personalize::rules::detail {

bool list_has_number(EvalState &s, const ListData &list, double x);
bool list_has_text(EvalState &s, const ListData &list, std::string_view x);
// Some item of a is in b / every item of a is in b (true when a is empty).
bool lists_any_in(EvalState &s, const ListData &a, const ListData &b, bool text);
bool lists_all_in(EvalState &s, const ListData &a, const ListData &b, bool text);

// Calls f(double) / f(std::string_view) for each item in order (nulls skipped).
template <typename F>
void for_each_number(const ListData &list, F &&f) {
    if (!list.from_context) {
        for (std::uint32_t i = 0; i < list.sorted_size; ++i) f(list.sorted_numbers[i]);
        return;
    }
    for (std::uint32_t i = list.first; i < list.end; i = list.nodes[i].end)
        if (list.nodes[i].kind == ContextNode::Number) f(list.nodes[i].number);
}
template <typename F>
void for_each_text(const ListData &list, F &&f) {
    if (!list.from_context) {
        for (std::uint32_t i = 0; i < list.sorted_size; ++i) f(list.sorted_texts[i]);
        return;
    }
    for (std::uint32_t i = list.first; i < list.end; i = list.nodes[i].end) {
        const ContextNode &n = list.nodes[i];
        if (n.kind == ContextNode::String) f(n.str_len == 0 ? std::string_view() : std::string_view(n.str, n.str_len));
    }
}

}  // namespace personalize::rules::detail

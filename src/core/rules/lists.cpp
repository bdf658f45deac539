#include "core/rules/lists.hpp"

#include <algorithm>

namespace personalize::rules::detail {

namespace {

constexpr std::uint32_t kScanBelow = 16;  // short lists are always scanned

// A context list's sorted index, built on its second probe.
ListData &indexed(EvalState &s, const ListData &list, bool text) {
    // Context lists live in the EvalState (never in a const Program), so the
    // const in the slot is only the VM's view of it.
    ListData &l = const_cast<ListData &>(list);
    if (l.sorted_numbers != nullptr || l.sorted_texts != nullptr) return l;
    auto index = std::make_unique<SortedIndex>();
    if (text) {
        index->texts.reserve(l.size);
        for_each_text(l, [&](std::string_view t) { index->texts.push_back(t); });
        std::sort(index->texts.begin(), index->texts.end());
        index->texts.erase(std::unique(index->texts.begin(), index->texts.end()), index->texts.end());
        l.sorted_texts = index->texts.data();
        l.sorted_size = static_cast<std::uint32_t>(index->texts.size());
    } else {
        index->numbers.reserve(l.size);
        for_each_number(l, [&](double v) { index->numbers.push_back(v); });
        std::sort(index->numbers.begin(), index->numbers.end());
        index->numbers.erase(std::unique(index->numbers.begin(), index->numbers.end()), index->numbers.end());
        l.sorted_numbers = index->numbers.data();
        l.sorted_size = static_cast<std::uint32_t>(index->numbers.size());
    }
    s.sorted.push_back(std::move(index));
    return l;
}

// Whether to use (or build) the sorted index for this probe.
bool use_index(const ListData &list) {
    if (!list.from_context) return true;
    if (list.size < kScanBelow) return false;
    ListData &l = const_cast<ListData &>(list);
    return l.probes++ > 0;
}

}  // namespace

bool list_has_number(EvalState &s, const ListData &list, double x) {
    if (list.size == 0) return false;
    if (!use_index(list)) {
        bool found = false;
        for_each_number(list, [&](double v) { found = found || v == x; });
        return found;
    }
    const ListData &l = list.from_context ? indexed(s, list, false) : list;
    return std::binary_search(l.sorted_numbers, l.sorted_numbers + l.sorted_size, x);
}

bool list_has_text(EvalState &s, const ListData &list, std::string_view x) {
    if (list.size == 0) return false;
    if (!use_index(list)) {
        bool found = false;
        for_each_text(list, [&](std::string_view v) { found = found || v == x; });
        return found;
    }
    const ListData &l = list.from_context ? indexed(s, list, true) : list;
    return std::binary_search(l.sorted_texts, l.sorted_texts + l.sorted_size, x);
}

bool lists_any_in(EvalState &s, const ListData &a, const ListData &b, bool text) {
    if (a.size == 0 || b.size == 0) return false;
    // Walk the shorter list, probe the longer one.
    const ListData &walk = a.size <= b.size ? a : b;
    const ListData &probe = a.size <= b.size ? b : a;
    bool found = false;
    if (text)
        for_each_text(walk, [&](std::string_view v) { found = found || list_has_text(s, probe, v); });
    else
        for_each_number(walk, [&](double v) { found = found || list_has_number(s, probe, v); });
    return found;
}

bool lists_all_in(EvalState &s, const ListData &a, const ListData &b, bool text) {
    bool all = true;
    if (text)
        for_each_text(a, [&](std::string_view v) { all = all && list_has_text(s, b, v); });
    else
        for_each_number(a, [&](double v) { all = all && list_has_number(s, b, v); });
    return all;
}

}  // namespace personalize::rules::detail

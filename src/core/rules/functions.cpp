#include "core/rules/functions.hpp"

namespace personalize::rules::detail {

const std::vector<FunctionInfo> &functions() {
    static const std::vector<FunctionInfo> table = {
        {"contains", Function::Contains, 2, "a list and a value"},
        {"any_in", Function::AnyIn, 2, "two lists"},
        {"all_in", Function::AllIn, 2, "two lists"},
        {"count", Function::Count, 1, "a list"},
        {"days_since", Function::DaysSince, 1, "a timestamp"},
        {"hours_since", Function::HoursSince, 1, "a timestamp"},
        {"coalesce", Function::Coalesce, 2, "two values of the same type"},
        {"min", Function::Min, 2, "two numbers or two amounts"},
        {"max", Function::Max, 2, "two numbers or two amounts"},
        {"abs", Function::Abs, 1, "a number or an amount"},
    };
    return table;
}

const FunctionInfo *find_function(std::string_view name) {
    for (const auto &f : functions())
        if (name == f.name) return &f;
    return nullptr;
}

bool is_function_name(std::string_view name) { return find_function(name) != nullptr; }

std::string function_names() {
    std::string out;
    for (const auto &f : functions()) {
        if (!out.empty()) out += ", ";
        out += f.name;
    }
    return out;
}

}  // namespace personalize::rules::detail

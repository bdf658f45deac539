// The functions of the offer rule language (names, arity, what they take).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace personalize::rules::detail {

enum class Function : std::uint8_t { Contains, AnyIn, AllIn, Count, DaysSince, HoursSince, Coalesce, Min, Max, Abs };

struct FunctionInfo {
    const char *name;
    Function id;
    int arity;
    const char *arguments;  // for "takes 2 arguments (a list and a value)"
};

const std::vector<FunctionInfo> &functions();
const FunctionInfo *find_function(std::string_view name);
bool is_function_name(std::string_view name);
// "contains, any_in, all_in, ..."
std::string function_names();

}  // namespace personalize::rules::detail

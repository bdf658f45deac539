// The pieces of the JSON the models are written as (k-means, the lifetime
// fits, logistic regression, RFM breakpoints), and numbers as text in error
// messages: one definition each, so every model prints numbers alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace personalize {

// The shortest of %.15g, %.16g, %.17g that reads back as exactly v; `null`
// when v is not finite (JSON has no NaN or Infinity).
void put_json_number(std::string &out, double v);

// [v1,v2,...] with put_json_number.
void put_json_numbers(std::string &out, const std::vector<double> &values);

// A quoted JSON string, with quotes, backslashes and control characters escaped.
void put_json_string(std::string &out, std::string_view s);

// A number for an error message: NaN, Infinity and -Infinity spelled as
// PostgreSQL spells them, otherwise all 17 significant digits.
std::string number_text(double v);

}  // namespace personalize

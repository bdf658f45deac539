// The last check of every lifetime prediction: a hand-made model whose
// parameters are far outside what a fit gives (r = 1e300, alpha = 1e-300)
// makes the formulas overflow into NaN or ±Infinity. That is an error naming
// the model's parameters, never a NaN answer.
#pragma once

#include "core/lifetime/fit.hpp"

namespace personalize::lifetime {

// `value` when finite; otherwise InvalidParameter
//   "<function>: \"<argument>\" gives no finite answer (NaN): its parameters
//    r = 1e+300, ... are outside the range its formulas hold".
// `infinity_allowed`: +Infinity is a documented answer (next_purchase_in: never).
double finite_answer(double value, const char *function, const char *argument, const FitResult &model,
                     bool infinity_allowed = false);

}  // namespace personalize::lifetime

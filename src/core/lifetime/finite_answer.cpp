#include "core/lifetime/finite_answer.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include "core/common/error.hpp"
#include "core/common/json_writer.hpp"

namespace personalize::lifetime {

double finite_answer(double value, const char *function, const char *argument, const FitResult &model,
                     bool infinity_allowed) {
    if (std::isfinite(value) || (infinity_allowed && value > 0 && std::isinf(value))) return value;
    std::string params;
    for (std::size_t i = 0; i < model.params.size(); ++i) {
        if (i > 0) params += ", ";
        char number[32];
        std::snprintf(number, sizeof number, "%.6g", model.params[i]);
        params += (i < model.names.size() ? model.names[i] : "?") + " = " + number;
    }
    throw_invalid(std::string(function) + ": \"" + argument + "\" gives no finite answer (" + number_text(value) +
                      "): its " + model.model + " parameters " + params + " are outside the range its formulas hold",
                  "Use a model fitted by personalize." + model.model + "_fit(...).");
}

}  // namespace personalize::lifetime

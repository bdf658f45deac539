#include "core/common/same_for_every_row.hpp"

#include <string>

#include "core/common/error.hpp"

namespace personalize {

void throw_not_same_for_every_row(const char *function, const char *name) {
    throw_invalid(std::string(function) + ": \"" + name + "\" must be the same for every row",
                  "Pass a constant, e.g. a literal or a parameter, not a column that varies.");
}

}  // namespace personalize

// The backend's cache of compiled offer rules (keyed by rule text), shared
// by every function that evaluates rules. C++: use inside cpp(...).
#pragma once

#include "core/rules/rules.hpp"

namespace personalize::pg {

rules::RuleCache &rule_cache();

}  // namespace personalize::pg

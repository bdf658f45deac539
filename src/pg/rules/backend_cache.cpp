#include "pg/rules/backend_cache.hpp"

namespace personalize::pg {

rules::RuleCache &rule_cache() {
    // Lives until the backend exits; 1,024 rules is far more than any shop's offers.
    static rules::RuleCache *cache = new rules::RuleCache(1024);
    return *cache;
}

}  // namespace personalize::pg

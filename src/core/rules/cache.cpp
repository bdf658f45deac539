// RuleCache: compiled rules by text, least recently used evicted first.
#include <absl/container/flat_hash_map.h>

#include "core/rules/rules.hpp"

namespace personalize::rules {

struct RuleCache::Index {
    absl::flat_hash_map<std::string, std::list<Entry>::iterator> map;
};

RuleCache::RuleCache(std::size_t max_entries)
    : max_entries_(max_entries == 0 ? 1 : max_entries), index_(std::make_unique<Index>()) {}

RuleCache::~RuleCache() = default;

RulePtr RuleCache::get(std::string_view text) {
    const auto found = index_->map.find(absl::string_view(text.data(), text.size()));
    if (found != index_->map.end()) {
        ++hits_;
        lru_.splice(lru_.begin(), lru_, found->second);
        return found->second->rule;
    }
    ++misses_;
    RulePtr rule = compile(text);  // throws before anything changes
    lru_.push_front(Entry{std::string(text), rule});
    index_->map.emplace(lru_.front().text, lru_.begin());
    while (lru_.size() > max_entries_) {
        index_->map.erase(lru_.back().text);
        lru_.pop_back();
    }
    return rule;
}

std::size_t RuleCache::size() const { return lru_.size(); }

void RuleCache::clear() {
    index_->map.clear();
    lru_.clear();
}

}  // namespace personalize::rules

// An absl::flat_hash_map counter whose table is charged to a MemoryBudget.
// The map never grows on its own: when it holds as many entries as were
// reserved, the next (doubled) table is charged first and only then
// allocated, so an over-limit table fails with OutOfMemory before the
// allocation.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstddef>
#include <utility>

#include "core/common/memory_budget.hpp"

namespace personalize {

template <typename Key, typename Value>
class ChargedHashMap {
public:
    using Map = absl::flat_hash_map<Key, Value>;

    ChargedHashMap(MemoryBudget &budget, const char *what) : budget_(&budget), what_(what) {}
    ~ChargedHashMap() { budget_->release(charged_); }
    ChargedHashMap(const ChargedHashMap &) = delete;
    ChargedHashMap &operator=(const ChargedHashMap &) = delete;

    // The value for `key`, value-initialized (0) when new.
    Value &operator[](const Key &key) {
        if (map_.size() >= reserved_) grow(std::max<std::size_t>(1024, reserved_ * 2));
        return map_[key];
    }
    void reserve(std::size_t entries) {
        if (entries > reserved_) grow(entries);
    }

    const Map &map() const { return map_; }
    Map &map() { return map_; }
    std::size_t size() const { return map_.size(); }

    // Bytes of a table with `capacity` slots: the slots, one control byte
    // each, and a group of cloned control bytes.
    static std::size_t table_bytes(std::size_t capacity) {
        return capacity == 0 ? 0 : capacity * (sizeof(typename Map::value_type) + 1) + 32;
    }
    // The capacity absl picks for `entries` (7/8 maximum load, 2^k - 1 slots).
    static std::size_t capacity_for(std::size_t entries) {
        std::size_t wanted = entries + (entries > 0 ? (entries - 1) / 7 : 0);
        std::size_t capacity = 1;
        while (capacity < wanted) capacity = capacity * 2 + 1;
        return capacity;
    }

private:
    void grow(std::size_t entries) {
        const std::size_t estimate = table_bytes(capacity_for(entries));
        budget_->charge(estimate, what_);
        try {
            map_.reserve(entries);
        } catch (...) {
            budget_->release(estimate);
            throw;
        }
        // The old table is gone now; keep the new one's actual size charged.
        const std::size_t actual = table_bytes(map_.capacity());
        budget_->release(charged_);
        if (actual > estimate)
            budget_->charge(actual - estimate, what_);
        else
            budget_->release(estimate - actual);
        charged_ = actual;
        reserved_ = entries;
    }

    MemoryBudget *budget_;
    const char *what_;
    Map map_;
    std::size_t reserved_ = 0;
    std::size_t charged_ = 0;
};

}  // namespace personalize

// A byte budget for large core structures. PostgreSQL must never be
// OOM-killed because a basket collection or an FP-tree grew without bound:
// structures charge their size here and fail with a clear OutOfMemory error
// naming the setting to raise (the glue passes personalize.memory_limit).
#pragma once

#include <cstddef>
#include <string>

#include "core/common/error.hpp"

namespace personalize {

class MemoryBudget {
public:
    // limit_bytes 0 means unlimited (core unit tests); `setting` is what the
    // user raises, e.g. "personalize.memory_limit".
    explicit MemoryBudget(std::size_t limit_bytes = 0, std::string setting = "the memory limit")
        : limit_(limit_bytes), setting_(std::move(setting)) {}

    // Records that `bytes` more are in use by `what`; throws if over the limit.
    void charge(std::size_t bytes, const char *what) {
        used_ += bytes;
        if (used_ > peak_) peak_ = used_;
        if (limit_ != 0 && used_ > limit_) {
            const std::size_t over = used_;
            used_ -= bytes;
            throw Error(ErrorCode::OutOfMemory,
                        std::string(what) + " needs more than " + setting_ + " (" + exact_size(limit_) + ")",
                        "at least " + at_least_size(over) + " would be in use",
                        "Raise " + setting_ + " for this session, e.g. SET " + setting_ + " = '2GB'.");
        }
    }
    void release(std::size_t bytes) { used_ = bytes > used_ ? 0 : used_ - bytes; }

    std::size_t used() const { return used_; }
    std::size_t peak() const { return peak_; }
    std::size_t limit() const { return limit_; }

    // The limit exactly, in the largest unit that divides it, as PostgreSQL
    // shows a memory setting: "64 kB", "8 MB", "1536 kB", "1000 bytes".
    static std::string exact_size(std::size_t bytes) {
        static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB"};
        int unit = 0;
        while (unit < 4 && bytes != 0 && bytes % 1024 == 0) {
            bytes /= 1024;
            ++unit;
        }
        return std::to_string(bytes) + " " + units[unit];
    }
    // A lower bound, rounded down (never more than is in use): bytes below
    // 1 kB, kB below 1 MB, MB above.
    static std::string at_least_size(std::size_t bytes) {
        if (bytes < (std::size_t{1} << 10)) return std::to_string(bytes) + " bytes";
        if (bytes < (std::size_t{1} << 20)) return std::to_string(bytes >> 10) + " kB";
        return std::to_string(bytes >> 20) + " MB";
    }

private:

    std::size_t limit_;
    std::string setting_;
    std::size_t used_ = 0;
    std::size_t peak_ = 0;
};

}  // namespace personalize

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
                        std::string(what) + " needs more than " + setting_ + " (" + megabytes(limit_) + ")",
                        "at least " + megabytes(over) + " would be in use",
                        "Raise " + setting_ + " for this session, e.g. SET " + setting_ + " = '2GB'.");
        }
    }
    void release(std::size_t bytes) { used_ = bytes > used_ ? 0 : used_ - bytes; }

    std::size_t used() const { return used_; }
    std::size_t peak() const { return peak_; }
    std::size_t limit() const { return limit_; }

private:
    static std::string megabytes(std::size_t bytes) {
        return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MB";
    }

    std::size_t limit_;
    std::string setting_;
    std::size_t used_ = 0;
    std::size_t peak_ = 0;
};

}  // namespace personalize

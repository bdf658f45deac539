// A std::vector whose capacity is charged to a MemoryBudget: growth charges
// the new buffer before allocating it (so an over-limit structure fails with
// OutOfMemory instead of exhausting RAM), destruction releases it. Used by
// the large transient structures of rule mining.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "core/common/memory_budget.hpp"

namespace personalize {

template <typename T>
class ChargedVector {
public:
    ChargedVector(MemoryBudget &budget, const char *what) : budget_(&budget), what_(what) {}
    ~ChargedVector() { budget_->release(charged_); }

    ChargedVector(const ChargedVector &) = delete;
    ChargedVector &operator=(const ChargedVector &) = delete;
    ChargedVector(ChargedVector &&other) noexcept
        : budget_(other.budget_), what_(other.what_), v_(std::move(other.v_)), charged_(other.charged_) {
        other.v_ = std::vector<T>();
        other.charged_ = 0;
    }
    ChargedVector &operator=(ChargedVector &&other) noexcept {
        if (this != &other) {
            budget_->release(charged_);
            budget_ = other.budget_;
            what_ = other.what_;
            v_ = std::move(other.v_);
            charged_ = other.charged_;
            other.v_ = std::vector<T>();
            other.charged_ = 0;
        }
        return *this;
    }

    // Exactly n elements of capacity (or more if already there). While the
    // elements move, old and new buffers both exist, so both stay charged
    // until the move is done.
    void reserve(std::size_t n) {
        if (n <= v_.capacity()) return;
        const std::size_t bytes = n * sizeof(T);
        budget_->charge(bytes, what_);
        try {
            v_.reserve(n);
        } catch (...) {
            budget_->release(bytes);
            throw;
        }
        budget_->release(charged_);
        charged_ = bytes;
    }

    void push_back(const T &value) {
        if (v_.size() == v_.capacity()) reserve(std::max<std::size_t>(16, v_.capacity() * 2));
        v_.push_back(value);
    }
    // Room for `extra` more elements, growing geometrically.
    void reserve_more(std::size_t extra) {
        const std::size_t needed = v_.size() + extra;
        if (needed > v_.capacity()) reserve(std::max(needed, v_.capacity() * 2));
    }
    void append(const T *first, const T *last) {
        reserve_more(static_cast<std::size_t>(last - first));
        v_.insert(v_.end(), first, last);
    }
    void resize(std::size_t n) {
        reserve(n);
        v_.resize(n);
    }
    void assign(std::size_t n, const T &value) {
        reserve(n);
        v_.assign(n, value);
    }
    void clear() { v_.clear(); }
    // Gives the memory back (to the allocator and to the budget).
    void free() {
        std::vector<T>().swap(v_);
        budget_->release(charged_);
        charged_ = 0;
    }
    void swap(ChargedVector &other) noexcept {
        std::swap(budget_, other.budget_);
        std::swap(what_, other.what_);
        v_.swap(other.v_);
        std::swap(charged_, other.charged_);
    }

    std::size_t size() const { return v_.size(); }
    bool empty() const { return v_.empty(); }
    T *data() { return v_.data(); }
    const T *data() const { return v_.data(); }
    T &operator[](std::size_t i) { return v_[i]; }
    const T &operator[](std::size_t i) const { return v_[i]; }
    T &back() { return v_.back(); }
    const T &back() const { return v_.back(); }
    void pop_back() { v_.pop_back(); }
    typename std::vector<T>::iterator begin() { return v_.begin(); }
    typename std::vector<T>::iterator end() { return v_.end(); }
    typename std::vector<T>::const_iterator begin() const { return v_.begin(); }
    typename std::vector<T>::const_iterator end() const { return v_.end(); }
    std::size_t charged_bytes() const { return charged_; }

private:
    MemoryBudget *budget_;
    const char *what_;
    std::vector<T> v_;
    std::size_t charged_ = 0;
};

}  // namespace personalize

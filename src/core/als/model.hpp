// The stored form of an ALS model (the SQL type personalize.als_model) and
// what is computed from it: top-N for a customer, batch top-N, fold-in of a
// new customer, scores.
//
// Layout (the byte format of core/common/bytes.hpp, tag "ALM1" version 1 as
// written by 0.1.0; every section starts at a multiple of 8 and is
// zero-padded to one):
//   header, kAlsHeaderSize bytes: the format header, then AlsHeader's fields
//           in declaration order (factors u32, solver u32, customers u64,
//           items u64, interactions u64, iterations u32, cg_steps u32,
//           regularization f64, alpha f64, seed i64, loss f64, fingerprint
//           u64 at byte kAlsFingerprintAt), zero-padded
//   customer_ids      int64  [customers]             ascending
//   item_ids          int64  [items]                 ascending
//   offsets           uint64 [customers + 1]         offsets[0] = 0, last = interactions
//   history           uint32 [interactions]          item indices a customer was trained on, ascending per customer
//   customer_factors  float32[customers * factors]   row-major
//   item_factors      float32[items * factors]       row-major
// For 200k customers, 20k items, 64 factors and 9M pairs that is ~90 MB
// (float32 factors: half of float8; the history lets top-N leave out what a
// customer already bought without a second input). The fingerprint is a
// 64-bit hash of every byte but its own field: equal fingerprints identify a
// model for caching, and a changed byte is detected when a model is opened.
//
// AlsModelView is a set of pointers into such bytes (trivially destructible,
// so glue code can keep one in a cache); open() checks every invariant and
// throws DataCorrupted otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/als/als.hpp"
#include "core/common/bytes.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::als {

constexpr std::size_t kAlsHeaderSize = 128;
constexpr std::size_t kAlsFingerprintAt = 80;

struct AlsHeader {
    std::uint32_t factors = 0;
    AlsSolver solver = AlsSolver::ConjugateGradient;
    std::uint64_t customers = 0;
    std::uint64_t items = 0;
    std::uint64_t interactions = 0;
    std::uint32_t iterations = 0;
    std::uint32_t cg_steps = 0;
    double regularization = 0.0;
    double alpha = 0.0;
    std::int64_t seed = 0;
    double loss = 0.0;
    std::uint64_t fingerprint = 0;

    // The total byte size of a model with these counts (0 when it would
    // overflow).
    std::size_t total_size() const;
    // Reads the header of stored bytes (at least kAlsHeaderSize of them;
    // any alignment); DataCorrupted on a wrong tag / version / field.
    static AlsHeader read(const unsigned char *data, std::size_t size);
    static AlsHeader read(ByteReader &in);
    void write(ByteWriter &out) const;  // kAlsHeaderSize bytes, fingerprint included
};

// The fingerprint of stored bytes (the header's fingerprint field counts as 0).
std::uint64_t als_fingerprint(const unsigned char *data, std::size_t size);

struct AlsScoredItem {
    std::int64_t item_id;
    double score;
};

struct AlsModelView {
    AlsHeader header;
    const std::int64_t *customer_ids = nullptr;
    const std::int64_t *item_ids = nullptr;
    const std::uint64_t *offsets = nullptr;
    const std::uint32_t *history = nullptr;
    const float *customer_factors = nullptr;
    const float *item_factors = nullptr;

    // `data` must be 8-byte aligned and stay alive as long as the view.
    // Checks sizes, order, ranges, finiteness and the fingerprint.
    static AlsModelView open(const unsigned char *data, std::size_t size);

    std::size_t factors() const { return header.factors; }
    std::size_t customers() const { return static_cast<std::size_t>(header.customers); }
    std::size_t items() const { return static_cast<std::size_t>(header.items); }
    // The dense index of an id, or -1 when the model does not know it.
    std::int64_t customer_index(std::int64_t customer_id) const;
    std::int64_t item_index(std::int64_t item_id) const;
    const float *customer_row(std::size_t index) const { return customer_factors + index * factors(); }
    const float *item_row(std::size_t index) const { return item_factors + index * factors(); }
};

// Y^T Y of the item factors (factors x factors doubles into `out`), which
// fold-in needs; computed once per loaded model.
void als_item_gram(const AlsModelView &model, double *out);

// The n best items for the factor vector x (score = x . y_i), best first,
// ties by ascending item id, leaving out the item indices in `exclude`
// (ascending). Fewer when the model has fewer items left.
void als_top_items(const AlsModelView &model, const float *x, const std::uint32_t *exclude, std::size_t exclude_count,
                   std::size_t n, std::vector<AlsScoredItem> &out);

// Top-n for a known customer (index from customer_index), leaving out the
// items the customer was trained on when exclude_bought.
std::vector<AlsScoredItem> als_recommend(const AlsModelView &model, std::size_t customer, std::size_t n,
                                         bool exclude_bought);

// Fold-in (Hu et al. section 4): the factors of a customer who bought
// `items` with `strengths` (nullptr: 1 each; otherwise exactly
// `strength_count` == `count` of them, finite and > 0; InvalidParameter
// naming "strengths" prefixed by `function`), solved exactly against the
// model's item factors:
//   x = (YtY + Yt (C - I) Y + regularization n I)^-1 Yt C p
// with n the number of known distinct items (the scaling of training).
// Items the model does not know are ignored, duplicates summed. `known`
// receives the known item indices (ascending, distinct). No known item:
// x = 0.
std::vector<float> als_fold_in(const AlsModelView &model, const double *gram, const std::int64_t *items,
                               std::size_t count, const double *strengths, std::size_t strength_count,
                               std::vector<std::uint32_t> &known, const char *function);

// Batch top-n for customers (indices from customer_index), in blocks: one
// matrix product of a block's factors with all item factors, then a
// selection per customer. emit(position in `customers`, items, count) is
// called in order. The block's score matrix is charged to `budget`; polls
// `interrupt` per block.
void als_recommend_batch(const AlsModelView &model, const std::vector<std::size_t> &customers, std::size_t n,
                         bool exclude_bought, MemoryBudget &budget, const Interrupt &interrupt,
                         const std::function<void(std::size_t, const AlsScoredItem *, std::size_t)> &emit);

}  // namespace personalize::als

// A canonical order of the input points, so a k-means model does not depend
// on the order the rows arrived in (a parallel plan merges workers' points in
// any order; a table's scan order changes with updates). Points are ordered
// by a fixed 64-bit hash of their values, ties by the values themselves:
// every step after that (scaling sums, seeding draws, centroid sums) sees the
// same sequence whatever the input order was.
#include <algorithm>
#include <cstring>

#include "core/kmeans/internal.hpp"

namespace personalize::kmeans {
namespace detail {

namespace {

std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

std::uint64_t row_hash(const double *row, std::size_t d, std::uint64_t salt) {
    std::uint64_t h = mix(salt + 0x9e3779b97f4a7c15ULL);
    for (std::size_t j = 0; j < d; ++j) {
        const double v = row[j] + 0.0;  // -0.0 -> +0.0
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        h = mix(h ^ (bits + 0x9e3779b97f4a7c15ULL * (j + 1)));
    }
    return h;
}

bool row_less(const double *a, const double *b, std::size_t d) {
    for (std::size_t j = 0; j < d; ++j) {
        if (a[j] < b[j]) return true;
        if (b[j] < a[j]) return false;
    }
    return false;
}

std::vector<std::size_t> canonical_order(const double *x, std::size_t n, std::size_t d, MemoryBudget &budget,
                                         const Interrupt &interrupt) {
    // (top 32 bits of the hash, row): two stable 16-bit radix passes order
    // by the key; runs of equal keys are then ordered by the values.
    struct Keyed {
        std::uint32_t key;
        std::size_t row;
    };
    budget.charge(2 * n * sizeof(Keyed), "kmeans working memory");
    std::vector<Keyed> keyed(n), tmp(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (i % kPollBlock == 0) interrupt.check();
        keyed[i] = {static_cast<std::uint32_t>(row_hash(x + i * d, d, 0) >> 32), i};
    }
    std::vector<std::size_t> count(1u << 16);
    for (const int shift : {0, 16}) {
        interrupt.check();
        std::fill(count.begin(), count.end(), 0);
        for (const Keyed &e : keyed) ++count[(e.key >> shift) & 0xFFFFu];
        std::size_t total = 0;
        for (std::size_t &c : count) {
            const std::size_t here = c;
            c = total;
            total += here;
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (i % kPollBlock == 0) interrupt.check();
            tmp[count[(keyed[i].key >> shift) & 0xFFFFu]++] = keyed[i];
        }
        keyed.swap(tmp);
    }
    std::vector<Keyed>().swap(tmp);
    budget.release(n * sizeof(Keyed));

    // Equal keys: identical rows (interchangeable) or a collision, which the
    // values decide.
    for (std::size_t start = 0; start < n;) {
        if (start % kPollBlock == 0) interrupt.check();
        std::size_t end = start + 1;
        while (end < n && keyed[end].key == keyed[start].key) ++end;
        if (end - start > 1) {
            const double *first = x + keyed[start].row * d;
            bool identical = true;
            for (std::size_t i = start + 1; i < end && identical; ++i)
                identical = !row_less(first, x + keyed[i].row * d, d) && !row_less(x + keyed[i].row * d, first, d);
            if (!identical)
                std::sort(keyed.begin() + static_cast<std::ptrdiff_t>(start),
                          keyed.begin() + static_cast<std::ptrdiff_t>(end), [&](const Keyed &a, const Keyed &b) {
                              return row_less(x + a.row * d, x + b.row * d, d);
                          });
        }
        start = end;
    }
    budget.charge(n * sizeof(std::size_t), "kmeans working memory");
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = keyed[i].row;
    budget.release(n * sizeof(Keyed));
    return order;
}

}  // namespace detail
}  // namespace personalize::kmeans

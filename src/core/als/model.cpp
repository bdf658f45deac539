// The stored ALS model: header, fingerprint, validation, and the computations
// on a loaded model (top-N, fold-in, batch top-N).
#include "core/common/eigen_config.hpp"  // first: Eigen assertions throw

#include "core/als/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"

namespace personalize::als {

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr std::uint64_t kMaxRows = 0xFFFFFFFEull;
constexpr std::uint64_t kMaxInteractions = 1ull << 40;

constexpr const char *kWhat = "als_model";

[[noreturn]] void corrupted(const std::string &what) {
    throw Error(ErrorCode::DataCorrupted, std::string(kWhat) + ": the value is corrupted: " + what);
}

// A little-endian word of the bytes, for the fingerprint.
std::uint64_t word_at(const unsigned char *data, std::size_t at) {
    std::uint64_t v;
    std::memcpy(&v, data + at, sizeof v);
    return v;
}

std::size_t padded(std::size_t bytes) { return (bytes + 7) & ~static_cast<std::size_t>(7); }

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// "a ranks before b": higher score, then lower item index.
struct Candidate {
    float score;
    std::uint32_t index;
};
bool ranks_before(const Candidate &a, const Candidate &b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
}

// The n best of `scores` leaving out `exclude` (ascending indices), best first.
void select_top(const float *scores, std::size_t items, const std::uint32_t *exclude, std::size_t exclude_count,
                std::size_t n, const std::int64_t *item_ids, std::vector<Candidate> &heap,
                std::vector<AlsScoredItem> &out) {
    out.clear();
    heap.clear();
    if (n == 0) return;
    std::size_t e = 0;
    for (std::size_t i = 0; i < items; ++i) {
        if (e < exclude_count && exclude[e] == i) {
            ++e;
            continue;
        }
        const Candidate c{scores[i], static_cast<std::uint32_t>(i)};
        if (heap.size() < n) {
            heap.push_back(c);
            std::push_heap(heap.begin(), heap.end(), ranks_before);  // the worst kept on top
        } else if (ranks_before(c, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), ranks_before);
            heap.back() = c;
            std::push_heap(heap.begin(), heap.end(), ranks_before);
        }
    }
    std::sort(heap.begin(), heap.end(), ranks_before);
    out.reserve(heap.size());
    for (const Candidate &c : heap) out.push_back({item_ids[c.index], static_cast<double>(c.score)});
}

}  // namespace

// ---------------------------------------------------------------- header

std::size_t AlsHeader::total_size() const {
    if (factors == 0 || factors > kAlsMaxFactors || customers > kMaxRows || items > kMaxRows ||
        interactions > kMaxInteractions)
        return 0;
    const std::size_t nu = static_cast<std::size_t>(customers), ni = static_cast<std::size_t>(items),
                      f = factors, nnz = static_cast<std::size_t>(interactions);
    return kAlsHeaderSize + padded(8 * nu) + padded(8 * ni) + padded(8 * (nu + 1)) + padded(4 * nnz) +
           padded(4 * nu * f) + padded(4 * ni * f);
}

void AlsHeader::write(ByteWriter &out) const {
    const std::size_t start = out.size();
    out.header(byte_formats::kAlsModel);
    out.put(factors);
    out.put(static_cast<std::uint32_t>(solver));
    out.put(customers);
    out.put(items);
    out.put(interactions);
    out.put(iterations);
    out.put(cg_steps);
    out.put(regularization);
    out.put(alpha);
    out.put(seed);
    out.put(loss);
    if (out.size() - start != kAlsFingerprintAt) throw Error(ErrorCode::Internal, "als_model: header layout mismatch");
    out.put(fingerprint);
    out.pad_to(kAlsHeaderSize);
}

AlsHeader AlsHeader::read(const unsigned char *data, std::size_t size) {
    ByteReader in(data, size, kWhat);
    return read(in);
}

AlsHeader AlsHeader::read(ByteReader &in) {
    if (in.remaining() < kAlsHeaderSize) corrupted("too short");
    in.header(byte_formats::kAlsModel);
    AlsHeader h;
    h.factors = in.get<std::uint32_t>();
    const auto solver = in.get<std::uint32_t>();
    h.customers = in.get<std::uint64_t>();
    h.items = in.get<std::uint64_t>();
    h.interactions = in.get<std::uint64_t>();
    h.iterations = in.get<std::uint32_t>();
    h.cg_steps = in.get<std::uint32_t>();
    h.regularization = in.get<double>();
    h.alpha = in.get<double>();
    h.seed = in.get<std::int64_t>();
    h.loss = in.get<double>();
    h.fingerprint = in.get<std::uint64_t>();
    in.skip_padding(kAlsHeaderSize);
    if (solver > 1) corrupted("bad solver");
    h.solver = static_cast<AlsSolver>(solver);
    if (h.factors < 1 || h.factors > kAlsMaxFactors) corrupted("bad factor count");
    if (h.customers < 1 || h.customers > kMaxRows || h.items < 1 || h.items > kMaxRows) corrupted("bad counts");
    if (h.interactions < h.customers || h.interactions < h.items || h.interactions > kMaxInteractions ||
        h.interactions / h.customers > h.items)
        corrupted("bad interaction count");
    if (h.iterations < 1 || h.iterations > kAlsMaxIterations || h.cg_steps < 1 || h.cg_steps > 64)
        corrupted("bad iteration counts");
    if (!std::isfinite(h.regularization) || h.regularization < 0 || !std::isfinite(h.alpha) || h.alpha <= 0 ||
        !std::isfinite(h.loss))
        corrupted("bad parameters");
    return h;
}

std::uint64_t als_fingerprint(const unsigned char *data, std::size_t size) {
    // A word-at-a-time multiply-rotate hash (the round of xxHash64).
    std::uint64_t h = 0x27D4EB2F165667C5ull ^ static_cast<std::uint64_t>(size);
    std::size_t at = 0;
    for (; at + 8 <= size; at += 8) {
        std::uint64_t w = at == kAlsFingerprintAt ? 0 : word_at(data, at);
        h = rotl(h ^ (w * 0xC2B2AE3D27D4EB4Full), 31) * 0x9E3779B97F4A7C15ull;
    }
    for (; at < size; ++at) h = rotl(h ^ (data[at] * 0x165667B19E3779F9ull), 11) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 33);
}

// ---------------------------------------------------------------- view

AlsModelView AlsModelView::open(const unsigned char *data, std::size_t size) {
    if (reinterpret_cast<std::uintptr_t>(data) % 8 != 0)
        throw Error(ErrorCode::Internal, "als_model: model bytes are not 8-byte aligned");
    AlsModelView v;
    ByteReader in(data, size, kWhat);
    v.header = AlsHeader::read(in);
    const AlsHeader &h = v.header;
    if (h.total_size() != size) corrupted("the size does not match the header");
    if (als_fingerprint(data, size) != h.fingerprint) corrupted("the fingerprint does not match (bytes were changed)");
    const std::size_t nu = v.customers(), ni = v.items(), f = v.factors(), nnz = static_cast<std::size_t>(h.interactions);
    v.customer_ids = in.view_array<std::int64_t>(nu);
    in.skip_padding(8);
    v.item_ids = in.view_array<std::int64_t>(ni);
    in.skip_padding(8);
    v.offsets = in.view_array<std::uint64_t>(nu + 1);
    in.skip_padding(8);
    v.history = in.view_array<std::uint32_t>(nnz);
    in.skip_padding(8);
    v.customer_factors = in.view_array<float>(nu * f);
    in.skip_padding(8);
    v.item_factors = in.view_array<float>(ni * f);
    in.skip_padding(8);
    in.expect_end();
    for (std::size_t u = 1; u < nu; ++u)
        if (!(v.customer_ids[u - 1] < v.customer_ids[u])) corrupted("customer ids out of order");
    for (std::size_t i = 1; i < ni; ++i)
        if (!(v.item_ids[i - 1] < v.item_ids[i])) corrupted("item ids out of order");
    if (v.offsets[0] != 0 || v.offsets[nu] != nnz) corrupted("bad history offsets");
    for (std::size_t u = 0; u < nu; ++u) {
        if (!(v.offsets[u] < v.offsets[u + 1]) || v.offsets[u + 1] > nnz) corrupted("bad history offsets");
        for (std::uint64_t k = v.offsets[u]; k < v.offsets[u + 1]; ++k)
            if (v.history[k] >= ni || (k > v.offsets[u] && !(v.history[k - 1] < v.history[k])))
                corrupted("bad history items");
    }
    for (std::size_t k = 0; k < nu * f; ++k)
        if (!(std::fabs(v.customer_factors[k]) <= kAlsMaxFactorMagnitude))
            corrupted(std::isfinite(v.customer_factors[k]) ? "customer factor beyond 1e15" : "non-finite customer factor");
    for (std::size_t k = 0; k < ni * f; ++k)
        if (!(std::fabs(v.item_factors[k]) <= kAlsMaxFactorMagnitude))
            corrupted(std::isfinite(v.item_factors[k]) ? "item factor beyond 1e15" : "non-finite item factor");
    return v;
}

std::int64_t AlsModelView::customer_index(std::int64_t id) const {
    const std::int64_t *end = customer_ids + customers();
    const std::int64_t *at = std::lower_bound(customer_ids, end, id);
    return at != end && *at == id ? at - customer_ids : -1;
}

std::int64_t AlsModelView::item_index(std::int64_t id) const {
    const std::int64_t *end = item_ids + items();
    const std::int64_t *at = std::lower_bound(item_ids, end, id);
    return at != end && *at == id ? at - item_ids : -1;
}

// ---------------------------------------------------------------- computations

void als_item_gram(const AlsModelView &m, double *out) {
    const auto f = static_cast<Eigen::Index>(m.factors());
    const Eigen::Map<const RowMatrixF> y(m.item_factors, static_cast<Eigen::Index>(m.items()), f);
    const Eigen::MatrixXd yd = y.cast<double>();
    Eigen::Map<Eigen::MatrixXd>(out, f, f).noalias() = yd.transpose() * yd;  // symmetric: either order
}

void als_top_items(const AlsModelView &m, const float *x, const std::uint32_t *exclude, std::size_t exclude_count,
                   std::size_t n, std::vector<AlsScoredItem> &out) {
    const auto f = static_cast<Eigen::Index>(m.factors());
    const Eigen::Map<const RowMatrixF> y(m.item_factors, static_cast<Eigen::Index>(m.items()), f);
    const Eigen::VectorXf scores = y * Eigen::Map<const Eigen::VectorXf>(x, f);
    std::vector<Candidate> heap;
    select_top(scores.data(), m.items(), exclude, exclude_count, n, m.item_ids, heap, out);
}

std::vector<AlsScoredItem> als_recommend(const AlsModelView &m, std::size_t customer, std::size_t n, bool exclude_bought) {
    std::vector<AlsScoredItem> out;
    const std::uint64_t from = m.offsets[customer], to = m.offsets[customer + 1];
    als_top_items(m, m.customer_row(customer), exclude_bought ? m.history + from : nullptr,
                  exclude_bought ? static_cast<std::size_t>(to - from) : 0, n, out);
    return out;
}

std::vector<float> als_fold_in(const AlsModelView &m, const double *gram, const std::int64_t *items,
                               std::size_t count, const double *strengths, std::size_t strength_count,
                               std::vector<std::uint32_t> &known, const char *function) {
    const std::size_t f = m.factors();
    if (strengths != nullptr && strength_count != count)
        throw_invalid(std::string(function) + ": \"strengths\" must have one element per item (" +
                      std::to_string(count) + " items, " + std::to_string(strength_count) + " strengths)");
    std::vector<std::pair<std::uint32_t, double>> bought;
    bought.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
        const double s = strengths != nullptr ? strengths[k] : 1.0;
        if (!std::isfinite(s) || s <= 0)
            throw_invalid(std::string(function) + ": \"strengths\" must be finite numbers > 0 (element " +
                          std::to_string(k + 1) + " is not)");
        const std::int64_t index = m.item_index(items[k]);
        if (index >= 0) bought.emplace_back(static_cast<std::uint32_t>(index), s);
    }
    std::sort(bought.begin(), bought.end());
    known.clear();
    std::vector<double> summed;
    for (const auto &[index, s] : bought) {
        if (!known.empty() && known.back() == index) {
            summed.back() += s;
        } else {
            known.push_back(index);
            summed.push_back(s);
        }
    }
    std::vector<float> x(f, 0.0f);
    if (known.empty()) return x;
    const auto fi = static_cast<Eigen::Index>(f);
    Eigen::MatrixXd a = Eigen::Map<const Eigen::MatrixXd>(gram, fi, fi);
    a.diagonal().array() += m.header.regularization * static_cast<double>(known.size());  // as in training
    Eigen::VectorXd b = Eigen::VectorXd::Zero(fi);
    for (std::size_t k = 0; k < known.size(); ++k) {
        const Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXf>(m.item_row(known[k]), fi).cast<double>();
        const double c = als_confidence(m.header.alpha, summed[k], function, "the model's alpha * \"strengths\"");
        a.selfadjointView<Eigen::Lower>().rankUpdate(y, c - 1.0);
        b += c * y;
    }
    Eigen::LLT<Eigen::MatrixXd> llt(a);
    const Eigen::VectorXd solved =
        llt.info() == Eigen::Success ? Eigen::VectorXd(llt.solve(b)) : Eigen::VectorXd(a.selfadjointView<Eigen::Lower>().ldlt().solve(b));
    for (std::size_t k = 0; k < f; ++k) {
        x[k] = static_cast<float>(solved[static_cast<Eigen::Index>(k)]);
        if (!(std::fabs(x[k]) <= kAlsMaxFactorMagnitude))  // a bounded confidence keeps a sound model's solve finite
            throw_invalid(std::string(function) + ": the folded-in factors are not finite for these strengths",
                          "Scale the strengths down, e.g. log1p(count).");
    }
    return x;
}

void als_recommend_batch(const AlsModelView &m, const std::vector<std::size_t> &customers, std::size_t n,
                         bool exclude_bought, MemoryBudget &budget, const Interrupt &interrupt,
                         const std::function<void(std::size_t, const AlsScoredItem *, std::size_t)> &emit) {
    const std::size_t f = m.factors(), ni = m.items();
    // Blocks of ~8 MB of scores: big enough for an efficient product.
    const std::size_t block = std::max<std::size_t>(1, std::min<std::size_t>(512, (std::size_t{2} << 20) / ni));
    const std::size_t bytes = block * ni * sizeof(float) + block * f * sizeof(float);
    budget.charge(bytes, "als_recommend_batch scores");
    try {
        const Eigen::Map<const RowMatrixF> y(m.item_factors, static_cast<Eigen::Index>(ni), static_cast<Eigen::Index>(f));
        RowMatrixF x(static_cast<Eigen::Index>(block), static_cast<Eigen::Index>(f));
        RowMatrixF scores(static_cast<Eigen::Index>(block), static_cast<Eigen::Index>(ni));
        std::vector<Candidate> heap;
        std::vector<AlsScoredItem> top;
        for (std::size_t first = 0; first < customers.size(); first += block) {
            interrupt.check();
            const std::size_t rows = std::min(block, customers.size() - first);
            for (std::size_t r = 0; r < rows; ++r)
                x.row(static_cast<Eigen::Index>(r)) =
                    Eigen::Map<const Eigen::RowVectorXf>(m.customer_row(customers[first + r]), static_cast<Eigen::Index>(f));
            scores.topRows(static_cast<Eigen::Index>(rows)).noalias() =
                x.topRows(static_cast<Eigen::Index>(rows)) * y.transpose();
            for (std::size_t r = 0; r < rows; ++r) {
                const std::size_t c = customers[first + r];
                const std::uint64_t from = m.offsets[c], to = m.offsets[c + 1];
                select_top(scores.data() + r * ni, ni, exclude_bought ? m.history + from : nullptr,
                           exclude_bought ? static_cast<std::size_t>(to - from) : 0, n, m.item_ids, heap, top);
                emit(first + r, top.data(), top.size());
            }
        }
    } catch (...) {
        budget.release(bytes);
        throw;
    }
    budget.release(bytes);
}

}  // namespace personalize::als

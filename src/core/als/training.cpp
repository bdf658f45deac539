// ALS training (see als.hpp): canonical order of the input, the sparse
// customer x item matrix in both orientations, and the alternating solves.
#include "core/common/eigen_config.hpp"  // first: Eigen assertions throw

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>

#include "core/als/als.hpp"
#include "core/common/error.hpp"
#include "core/common/random.hpp"

namespace personalize::als {

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Row = AlsCollector::Row;

// One orientation of the sparse matrix: row r's entries are
// [offsets[r], offsets[r + 1]) of index (the other side's row) and confidence.
struct SparseView {
    const std::uint64_t *offsets;
    const std::uint32_t *index;
    const float *confidence;
};

// Y^T Y of n rows of f factors.
Eigen::MatrixXf gram(const float *rows, std::size_t n, std::size_t f) {
    const Eigen::Map<const RowMatrixF> y(rows, static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(f));
    return y.transpose() * y;
}

// The row's regularization: scaled by its number of observed pairs.
float row_regularization(const SparseView &s, std::size_t u, double regularization) {
    return static_cast<float>(regularization * static_cast<double>(s.offsets[u + 1] - s.offsets[u]));
}

// Conjugate-gradient steps on (G + lambda_u I + Y^T (C_u - I) Y) x = Y^T C_u p(u)
// for every row, warm-started from the row's current factors (the `implicit`
// library's least_squares_cg).
void solve_rows_cg(float *x_rows, std::size_t n, const float *y_rows, std::size_t f, const SparseView &s,
                   const Eigen::MatrixXf &g, double regularization, std::int64_t steps, const Interrupt &interrupt) {
    const auto fi = static_cast<Eigen::Index>(f);
    Eigen::VectorXf r(fi), p(fi), ap(fi);
    for (std::size_t u = 0; u < n; ++u) {
        interrupt.poll(64);
        Eigen::Map<Eigen::VectorXf> x(x_rows + u * f, fi);
        const float lambda = row_regularization(s, u, regularization);
        r.noalias() = g * x;
        r = -r - lambda * x;
        for (std::uint64_t k = s.offsets[u]; k < s.offsets[u + 1]; ++k) {
            const Eigen::Map<const Eigen::VectorXf> y(y_rows + static_cast<std::size_t>(s.index[k]) * f, fi);
            const float c = s.confidence[k];
            r += (c - (c - 1.0f) * y.dot(x)) * y;
        }
        p = r;
        float rs_old = r.squaredNorm();
        if (rs_old < 1e-20f) continue;
        for (std::int64_t step = 0; step < steps; ++step) {
            ap.noalias() = g * p;
            ap += lambda * p;
            for (std::uint64_t k = s.offsets[u]; k < s.offsets[u + 1]; ++k) {
                const Eigen::Map<const Eigen::VectorXf> y(y_rows + static_cast<std::size_t>(s.index[k]) * f, fi);
                ap += ((s.confidence[k] - 1.0f) * y.dot(p)) * y;
            }
            const float p_ap = p.dot(ap);
            if (!(p_ap > 0.0f)) break;
            const float a = rs_old / p_ap;
            x += a * p;
            r -= a * ap;
            const float rs_new = r.squaredNorm();
            if (rs_new < 1e-20f) break;
            p = r + (rs_new / rs_old) * p;
            rs_old = rs_new;
        }
    }
}

// The exact solve of the same system per row (Hu et al.'s closed form).
void solve_rows_cholesky(float *x_rows, std::size_t n, const float *y_rows, std::size_t f, const SparseView &s,
                         const Eigen::MatrixXf &g, double regularization, const Interrupt &interrupt) {
    const auto fi = static_cast<Eigen::Index>(f);
    Eigen::MatrixXf a(fi, fi);
    Eigen::VectorXf b(fi);
    Eigen::LLT<Eigen::MatrixXf> llt(fi);
    for (std::size_t u = 0; u < n; ++u) {
        interrupt.poll(16);
        a = g;
        a.diagonal().array() += row_regularization(s, u, regularization);
        b.setZero();
        for (std::uint64_t k = s.offsets[u]; k < s.offsets[u + 1]; ++k) {
            const Eigen::Map<const Eigen::VectorXf> y(y_rows + static_cast<std::size_t>(s.index[k]) * f, fi);
            const float c = s.confidence[k];
            a.selfadjointView<Eigen::Lower>().rankUpdate(y, c - 1.0f);
            b += c * y;
        }
        Eigen::Map<Eigen::VectorXf> x(x_rows + u * f, fi);
        llt.compute(a);  // reads the lower triangle
        if (llt.info() == Eigen::Success) {
            x = llt.solve(b);
        } else {  // singular (regularization 0): the semidefinite solver still gives a solution
            x = a.selfadjointView<Eigen::Lower>().ldlt().solve(b);
        }
    }
}

void solve_rows(float *x_rows, std::size_t n, const float *y_rows, std::size_t m, std::size_t f, const SparseView &s,
                const AlsOptions &o, const Interrupt &interrupt) {
    const Eigen::MatrixXf g = gram(y_rows, m, f);
    interrupt.check();
    if (o.solver == AlsSolver::Cholesky)
        solve_rows_cholesky(x_rows, n, y_rows, f, s, g, o.regularization, interrupt);
    else
        solve_rows_cg(x_rows, n, y_rows, f, s, g, o.regularization, o.cg_steps, interrupt);
}

// Finite and within kAlsMaxFactorMagnitude (what a stored model may hold).
bool all_bounded(const ChargedVector<float> &v) {
    for (float x : v)
        if (!(std::fabs(x) <= kAlsMaxFactorMagnitude)) return false;
    return true;
}

// The objective (see als.hpp) divided by the total confidence
// customers * items + sum (c - 1), in double.
double training_loss(const AlsTrainedModel &m, const SparseView &users, const SparseView &items, const AlsOptions &o) {
    const std::size_t f = static_cast<std::size_t>(o.factors);
    const std::size_t nu = m.customer_ids.size(), ni = m.item_ids.size();
    const Eigen::Map<const RowMatrixF> y(m.item_factors.data(), static_cast<Eigen::Index>(ni), static_cast<Eigen::Index>(f));
    const Eigen::MatrixXd g = (y.transpose() * y).cast<double>();
    double loss = 0.0, norms = 0.0, total_confidence = static_cast<double>(nu) * static_cast<double>(ni);
    for (std::size_t u = 0; u < nu; ++u) {
        const Eigen::Map<const Eigen::VectorXf> xf(m.customer_factors.data() + u * f, static_cast<Eigen::Index>(f));
        const Eigen::VectorXd x = xf.cast<double>();
        loss += x.dot(g * x);  // every pair as if unseen: sum_i (x . y_i)^2
        norms += static_cast<double>(users.offsets[u + 1] - users.offsets[u]) * x.squaredNorm();
        for (std::uint64_t k = users.offsets[u]; k < users.offsets[u + 1]; ++k) {
            const Eigen::Map<const Eigen::VectorXf> yi(m.item_factors.data() + static_cast<std::size_t>(users.index[k]) * f,
                                                       static_cast<Eigen::Index>(f));
            const double score = static_cast<double>(xf.dot(yi));
            const double c = users.confidence[k];
            loss += c * (1.0 - score) * (1.0 - score) - score * score;
            total_confidence += c - 1.0;
        }
    }
    for (std::size_t i = 0; i < ni; ++i)
        norms += static_cast<double>(items.offsets[i + 1] - items.offsets[i]) *
                 Eigen::Map<const Eigen::VectorXf>(m.item_factors.data() + i * f, static_cast<Eigen::Index>(f))
                     .cast<double>()
                     .squaredNorm();
    return (loss + o.regularization * norms) / total_confidence;
}

}  // namespace

AlsTrainedModel als_fit(AlsCollector &data, const AlsOptions &o, const Interrupt &interrupt) {
    o.validate("als_fit");
    ChargedVector<Row> &rows = data.raw_rows();
    if (rows.empty()) throw_invalid("als_fit: no input rows");
    MemoryBudget &budget = data.budget();
    const std::size_t f = static_cast<std::size_t>(o.factors);

    // Canonical order; duplicate pairs summed in that order.
    std::sort(rows.begin(), rows.end(), [&](const Row &a, const Row &b) {
        interrupt.poll(1u << 20);
        return std::tie(a.customer, a.item, a.strength) < std::tie(b.customer, b.item, b.strength);
    });
    std::size_t nnz = 0;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        if (nnz > 0 && rows[nnz - 1].customer == rows[k].customer && rows[nnz - 1].item == rows[k].item)
            rows[nnz - 1].strength += rows[k].strength;
        else
            rows[nnz++] = rows[k];
    }
    rows.resize(nnz);
    interrupt.check();

    AlsTrainedModel model(budget);
    model.options = o;
    model.item_ids.resize(nnz);
    for (std::size_t k = 0; k < nnz; ++k) model.item_ids[k] = rows[k].item;
    std::sort(model.item_ids.begin(), model.item_ids.end());
    model.item_ids.resize(static_cast<std::size_t>(std::unique(model.item_ids.begin(), model.item_ids.end()) -
                                                   model.item_ids.begin()));
    std::size_t nu = 0;
    for (std::size_t k = 0; k < nnz; ++k)
        if (k == 0 || rows[k].customer != rows[k - 1].customer) ++nu;
    const std::size_t ni = model.item_ids.size();
    constexpr std::size_t kMaxRows = std::numeric_limits<std::uint32_t>::max() - 1;
    if (nu > kMaxRows || ni > kMaxRows)
        throw Error(ErrorCode::ProgramLimit, "als_fit: more than 4294967294 customers or items");
    interrupt.check();

    // Customers x items, by customer: the history is the index array.
    model.customer_ids.resize(nu);
    model.offsets.resize(nu + 1);
    model.history.resize(nnz);
    ChargedVector<float> user_confidence(budget, "als_fit confidences");
    user_confidence.resize(nnz);
    std::size_t u = 0;
    for (std::size_t k = 0; k < nnz; ++k) {
        interrupt.poll(1u << 16);
        if (k == 0 || rows[k].customer != rows[k - 1].customer) {
            if (k != 0) ++u;
            model.customer_ids[u] = rows[k].customer;
            model.offsets[u] = k;
        }
        model.history[k] = static_cast<std::uint32_t>(
            std::lower_bound(model.item_ids.begin(), model.item_ids.end(), rows[k].item) - model.item_ids.begin());
        const double c = als_confidence(o.alpha, rows[k].strength, "als_fit", "\"alpha\" * \"strength\"");
        user_confidence[k] = static_cast<float>(c);
    }
    model.offsets[nu] = nnz;
    rows.free();

    // The same matrix by item (counting sort keeps the customers ascending).
    ChargedVector<std::uint64_t> item_offsets(budget, "als_fit item columns");
    ChargedVector<std::uint32_t> item_users(budget, "als_fit item columns");
    ChargedVector<float> item_confidence(budget, "als_fit confidences");
    item_offsets.assign(ni + 1, 0);
    item_users.resize(nnz);
    item_confidence.resize(nnz);
    for (std::size_t k = 0; k < nnz; ++k) ++item_offsets[model.history[k] + 1];
    for (std::size_t i = 0; i < ni; ++i) item_offsets[i + 1] += item_offsets[i];
    {
        ChargedVector<std::uint64_t> next(budget, "als_fit item columns");
        next.resize(ni);
        std::copy(item_offsets.begin(), item_offsets.begin() + static_cast<std::ptrdiff_t>(ni), next.begin());
        for (std::size_t c = 0; c < nu; ++c) {
            interrupt.poll(1u << 12);
            for (std::uint64_t k = model.offsets[c]; k < model.offsets[c + 1]; ++k) {
                const std::uint64_t at = next[model.history[k]]++;
                item_users[at] = static_cast<std::uint32_t>(c);
                item_confidence[at] = user_confidence[k];
            }
        }
    }

    // Small random start, customers then items, from the seed alone.
    model.customer_factors.resize(nu * f);
    model.item_factors.resize(ni * f);
    Random rng(o.seed);
    for (float &v : model.customer_factors) v = static_cast<float>(0.01 * rng.normal());
    for (float &v : model.item_factors) v = static_cast<float>(0.01 * rng.normal());

    const SparseView by_customer{model.offsets.data(), model.history.data(), user_confidence.data()};
    const SparseView by_item{item_offsets.data(), item_users.data(), item_confidence.data()};
    for (std::int64_t it = 0; it < o.iterations; ++it) {
        solve_rows(model.item_factors.data(), ni, model.customer_factors.data(), nu, f, by_item, o, interrupt);
        solve_rows(model.customer_factors.data(), nu, model.item_factors.data(), ni, f, by_customer, o, interrupt);
        if (!all_bounded(model.item_factors) || !all_bounded(model.customer_factors))
            throw_invalid("als_fit: the factors diverged (not finite or beyond 1e15) in iteration " + std::to_string(it + 1),
                          "Raise \"regularization\" or lower \"alpha\".");
    }
    model.loss = training_loss(model, by_customer, by_item, o);
    return model;
}

}  // namespace personalize::als

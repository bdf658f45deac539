// Logistic regression: the input collector, Newton / IRLS with an L2
// penalty, the JSON form of the model and scoring. See the header.
#include "core/common/eigen_config.hpp"  // first: Eigen assertions throw

#include "core/propensity/logistic_regression.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>

#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"
#include "core/common/json_reader.hpp"
#include "core/common/json_writer.hpp"
#include "core/common/same_for_every_row.hpp"

namespace personalize::propensity {

namespace {

using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// log(1 + exp(x)) without overflow.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
    const double e = std::exp(x);
    return e / (1.0 + e);
}

}  // namespace

void LogisticOptions::validate(const char *function) const {
    const std::string f(function);
    if (!std::isfinite(l2) || l2 < 0) throw_invalid(f + ": \"l2\" must be a finite number >= 0, not " + number_text(l2));
    if (max_iterations < 1 || max_iterations > 10000)
        throw_invalid(f + ": \"max_iterations\" must be between 1 and 10000, not " + std::to_string(max_iterations));
    if (!std::isfinite(tolerance) || tolerance <= 0)
        throw_invalid(f + ": \"tolerance\" must be a finite number > 0, not " + number_text(tolerance));
}

// ---------------------------------------------------------------- collector

void LogisticCollector::set_features(std::int64_t count) {
    if (features_ < 0) {
        if (count > static_cast<std::int64_t>(kLogisticMaxFeatures))
            throw_invalid("logistic_fit: \"features\" has " + std::to_string(count) + " elements; at most " +
                          std::to_string(kLogisticMaxFeatures) + " are supported");
        features_ = count;
    } else if (count != features_) {
        throw_invalid("logistic_fit: \"features\" must have the same length in every row (" + std::to_string(features_) +
                      " and " + std::to_string(count) + ")");
    }
}

void LogisticCollector::add(bool label, const double *x, std::size_t count) {
    set_features(static_cast<std::int64_t>(count));
    for (std::size_t j = 0; j < count; ++j)
        if (!std::isfinite(x[j]))
            throw_invalid("logistic_fit: \"features\" must be finite numbers, element " + std::to_string(j + 1) + " is " +
                          number_text(x[j]));
    rows_.reserve_more(count + 1);
    rows_.push_back(1.0);
    rows_.append(x, x + count);
    labels_.push_back(label ? 1 : 0);
}

void LogisticCollector::merge(const LogisticCollector &other) {
    if (other.features_ < 0) return;
    set_features(other.features_);
    rows_.append(other.rows_.data(), other.rows_.data() + other.rows_.size());
    labels_.append(other.labels_.data(), other.labels_.data() + other.labels_.size());
}

// Layout after the header: i64 features (-1 before the first row), u64 rows,
// then f64 values[rows * (features + 1)] (per row 1, then the features) and
// u8 labels[rows] (0 / 1).
void LogisticCollector::write(ByteWriter &out) const {
    out.header(byte_formats::kLogisticRows);
    out.put(features_);
    out.put_count(labels_.size());
    out.put_array(rows_.data(), rows_.size());
    out.put_array(labels_.data(), labels_.size());
}

void LogisticCollector::read(ByteReader &in) {
    in.header(byte_formats::kLogisticRows);
    const auto features = in.get<std::int64_t>();
    if (features < -1 || features > static_cast<std::int64_t>(kLogisticMaxFeatures)) in.corrupted("bad feature count");
    const std::size_t width = static_cast<std::size_t>(features + 1);
    const std::size_t count = in.get_count(features < 0 ? 1 : width * sizeof(double) + 1);
    if (features < 0) {
        if (count != 0) in.corrupted("rows without features");
        return;
    }
    in.validated("bad feature count", [&] { set_features(features); });
    const std::size_t values = count * width;
    const std::size_t first = rows_.size();
    rows_.resize(first + values);
    in.get_array(rows_.data() + first, values);
    const std::size_t first_label = labels_.size();
    labels_.resize(first_label + count);
    in.get_array(labels_.data() + first_label, count);
    for (std::size_t i = first_label; i < labels_.size(); ++i)
        if (labels_[i] > 1) in.corrupted("bad label");
    const Interrupt interrupt = ambient_interrupt();  // a partial state may hold millions of values
    for (std::size_t k = first; k < rows_.size(); ++k) {
        interrupt.poll(1u << 16);
        if (!std::isfinite(rows_[k]) || ((k - first) % width == 0 && rows_[k] != 1.0)) in.corrupted("bad value");
    }
}

// ---------------------------------------------------------------- aggregate state

void LogisticFitState::set_options(const LogisticOptions &o) {
    same_for_every_row(
        has_options, "logistic_fit",
        [&] {
            o.validate("logistic_fit");
            options = o;
        },
        {{"l2", o.l2 == options.l2},
         {"max_iterations", o.max_iterations == options.max_iterations},
         {"tolerance", o.tolerance == options.tolerance}});
}

void LogisticFitState::set_names(const std::vector<std::string> &n) {
    same_for_every_row(has_names, "logistic_fit", [&] { names = n; }, {{"feature_names", n == names}});
}

// Layout after the header: u8 has_options, u8 has_names, f64 l2, i64
// max_iterations, f64 tolerance, u64 names, a string per name, then the rows
// (a value with its own header).
void LogisticFitState::write(ByteWriter &out) const {
    out.header(byte_formats::kLogisticFitState);
    out.put_bool(has_options);
    out.put_bool(has_names);
    out.put(options.l2);
    out.put(options.max_iterations);
    out.put(options.tolerance);
    out.put_count(names.size());
    for (const std::string &name : names) out.put_string(name);
    rows.write(out);
}

void LogisticFitState::read(ByteReader &in) {
    in.header(byte_formats::kLogisticFitState);
    const bool options_given = in.get_bool(), names_given = in.get_bool();
    LogisticOptions o;
    o.l2 = in.get<double>();
    o.max_iterations = in.get<std::int64_t>();
    o.tolerance = in.get<double>();
    const std::size_t count = in.get_count(sizeof(std::uint64_t));  // each name is at least its length
    std::vector<std::string> n;
    n.reserve(count);
    for (std::size_t i = 0; i < count; ++i) n.push_back(in.get_string());
    if (options_given) in.validated("bad options", [&] { set_options(o); });
    if (names_given) in.validated("bad feature names", [&] { set_names(n); });
    rows.read(in);
}

// ---------------------------------------------------------------- fit

namespace {

struct Evaluation {
    double log_likelihood;
    double penalized;
};

Evaluation evaluate(const Eigen::Map<const RowMatrixD> &x, const Eigen::VectorXd &y, const Eigen::VectorXd &beta,
                    double l2, Eigen::VectorXd &eta) {
    eta.noalias() = x * beta;
    double ll = 0.0;
    for (Eigen::Index i = 0; i < eta.size(); ++i) ll += y[i] * eta[i] - softplus(eta[i]);
    const double penalty = 0.5 * l2 * beta.tail(beta.size() - 1).squaredNorm();
    return {ll, ll - penalty};
}

}  // namespace

LogisticModel logistic_fit(LogisticCollector &data, const LogisticOptions &o, const std::vector<std::string> &names,
                           const Interrupt &interrupt) {
    o.validate("logistic_fit");
    if (data.empty()) throw_invalid("logistic_fit: no input rows");
    const std::size_t n = data.rows();
    const std::size_t d = static_cast<std::size_t>(data.features());
    const std::size_t p = d + 1;
    if (!names.empty() && names.size() != d)
        throw_invalid("logistic_fit: \"feature_names\" must have one name per feature (" + std::to_string(d) +
                      " features, " + std::to_string(names.size()) + " names)");
    ChargedVector<double> &rows = data.design();
    ChargedVector<std::uint8_t> &labels = data.labels();
    std::int64_t positives = 0;
    for (std::uint8_t l : labels) positives += l;
    if (positives == 0 || positives == static_cast<std::int64_t>(n))
        throw_invalid(std::string("logistic_fit: every \"label\" is ") + (positives == 0 ? "false" : "true") +
                          "; both classes are needed",
                      "With one class the intercept has no finite estimate.");

    // Canonical order: by label, then the features.
    MemoryBudget &budget = data.budget();
    ChargedVector<std::uint32_t> order(budget, "logistic_fit row order");
    if (n > std::numeric_limits<std::uint32_t>::max()) throw Error(ErrorCode::ProgramLimit, "logistic_fit: too many rows");
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        interrupt.poll(1u << 18);
        if (labels[a] != labels[b]) return labels[a] < labels[b];
        const double *ra = rows.data() + static_cast<std::size_t>(a) * p, *rb = rows.data() + static_cast<std::size_t>(b) * p;
        return std::lexicographical_compare(ra, ra + p, rb, rb + p);
    });
    ChargedVector<double> sorted(budget, "logistic_fit input rows");
    sorted.resize(n * p);
    // y, eta, a trial eta and the residual: four vectors of n doubles.
    ChargedVector<double> vectors(budget, "logistic_fit work vectors");
    vectors.reserve(4 * n);
    Eigen::VectorXd y(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) {
        interrupt.poll();
        std::copy(rows.data() + static_cast<std::size_t>(order[i]) * p, rows.data() + static_cast<std::size_t>(order[i] + 1) * p,
                  sorted.data() + i * p);
        y[static_cast<Eigen::Index>(i)] = labels[order[i]];
    }
    rows.free();
    labels.free();
    order.free();

    const Eigen::Map<const RowMatrixD> x(sorted.data(), static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(p));
    ChargedVector<double> scratch(budget, "logistic_fit weighted rows");
    scratch.resize(n * p);
    Eigen::Map<RowMatrixD> weighted_map(scratch.data(), static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(p));
    // The penalised Hessian X^T W X + l2 I' at eta.
    // Summed over blocks of rows with a poll in between (one product over
    // 200000 rows x 100 features takes seconds); up to one block of rows it
    // is the one product it always was.
    constexpr Eigen::Index kBlock = 65536;
    auto hessian = [&](const Eigen::VectorXd &at) {
        for (Eigen::Index i = 0; i < at.size(); ++i) {
            interrupt.poll(1u << 16);
            const double mu = sigmoid(at[i]);
            weighted_map.row(i) = x.row(i) * (mu * (1.0 - mu));
        }
        const Eigen::Index rows_n = x.rows();
        Eigen::MatrixXd h;
        if (rows_n <= kBlock) {
            h = weighted_map.transpose() * x;
        } else {
            h = Eigen::MatrixXd::Zero(x.cols(), x.cols());
            for (Eigen::Index first = 0; first < rows_n; first += kBlock) {
                interrupt.check();
                const Eigen::Index count = std::min(kBlock, rows_n - first);
                h.noalias() += weighted_map.middleRows(first, count).transpose() * x.middleRows(first, count);
            }
        }
        for (Eigen::Index j = 1; j < h.rows(); ++j) h(j, j) += o.l2;
        return h;
    };

    Eigen::VectorXd beta = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(p));
    // Start at the intercept of the label share: the first step is then small.
    beta[0] = std::log(static_cast<double>(positives) / static_cast<double>(static_cast<std::int64_t>(n) - positives));
    Eigen::VectorXd eta(static_cast<Eigen::Index>(n)), eta_try(static_cast<Eigen::Index>(n));
    Evaluation current = evaluate(x, y, beta, o.l2, eta);

    LogisticModel m;
    m.l2 = o.l2;
    m.feature_names = names;
    m.observations = static_cast<std::int64_t>(n);
    m.positives = positives;
    bool singular = false, stalled = false;
    for (std::int64_t it = 1; it <= o.max_iterations; ++it) {
        interrupt.check();
        m.iterations = it;
        // Gradient of the penalised log-likelihood.
        Eigen::VectorXd residual(static_cast<Eigen::Index>(n));
        for (Eigen::Index i = 0; i < residual.size(); ++i) residual[i] = y[i] - sigmoid(eta[i]);
        Eigen::VectorXd gradient = x.transpose() * residual;
        gradient.tail(static_cast<Eigen::Index>(d)) -= o.l2 * beta.tail(static_cast<Eigen::Index>(d));
        const Eigen::LLT<Eigen::MatrixXd> llt(hessian(eta));
        if (llt.info() != Eigen::Success) {
            singular = true;
            break;
        }
        const Eigen::VectorXd step = llt.solve(gradient);
        if (!step.allFinite()) {
            singular = true;
            break;
        }
        bool small = true;
        for (Eigen::Index j = 0; j < step.size(); ++j)
            if (std::abs(step[j]) > o.tolerance * (1.0 + std::abs(beta[j]))) small = false;
        // Step halving: never accept a lower penalised log-likelihood.
        double t = 1.0;
        bool improved = false;
        Eigen::VectorXd candidate;
        for (int half = 0; half < 40; ++half, t *= 0.5) {
            candidate = beta + t * step;
            const Evaluation e = evaluate(x, y, candidate, o.l2, eta_try);
            if (std::isfinite(e.penalized) && e.penalized >= current.penalized - 1e-12 * std::abs(current.penalized)) {
                beta = candidate;
                eta.swap(eta_try);
                current = e;
                improved = true;
                break;
            }
        }
        if (small) {
            m.converged = true;
            break;
        }
        if (!improved) {
            stalled = true;
            break;
        }
    }

    m.intercept = beta[0];
    m.coefficients.assign(beta.data() + 1, beta.data() + p);
    m.log_likelihood = current.log_likelihood;
    m.penalized_log_likelihood = current.penalized;

    // Standard errors from the penalised Hessian at the estimate.
    {
        const Eigen::LLT<Eigen::MatrixXd> llt(hessian(eta));
        if (llt.info() == Eigen::Success) {
            const Eigen::MatrixXd inverse = llt.solve(Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(p)));
            bool finite = inverse.allFinite();
            for (Eigen::Index j = 0; j < inverse.rows(); ++j) finite = finite && inverse(j, j) > 0;
            if (finite) {
                m.has_standard_errors = true;
                m.intercept_standard_error = std::sqrt(inverse(0, 0));
                for (std::size_t j = 1; j < p; ++j)
                    m.standard_errors.push_back(std::sqrt(inverse(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(j))));
            }
        }
    }

    // Say why it did not converge; detect (quasi-)separation from the fit.
    if (!m.converged) {
        bool separated = true, extreme = false;
        for (Eigen::Index i = 0; i < eta.size(); ++i) {
            if ((y[i] > 0.5) != (eta[i] > 0)) separated = false;
            if (std::abs(eta[i]) > 30) extreme = true;
        }
        if (separated)
            m.warning = "the classes are perfectly separable: the coefficients grow without bound (no finite estimate); "
                        "use l2 > 0";
        else if (extreme)
            m.warning = "fitted probabilities of 0 or 1: the data are quasi-separable and some coefficients grow without "
                        "bound; use l2 > 0";
        else if (singular)
            m.warning = "the Hessian is singular (features that are constant or linear combinations of others); use l2 > 0";
        else if (stalled)
            m.warning = "no step improved the penalized log-likelihood";
        else
            m.warning = "the iteration limit (max_iterations) was reached";
    }
    for (double v : m.coefficients)
        if (!std::isfinite(v)) throw Error(ErrorCode::Internal, "logistic_fit: a coefficient is not finite");
    return m;
}

// ---------------------------------------------------------------- model

double LogisticModel::probability(const double *x, std::size_t count, const char *function) const {
    if (count != coefficients.size())
        throw_invalid(std::string(function) + ": \"features\" has " + std::to_string(count) + " elements but the model has " +
                      std::to_string(coefficients.size()) + " features");
    double eta = intercept;
    for (std::size_t j = 0; j < count; ++j) {
        if (!std::isfinite(x[j]))
            throw_invalid(std::string(function) + ": \"features\" must be finite numbers, element " + std::to_string(j + 1) +
                          " is " + number_text(x[j]));
        eta += coefficients[j] * x[j];
    }
    // Coefficients far beyond what a fit gives (a hand-made model) overflow
    // into Infinity - Infinity; ±Infinity alone is a sure 1 or 0.
    if (std::isnan(eta))
        throw_invalid(std::string(function) + ": \"model\" gives no finite score for these features (its intercept and " +
                          "coefficients times the features overflow)",
                      "Use a model fitted by personalize.logistic_fit(...).");
    return sigmoid(eta);
}

std::string LogisticModel::to_json() const {
    std::string out = "{\"model\":\"logistic_regression\",\"feature_names\":";
    if (feature_names.empty()) {
        out += "null";
    } else {
        out += '[';
        for (std::size_t i = 0; i < feature_names.size(); ++i) {
            if (i > 0) out += ',';
            put_json_string(out, feature_names[i]);
        }
        out += ']';
    }
    out += ",\"intercept\":";
    put_json_number(out, intercept);
    out += ",\"coefficients\":";
    put_json_numbers(out, coefficients);
    out += ",\"intercept_standard_error\":";
    if (has_standard_errors) put_json_number(out, intercept_standard_error); else out += "null";
    out += ",\"standard_errors\":";
    if (has_standard_errors) put_json_numbers(out, standard_errors); else out += "null";
    out += ",\"l2\":";
    put_json_number(out, l2);
    out += ",\"iterations\":" + std::to_string(iterations);
    out += std::string(",\"converged\":") + (converged ? "true" : "false");
    out += ",\"warning\":";
    if (warning.empty()) out += "null"; else put_json_string(out, warning);
    out += ",\"log_likelihood\":";
    put_json_number(out, log_likelihood);
    out += ",\"penalized_log_likelihood\":";
    put_json_number(out, penalized_log_likelihood);
    out += ",\"observations\":" + std::to_string(observations);
    out += ",\"positives\":" + std::to_string(positives);
    out += '}';
    return out;
}

LogisticModel LogisticModel::from_json(std::string_view text, const char *function) {
    const std::string prefix = std::string(function) + ": \"model\" ";
    auto bad = [&](const std::string &why) -> void {
        throw_invalid(prefix + why, "Pass the jsonb returned by personalize.logistic_fit(...).");
    };
    JsonValue doc;
    try {
        doc = JsonParser(text, std::string(function) + ": \"model\"").parse_document();
    } catch (const Error &e) {
        throw_invalid(e.what(), "Pass the jsonb returned by personalize.logistic_fit(...).");  // the parser names the model
    }
    if (doc.kind != JsonValue::Kind::Object) bad("must be a JSON object");
    const JsonValue *kind = doc.find("model");
    if (kind == nullptr || kind->kind != JsonValue::Kind::String || kind->text != "logistic_regression")
        bad("is not a logistic_fit result (\"model\": \"logistic_regression\" missing)");
    LogisticModel m;
    const JsonValue *intercept = doc.find("intercept");
    if (intercept == nullptr || intercept->kind != JsonValue::Kind::Number) bad("needs a number \"intercept\"");
    m.intercept = intercept->number;
    const JsonValue *coefficients = doc.find("coefficients");
    if (coefficients == nullptr || coefficients->kind != JsonValue::Kind::Array) bad("needs an array \"coefficients\"");
    for (const JsonValue &v : coefficients->items) {
        if (v.kind != JsonValue::Kind::Number) bad("\"coefficients\" must be numbers");
        m.coefficients.push_back(v.number);
    }
    if (const JsonValue *names = doc.find("feature_names"); names != nullptr && names->kind != JsonValue::Kind::Null) {
        if (names->kind != JsonValue::Kind::Array || names->items.size() != m.coefficients.size())
            bad("\"feature_names\" must be null or one string per coefficient");
        for (const JsonValue &v : names->items) {
            if (v.kind != JsonValue::Kind::String) bad("\"feature_names\" must be strings");
            m.feature_names.push_back(v.text);
        }
    }
    if (const JsonValue *c = doc.find("converged"); c != nullptr && c->kind == JsonValue::Kind::Bool) m.converged = c->boolean;
    if (const JsonValue *l2 = doc.find("l2"); l2 != nullptr && l2->kind == JsonValue::Kind::Number) m.l2 = l2->number;
    return m;
}

}  // namespace personalize::propensity

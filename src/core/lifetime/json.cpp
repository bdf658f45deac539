// FitResult::to_json / from_json: a minimal, strict JSON writer and reader
// for the flat result object of the lifetime models (no external library).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "core/common/error.hpp"
#include "core/common/json_reader.hpp"
#include "core/common/json_writer.hpp"
#include "core/lifetime/fit.hpp"

namespace personalize::lifetime {

namespace {

// ---------------------------------------------------------------- reader

using Value = JsonValue;

[[noreturn]] void bad(const std::string &model, const std::string &what) { throw_invalid(model + ": " + what); }

double number_field(const std::string &model, const Value &object, const char *key, double fallback) {
    const Value *v = object.find(key);
    if (v == nullptr) return fallback;
    if (v->kind != Value::Kind::Number) bad(model, "key \"" + std::string(key) + "\" must be a number");
    return v->number;
}

// {"name":value,...}
void put_named_numbers(std::string &out, const std::vector<std::string> &names, const std::vector<double> &values) {
    out += '{';
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        put_json_string(out, names[i]);
        out += ':';
        put_json_number(out, values[i]);
    }
    out += '}';
}

}  // namespace

std::string FitResult::to_json() const {
    const std::size_t k = params.size();
    std::string out;
    out.reserve(256 + 64 * k * k);
    out += "{\"model\":";
    put_json_string(out, model);
    out += ",\"params\":";
    put_named_numbers(out, names, params);
    out += ",\"log_likelihood\":";
    put_json_number(out, log_likelihood);
    out += ",\"std_errors\":";
    if (std_errors_available && std_errors.size() == k) {
        put_named_numbers(out, names, std_errors);
    } else {
        out += "null";
    }
    out += ",\"covariance\":";
    if (covariance.size() == k * k && k > 0) {
        out += '[';
        for (std::size_t i = 0; i < k; ++i) {
            if (i) out += ',';
            out += '[';
            for (std::size_t j = 0; j < k; ++j) {
                if (j) out += ',';
                put_json_number(out, covariance[i * k + j]);
            }
            out += ']';
        }
        out += ']';
    } else {
        out += "null";
    }
    out += ",\"iterations\":" + std::to_string(iterations);
    out += converged ? ",\"converged\":true" : ",\"converged\":false";
    out += ",\"customers\":";
    put_json_number(out, customers);
    out += ",\"penalty\":";
    put_json_number(out, penalty);
    if (model == "gamma_gamma") {
        out += ",\"ignored\":";
        put_json_number(out, ignored);
    }
    if (!message.empty()) {
        out += ",\"message\":";
        put_json_string(out, message);
    }
    out += '}';
    return out;
}

FitResult FitResult::from_json(std::string_view text, const char *expected) {
    const std::string prefix = expected ? expected : "lifetime model";
    const Value doc = JsonParser(text, "lifetime model").parse_document();
    if (doc.kind != Value::Kind::Object) bad(prefix, "a model must be a JSON object");

    const Value *model = doc.find("model");
    if (model == nullptr) bad(prefix, "missing key \"model\"");
    if (model->kind != Value::Kind::String) bad(prefix, "key \"model\" must be a string");
    const auto &names = lifetime_parameter_names(model->text);
    if (names.empty()) bad(prefix, "unknown model \"" + model->text + "\"");
    if (expected != nullptr && model->text != expected) bad(prefix, "model is a " + model->text + " model");

    FitResult r;
    r.model = model->text;
    r.names = names;
    const std::string &m = r.model;
    const std::size_t k = names.size();

    const Value *params = doc.find("params");
    if (params == nullptr) bad(m, "missing key \"params\"");
    if (params->kind != Value::Kind::Object) bad(m, "key \"params\" must be an object");
    for (const std::string &name : names) {
        const Value *v = params->find(name);
        if (v == nullptr) bad(m, "missing key \"" + name + "\"");
        if (v->kind != Value::Kind::Number || !(v->number > 0))
            bad(m, "parameter \"" + name + "\" must be a positive number");
        r.params.push_back(v->number);
    }

    const Value *ll = doc.find("log_likelihood");
    if (ll != nullptr && ll->kind == Value::Kind::Null)
        r.log_likelihood = -std::numeric_limits<double>::infinity();
    else
        r.log_likelihood = number_field(m, doc, "log_likelihood", 0.0);

    const Value *se = doc.find("std_errors");
    if (se != nullptr && se->kind != Value::Kind::Null) {
        if (se->kind != Value::Kind::Object) bad(m, "key \"std_errors\" must be an object or null");
        for (const std::string &name : names) {
            const Value *v = se->find(name);
            if (v == nullptr) bad(m, "missing key \"" + name + "\" in \"std_errors\"");
            if (v->kind != Value::Kind::Number || !(v->number >= 0))
                bad(m, "standard error \"" + name + "\" must be a number >= 0");
            r.std_errors.push_back(v->number);
        }
        r.std_errors_available = true;
    }

    const Value *cov = doc.find("covariance");
    if (cov != nullptr && cov->kind != Value::Kind::Null) {
        const std::string shape =
            "key \"covariance\" must be a " + std::to_string(k) + "x" + std::to_string(k) + " array or null";
        if (cov->kind != Value::Kind::Array || cov->items.size() != k) bad(m, shape);
        for (const Value &row : cov->items) {
            if (row.kind != Value::Kind::Array || row.items.size() != k) bad(m, shape);
            for (const Value &v : row.items) {
                if (v.kind != Value::Kind::Number) bad(m, "key \"covariance\" must hold numbers");
                r.covariance.push_back(v.number);
            }
        }
        for (std::size_t i = 0; i < k; ++i) {
            if (!(r.covariance[i * k + i] >= 0)) bad(m, "key \"covariance\" must have a non-negative diagonal");
            for (std::size_t j = 0; j < i; ++j)
                if (std::abs(r.covariance[i * k + j] - r.covariance[j * k + i]) >
                    1e-9 * (std::abs(r.covariance[i * k + j]) + std::abs(r.covariance[j * k + i])))
                    bad(m, "key \"covariance\" must be symmetric");
        }
    }

    const double iterations = number_field(m, doc, "iterations", 0.0);
    if (iterations < 0 || iterations > 1e9 || std::floor(iterations) != iterations)
        bad(m, "key \"iterations\" must be a whole number >= 0");
    r.iterations = static_cast<int>(iterations);
    const Value *converged = doc.find("converged");
    if (converged != nullptr) {
        if (converged->kind != Value::Kind::Bool) bad(m, "key \"converged\" must be true or false");
        r.converged = converged->boolean;
    } else {
        r.converged = true;  // hand-written parameters: taken as given
    }
    r.customers = number_field(m, doc, "customers", 0.0);
    r.penalty = number_field(m, doc, "penalty", 0.0);
    r.ignored = number_field(m, doc, "ignored", 0.0);
    if (r.customers < 0 || r.penalty < 0 || r.ignored < 0)
        bad(m, "keys \"customers\", \"penalty\" and \"ignored\" must not be negative");
    const Value *message = doc.find("message");
    if (message != nullptr && message->kind != Value::Kind::Null) {
        if (message->kind != Value::Kind::String) bad(m, "key \"message\" must be a string");
        r.message = message->text;
    }
    return r;
}

}  // namespace personalize::lifetime

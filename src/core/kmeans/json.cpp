// KMeansModel::to_json / from_json: a compact writer and a minimal, strict
// JSON reader for the model object (no external library). Integers (k, dim,
// iterations, seed, sizes, points) are written and read exactly, so a 64-bit
// seed survives the round trip; other numbers use 17 significant digits.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/json_reader.hpp"
#include "core/common/json_writer.hpp"
#include "core/kmeans/kmeans.hpp"

namespace personalize::kmeans {

namespace {

// ---------------------------------------------------------------- writer

void put_integer(std::string &out, std::uint64_t v) { out += std::to_string(v); }

// ---------------------------------------------------------------- reader

using Value = JsonValue;

[[noreturn]] void bad(const std::string &what) { throw_invalid("kmeans: model " + what); }

// A whole number >= 0, exact up to 2^64 - 1 when written as digits.
std::uint64_t whole_number(const Value &v, const char *key) {
    const std::string must = std::string("key \"") + key + "\" must be a whole number >= 0";
    if (v.kind != Value::Kind::Number) bad(must);
    const std::string &t = v.text;
    if (!t.empty() && t.find_first_not_of("0123456789") == std::string::npos) {
        errno = 0;
        const unsigned long long u = std::strtoull(t.c_str(), nullptr, 10);
        if (errno == ERANGE) bad(must);
        return static_cast<std::uint64_t>(u);
    }
    // Written with a fraction or exponent: fine if it is a small whole number.
    if (!(v.number >= 0) || v.number > 9007199254740992.0 || std::floor(v.number) != v.number) bad(must);
    return static_cast<std::uint64_t>(v.number);
}

const Value &required(const Value &doc, const char *key) {
    const Value *v = doc.find(key);
    if (v == nullptr) bad(std::string("is missing \"") + key + "\"");
    return *v;
}

}  // namespace

std::string KMeansModel::to_json() const {
    std::string out;
    out.reserve(256 + 26 * k_ * dim_ + 80 * dim_ + 24 * k_);
    out += "{\"model\":\"kmeans\",\"k\":";
    put_integer(out, k_);
    out += ",\"dim\":";
    put_integer(out, dim_);
    out += ",\"centroids\":[";
    for (std::size_t c = 0; c < k_; ++c) {
        if (c) out += ',';
        out += '[';
        for (std::size_t j = 0; j < dim_; ++j) {
            if (j) out += ',';
            put_json_number(out, centroids_[c * dim_ + j]);
        }
        out += ']';
    }
    out += "],\"scaling\":[";
    for (std::size_t j = 0; j < scaling_.size(); ++j) {
        if (j) out += ',';
        out += "{\"kind\":\"";
        out += kmeans_scaling_name(scaling_[j].kind);
        out += "\",\"mean\":";
        put_json_number(out, scaling_[j].mean);
        out += ",\"std\":";
        put_json_number(out, scaling_[j].std);
        out += '}';
    }
    out += "],\"inertia\":";
    put_json_number(out, inertia_);
    out += ",\"iterations\":";
    put_integer(out, static_cast<std::uint64_t>(iterations_));
    out += converged_ ? ",\"converged\":true" : ",\"converged\":false";
    out += ",\"seed\":";
    put_integer(out, seed_);
    out += ",\"sizes\":[";
    for (std::size_t c = 0; c < sizes_.size(); ++c) {
        if (c) out += ',';
        put_integer(out, static_cast<std::uint64_t>(sizes_[c]));
    }
    out += "],\"points\":";
    put_integer(out, static_cast<std::uint64_t>(points_));
    out += '}';
    return out;
}

KMeansModel KMeansModel::from_json(std::string_view text) {
    const Value doc = JsonParser(text, "kmeans: model").parse_document();
    if (doc.kind != Value::Kind::Object) bad("is not a kmeans model");
    const Value *type = doc.find("model");
    if (type == nullptr || type->kind != Value::Kind::String || type->text != "kmeans") bad("is not a kmeans model");

    KMeansModel m;
    const Value &centroids = required(doc, "centroids");
    if (centroids.kind != Value::Kind::Array || centroids.items.empty())
        bad("key \"centroids\" must be a non-empty array of arrays of numbers");
    m.k_ = centroids.items.size();
    for (const Value &row : centroids.items) {
        if (row.kind != Value::Kind::Array || row.items.empty())
            bad("key \"centroids\" must be a non-empty array of arrays of numbers");
        if (m.dim_ == 0) m.dim_ = row.items.size();
        if (row.items.size() != m.dim_) bad("key \"centroids\" must have rows of equal length");
        for (const Value &v : row.items) {
            if (v.kind != Value::Kind::Number) bad("key \"centroids\" must hold numbers");
            m.centroids_.push_back(v.number);
        }
    }
    if (const Value *k = doc.find("k"); k != nullptr && whole_number(*k, "k") != m.k_)
        bad("key \"k\" (" + k->text + ") does not match the " + std::to_string(m.k_) + " centroids");
    if (const Value *dim = doc.find("dim"); dim != nullptr && whole_number(*dim, "dim") != m.dim_)
        bad("key \"dim\" (" + dim->text + ") does not match the centroids' length " + std::to_string(m.dim_));

    m.scaling_.assign(m.dim_, KMeansFeatureScaling{});
    if (const Value *scaling = doc.find("scaling"); scaling != nullptr) {
        if (scaling->kind != Value::Kind::Array || scaling->items.size() != m.dim_)
            bad("key \"scaling\" must be an array of " + std::to_string(m.dim_) + " objects");
        for (std::size_t j = 0; j < m.dim_; ++j) {
            const Value &s = scaling->items[j];
            const std::string which = "scaling of feature " + std::to_string(j + 1);
            if (s.kind != Value::Kind::Object) bad(which + " must be an object");
            const Value *kind = s.find("kind");
            if (kind == nullptr || kind->kind != Value::Kind::String) bad(which + " is missing \"kind\"");
            KMeansFeatureScaling &f = m.scaling_[j];
            if (kind->text == "none") f.kind = KMeansScaling::None;
            else if (kind->text == "zscore") f.kind = KMeansScaling::ZScore;
            else if (kind->text == "log1p_zscore") f.kind = KMeansScaling::Log1pZScore;
            else bad(which + " has an unknown kind \"" + kind->text + "\"");
            const Value *mean = s.find("mean");
            const Value *sd = s.find("std");
            if (f.kind == KMeansScaling::None) {
                if ((mean != nullptr && (mean->kind != Value::Kind::Number || mean->number != 0.0)) ||
                    (sd != nullptr && (sd->kind != Value::Kind::Number || sd->number != 1.0)))
                    bad(which + " is \"none\": its mean must be 0 and its std 1");
                continue;
            }
            if (mean == nullptr || mean->kind != Value::Kind::Number) bad(which + " needs a numeric \"mean\"");
            if (sd == nullptr || sd->kind != Value::Kind::Number || !(sd->number > 0.0))
                bad(which + " needs a \"std\" > 0");
            f.mean = mean->number;
            f.std = sd->number;
        }
    }

    if (const Value *inertia = doc.find("inertia"); inertia != nullptr) {
        if (inertia->kind != Value::Kind::Number || !(inertia->number >= 0.0))
            bad("key \"inertia\" must be a number >= 0");
        m.inertia_ = inertia->number;
    }
    if (const Value *iterations = doc.find("iterations"); iterations != nullptr) {
        const std::uint64_t it = whole_number(*iterations, "iterations");
        if (it > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            bad("key \"iterations\" is out of range");
        m.iterations_ = static_cast<std::int64_t>(it);
    }
    if (const Value *converged = doc.find("converged"); converged != nullptr) {
        if (converged->kind != Value::Kind::Bool) bad("key \"converged\" must be true or false");
        m.converged_ = converged->boolean;
    }
    if (const Value *seed = doc.find("seed"); seed != nullptr) m.seed_ = whole_number(*seed, "seed");
    m.sizes_.assign(m.k_, 0);
    std::uint64_t total = 0;
    if (const Value *sizes = doc.find("sizes"); sizes != nullptr) {
        if (sizes->kind != Value::Kind::Array || sizes->items.size() != m.k_)
            bad("key \"sizes\" must be an array of " + std::to_string(m.k_) + " whole numbers");
        for (std::size_t c = 0; c < m.k_; ++c) {
            const std::uint64_t size = whole_number(sizes->items[c], "sizes");
            if (size > (std::uint64_t{1} << 62)) bad("key \"sizes\" is out of range");
            m.sizes_[c] = static_cast<std::int64_t>(size);
            total += size;
            if (total > (std::uint64_t{1} << 62)) bad("key \"sizes\" is out of range");
        }
    }
    if (const Value *points = doc.find("points"); points != nullptr) {
        const std::uint64_t p = whole_number(*points, "points");
        if (p > (std::uint64_t{1} << 62)) bad("key \"points\" is out of range");
        if (doc.find("sizes") != nullptr && p != total) bad("key \"points\" must equal the sum of \"sizes\"");
        m.points_ = static_cast<std::int64_t>(p);
    } else {
        m.points_ = static_cast<std::int64_t>(total);
    }
    m.finish();
    return m;
}

}  // namespace personalize::kmeans

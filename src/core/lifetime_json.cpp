// FitResult::to_json / from_json: a minimal, strict JSON writer and reader
// for the flat result object of the lifetime models (no external library).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "core/error.hpp"
#include "core/lifetime_fit.hpp"

namespace personalize {

namespace {

// ---------------------------------------------------------------- writer

void put_number(std::string &out, double v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    out += buf;
}

void put_string(std::string &out, std::string_view s) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

// ---------------------------------------------------------------- reader

struct Value {
    enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
    bool boolean = false;
    double number = 0.0;
    std::string string;
    std::vector<Value> items;                           // Array
    std::vector<std::pair<std::string, Value>> fields;  // Object, in order

    const Value *find(std::string_view key) const {
        for (const auto &[k, v] : fields)
            if (k == key) return &v;
        return nullptr;
    }
};

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    Value parse_document() {
        Value v = parse_value(0);
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the JSON value");
        return v;
    }

private:
    static constexpr int kMaxDepth = 32;

    [[noreturn]] void fail(const std::string &what) const {
        throw Error(ErrorCode::InvalidText,
                    "lifetime model: invalid JSON: " + what + " at offset " + std::to_string(pos_));
    }
    void skip_space() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }
    bool consume(std::string_view word) {
        if (text_.substr(pos_, word.size()) == word) {
            pos_ += word.size();
            return true;
        }
        return false;
    }

    Value parse_value(int depth) {
        if (depth > kMaxDepth) fail("nesting too deep");
        skip_space();
        if (pos_ >= text_.size()) fail("unexpected end");
        Value v;
        const char c = text_[pos_];
        if (c == '{') {
            v.kind = Value::Kind::Object;
            ++pos_;
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == '}') {
                ++pos_;
                return v;
            }
            for (;;) {
                skip_space();
                if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a key");
                std::string key = parse_string();
                skip_space();
                if (pos_ >= text_.size() || text_[pos_] != ':') fail("expected ':'");
                ++pos_;
                for (const auto &field : v.fields)
                    if (field.first == key) fail("duplicate key \"" + key + "\"");
                v.fields.emplace_back(std::move(key), parse_value(depth + 1));
                skip_space();
                if (pos_ < text_.size() && text_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                if (pos_ < text_.size() && text_[pos_] == '}') {
                    ++pos_;
                    return v;
                }
                fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            v.kind = Value::Kind::Array;
            ++pos_;
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == ']') {
                ++pos_;
                return v;
            }
            for (;;) {
                v.items.push_back(parse_value(depth + 1));
                skip_space();
                if (pos_ < text_.size() && text_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                if (pos_ < text_.size() && text_[pos_] == ']') {
                    ++pos_;
                    return v;
                }
                fail("expected ',' or ']'");
            }
        }
        if (c == '"') {
            v.kind = Value::Kind::String;
            v.string = parse_string();
            return v;
        }
        if (consume("true")) {
            v.kind = Value::Kind::Bool;
            v.boolean = true;
            return v;
        }
        if (consume("false")) {
            v.kind = Value::Kind::Bool;
            return v;
        }
        if (consume("null")) return v;
        v.kind = Value::Kind::Number;
        v.number = parse_number();
        return v;
    }

    double parse_number() {
        // JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        const std::size_t start = pos_;
        auto digits = [&] {
            const std::size_t from = pos_;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
            return pos_ - from;
        };
        if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '0')
            ++pos_;
        else if (digits() == 0)
            fail("expected a value");
        if (pos_ < text_.size() && text_[pos_] == '.') {
            ++pos_;
            if (digits() == 0) fail("expected digits after '.'");
        }
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
            if (digits() == 0) fail("expected an exponent");
        }
        const std::string token(text_.substr(start, pos_ - start));
        const double v = std::strtod(token.c_str(), nullptr);
        if (!std::isfinite(v)) fail("number out of range");
        return v;
    }

    std::string parse_string() {
        ++pos_;  // opening quote
        std::string out;
        while (pos_ < text_.size()) {
            const char c = text_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= text_.size()) break;
            const char e = text_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    if (text_.size() - pos_ < 4) fail("bad \\u escape");
                    unsigned code = 0;
                    for (int i = 0; i < 4; ++i) {
                        const char h = text_[pos_++];
                        code <<= 4;
                        if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
                        else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
                        else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
                        else fail("bad \\u escape");
                    }
                    // Messages are ASCII; anything else is kept as UTF-8 (no surrogate pairs).
                    if (code < 0x80) {
                        out += static_cast<char>(code);
                    } else if (code < 0x800) {
                        out += static_cast<char>(0xC0 | (code >> 6));
                        out += static_cast<char>(0x80 | (code & 0x3F));
                    } else {
                        out += static_cast<char>(0xE0 | (code >> 12));
                        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
                        out += static_cast<char>(0x80 | (code & 0x3F));
                    }
                    break;
                }
                default: fail("bad escape");
            }
        }
        fail("unterminated string");
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

[[noreturn]] void bad(const std::string &model, const std::string &what) { throw_invalid(model + ": " + what); }

double number_field(const std::string &model, const Value &object, const char *key, double fallback) {
    const Value *v = object.find(key);
    if (v == nullptr) return fallback;
    if (v->kind != Value::Kind::Number) bad(model, "key \"" + std::string(key) + "\" must be a number");
    return v->number;
}

}  // namespace

std::string FitResult::to_json() const {
    const std::size_t k = params.size();
    std::string out;
    out.reserve(256 + 64 * k * k);
    out += "{\"model\":";
    put_string(out, model);
    out += ",\"params\":{";
    for (std::size_t i = 0; i < k; ++i) {
        if (i) out += ',';
        put_string(out, names[i]);
        out += ':';
        put_number(out, params[i]);
    }
    out += "},\"log_likelihood\":";
    put_number(out, log_likelihood);
    out += ",\"std_errors\":";
    if (std_errors_available && std_errors.size() == k) {
        out += '{';
        for (std::size_t i = 0; i < k; ++i) {
            if (i) out += ',';
            put_string(out, names[i]);
            out += ':';
            put_number(out, std_errors[i]);
        }
        out += '}';
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
                put_number(out, covariance[i * k + j]);
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
    put_number(out, customers);
    out += ",\"penalty\":";
    put_number(out, penalty);
    if (model == "gamma_gamma") {
        out += ",\"ignored\":";
        put_number(out, ignored);
    }
    if (!message.empty()) {
        out += ",\"message\":";
        put_string(out, message);
    }
    out += '}';
    return out;
}

FitResult FitResult::from_json(std::string_view text, const char *expected) {
    const std::string prefix = expected ? expected : "lifetime model";
    const Value doc = Parser(text).parse_document();
    if (doc.kind != Value::Kind::Object) bad(prefix, "a model must be a JSON object");

    const Value *model = doc.find("model");
    if (model == nullptr) bad(prefix, "missing key \"model\"");
    if (model->kind != Value::Kind::String) bad(prefix, "key \"model\" must be a string");
    const auto &names = lifetime_parameter_names(model->string);
    if (names.empty()) bad(prefix, "unknown model \"" + model->string + "\"");
    if (expected != nullptr && model->string != expected) bad(prefix, "model is a " + model->string + " model");

    FitResult r;
    r.model = model->string;
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
        r.message = message->string;
    }
    return r;
}

}  // namespace personalize

// compile(), Rule and Evaluator: the public face of the offer rule language.
#include "core/rules/rules.hpp"

#include <algorithm>
#include <cstdio>

#include "core/rules/binding.hpp"
#include "core/rules/checker.hpp"
#include "core/rules/compiler.hpp"
#include "core/rules/explain.hpp"
#include "core/rules/format.hpp"
#include "core/rules/money.hpp"
#include "core/rules/parser.hpp"
#include "core/rules/text.hpp"
#include "core/rules/vm.hpp"

namespace personalize::rules {

const char *truth_name(Truth t) {
    switch (t) {
        case Truth::False: return "false";
        case Truth::True: return "true";
        case Truth::Unknown: return "unknown";
    }
    return "unknown";
}

Rule::Rule(detail::Program program) : program_(std::move(program)) { program_.finalize(); }

std::vector<std::string> Rule::fields() const {
    std::vector<std::string> out;
    for (const auto &f : program_.fields) out.push_back(f.path);
    return out;
}

std::string Rule::field_type(std::string_view path) const {
    for (const auto &f : program_.fields)
        if (f.path == path) return detail::type_name(f.type);
    return std::string();
}

std::vector<std::string> Rule::currencies() const {
    std::vector<detail::Currency> codes;
    for (const detail::Slot &c : program_.constants)  // only money constants have one
        if (c.currency != 0) codes.push_back(c.currency);
    for (const detail::ConstList &l : program_.lists)
        if (l.currency != 0) codes.push_back(l.currency);
    std::sort(codes.begin(), codes.end());
    codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
    std::vector<std::string> out;
    for (const detail::Currency c : codes) out.push_back(detail::currency_text(c));
    return out;
}

bool is_currency_code(std::string_view code) { return detail::iso_currency(code) != 0; }

RulePtr compile(std::string_view text) {
    if (text.size() > kMaxRuleBytes)
        detail::fail_at(ErrorCode::ProgramLimit, text, kMaxRuleBytes,
                        "the rule is " + detail::format_count(text.size()) + " bytes long, which exceeds the limit of " +
                            detail::format_count(kMaxRuleBytes) + " bytes");
    const std::size_t bad = detail::invalid_utf8_offset(text);
    if (bad != std::string_view::npos) {
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[bad]));
        detail::fail_at(ErrorCode::Syntax, text, bad, std::string("invalid UTF-8 (byte ") + byte + ")");
    }
    detail::Ast ast = detail::parse(text);
    const std::vector<detail::FieldUse> fields = detail::check(ast);
    detail::Program program = detail::generate(ast, fields);
    program.text = std::string(text);
    return std::make_shared<const Rule>(std::move(program));
}

Evaluator::Evaluator(const ContextTree &context, std::int64_t now_us) {
    state_.tree = context;
    state_.caller_now = now_us;
}

Truth Evaluator::evaluate(const Rule &rule) {
    const detail::Program &p = rule.program();
    const detail::Slot v = detail::run(state_, p, 0, static_cast<std::uint32_t>(p.code.size()));
    return !v.known ? Truth::Unknown : v.truth ? Truth::True : Truth::False;
}

Truth Evaluator::evaluate(const Rule &rule, std::string &reason) {
    const Truth t = evaluate(rule);
    if (t == Truth::True) detail::append_reason_of_true(state_, rule.program(), reason);
    return t;
}

std::string Evaluator::reason(const Rule &rule) { return detail::reason(state_, rule.program()); }

std::vector<ExplainStep> Evaluator::explain(const Rule &rule) { return detail::explain(state_, rule.program()); }

std::int64_t Evaluator::now() { return detail::resolve_now(state_); }

}  // namespace personalize::rules

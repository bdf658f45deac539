// The offer rule language: conditions such as
//   customer.orders = 0 and cart.total >= 30 GBP
//   days_since(customer.last_order_at) > 90 and customer.p_alive < 0.5
//   session.exit_intent and cart.items > 0 and not session.offer_shown
// parsed, type-checked and compiled once (compile / RuleCache), evaluated in
// C++ against a customer's context (a JSON tree) with three-valued logic,
// never executing SQL. The language guide is docs/offer_rules.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/rules/context_tree.hpp"
#include "core/common/error.hpp"
#include "core/rules/eval_state.hpp"
#include "core/rules/limits.hpp"
#include "core/rules/not_applicable.hpp"
#include "core/rules/program.hpp"

namespace personalize::rules {

enum class Truth : std::uint8_t { False, True, Unknown };
const char *truth_name(Truth t);  // "false" / "true" / "unknown"

// A compiled rule: immutable after compile, shared between evaluations.
class Rule {
public:
    explicit Rule(detail::Program program);  // use compile()
    Rule(const Rule &) = delete;
    Rule &operator=(const Rule &) = delete;

    std::string text() const { return program_.text; }
    // The fields the rule reads, in order of first use ("customer.orders", "now", ...).
    std::vector<std::string> fields() const;
    // The type a field has in this rule ("number", "list of text", ...; "any" for an
    // attribute only tested with is [not] null); "" when the rule does not read it.
    std::string field_type(std::string_view path) const;
    // The currencies of the rule's money literals ("30 GBP", "[5 EUR, 10 EUR]"),
    // sorted and distinct: what an offer's amount_off currency must match.
    std::vector<std::string> currencies() const;
    // Instructions of the compiled form (introspection, tests).
    std::size_t code_size() const { return program_.code.size(); }

    const detail::Program &program() const { return program_; }

private:
    detail::Program program_;
};
using RulePtr = std::shared_ptr<const Rule>;

// Whether `code` is an ISO 4217 code as rule literals write it (three
// upper-case letters of an active code or an X.. code): "GBP" yes, "gbp"
// and "ZZZ" no. The CHECK on personalize.offers.currency uses it.
bool is_currency_code(std::string_view code);

// Parses, type-checks and compiles. Throws Error (Syntax / InvalidParameter /
// ProgramLimit) whose message starts with "rule: line L, column C: ".
RulePtr compile(std::string_view text);

struct ExplainStep {
    int depth;               // 0 = the whole rule; conditions nested under and/or/not get deeper
    std::string condition;   // the source text of the condition, e.g. "cart.total >= 30 GBP"
    std::string value;       // what it saw, e.g. "cart.total = 42.50 GBP" or "customer.p_alive is missing"
    Truth result;
};

// Evaluates rules against one context. Binding is lazy and memoised: a field
// read by several rules is looked up and converted once per Evaluator. The
// context tree (and the strings it points to) must outlive the Evaluator.
class Evaluator {
public:
    // now_us: evaluation time (µs since the Unix epoch), used when the context has no "now".
    Evaluator(const ContextTree &context, std::int64_t now_us);
    Evaluator(const Evaluator &) = delete;
    Evaluator &operator=(const Evaluator &) = delete;

    // Context errors throw Error(InvalidParameter); money of another currency
    // than the rule's throws NotApplicable (an InvalidParameter too).
    Truth evaluate(const Rule &rule);
    // evaluate(), and when the rule is TRUE its reason() appended to `reason`
    // without evaluating the rule a second time (what eligible_offers needs).
    Truth evaluate(const Rule &rule, std::string &reason);
    // For a rule that is TRUE: the conditions that made it true, e.g.
    // "customer.orders = 0 (0) and cart.total >= 30 GBP (42.50 GBP)". For OR only
    // the branch that holds; for NOT the refuted condition with "not". Empty
    // string if the rule is not TRUE.
    std::string reason(const Rule &rule);
    // Every condition (leaf comparisons, function calls, bare boolean fields, in,
    // is null) in source order with depth, plus step 0 for the whole rule;
    // evaluates everything (no short circuit).
    std::vector<ExplainStep> explain(const Rule &rule);

    // The evaluation time in use: the context's "now", else now_us.
    std::int64_t now();

private:
    detail::EvalState state_;
};

// Per-backend cache of compiled rules keyed by rule text, bounded (LRU) by entries.
// Not thread-safe (one per backend); the rules it hands out are.
class RuleCache {
public:
    explicit RuleCache(std::size_t max_entries = 1024);  // 0 is taken as 1
    ~RuleCache();
    RuleCache(const RuleCache &) = delete;
    RuleCache &operator=(const RuleCache &) = delete;
    RulePtr get(std::string_view text);  // compiles on a miss (compile errors propagate, not cached)
    std::size_t size() const;
    std::size_t capacity() const { return max_entries_; }
    std::uint64_t hits() const { return hits_; }
    std::uint64_t misses() const { return misses_; }
    void clear();

private:
    struct Entry {
        std::string text;
        RulePtr rule;
    };
    std::size_t max_entries_;
    std::list<Entry> lru_;  // most recently used first
    struct Index;
    std::unique_ptr<Index> index_;  // text -> position in lru_
    std::uint64_t hits_ = 0, misses_ = 0;
};

// The field catalogue, for docs and for the glue's field listing function.
struct FieldInfo {
    const char *path;
    const char *type;
    const char *description;
};
const std::vector<FieldInfo> &field_catalogue();

}  // namespace personalize::rules

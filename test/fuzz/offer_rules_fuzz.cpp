// libFuzzer target for the offer rule language: the parser, type checker,
// compiler and evaluator (evaluate, reason, explain) on arbitrary input.
//
// Input: one mode byte, then the rule text, a NUL byte, and the context:
//   mode % 4 == 0: the context is JSON text (a rich default context when it
//                  does not parse, so evaluation still runs);
//   mode % 4 == 1: the context is the rich default with one value replaced:
//                  its first byte picks the field, the rest is the JSON value
//                  put there (type confusion for every field);
//   mode % 4 == 2: the context is a raw ContextNode array made from the
//                  bytes (arbitrary kinds and end indices: a malformed tree
//                  must be an error, never a crash);
//   mode % 4 == 3: the rule is generated from the rule bytes by a small
//                  grammar (mostly well-typed rules reach the evaluator),
//                  the context as in mode 1;
//   mode / 4 % 4 picks the evaluation time (a date, 0, INT64_MAX, INT64_MIN).
// Besides the sanitizers, it checks: every exception is a personalize::Error
// with an expected code; compile errors start with "rule: line "; evaluate()
// gives the same answer twice; reason() is non-empty exactly for TRUE;
// explain()'s step 0, which combines every condition without short circuit,
// equals evaluate(); what evaluate() cannot evaluate explain() cannot either.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/rules/context_tree.hpp"
#include "core/common/error.hpp"
#include "core/rules/rules.hpp"

using personalize::ContextNode;
using personalize::ContextTree;
using personalize::Error;
using personalize::ErrorCode;
using personalize::OwnedContextTree;
namespace rules = personalize::rules;

namespace {

[[noreturn]] void fail(const char *what, const std::string &detail) {
    std::fprintf(stderr, "offer_rules_fuzz: %s: %s\n", what, detail.c_str());
    std::abort();
}

// The rich default context, one entry per value: (object, key, JSON value).
struct Entry {
    const char *object;  // "" top level, "customer", "customer.attributes", ...
    const char *key;
    const char *value;
};
const Entry kEntries[] = {
    {"", "currency", "\"GBP\""}, {"", "now", "\"2026-01-01T00:00:00Z\""},
    {"customer", "id", "7"}, {"customer", "orders", "2"}, {"customer", "first_order_at", "\"2024-03-01\""},
    {"customer", "last_order_at", "\"2025-09-01T10:00:00+00:00\""}, {"customer", "total_spent", "\"120.50 GBP\""},
    {"customer", "average_order", "{\"amount\": 60.25, \"currency\": \"GBP\"}"},
    {"customer", "signed_up_at", "\"2024-01-01 08:00:00+01:00\""}, {"customer", "country", "\"GB\""},
    {"customer", "email_opt_in", "true"}, {"customer", "segment", "\"loyal\""}, {"customer", "r", "4"},
    {"customer", "f", "3"}, {"customer", "m", "5"}, {"customer", "p_alive", "0.42"}, {"customer", "expected_orders", "1.5"},
    {"customer", "clv", "300"}, {"customer", "cluster", "2"}, {"customer", "tags", "[\"vip\", null, \"staff\"]"},
    {"customer", "currency", "\"GBP\""},
    {"customer.attributes", "points", "1200"}, {"customer.attributes", "tier", "\"gold\""},
    {"customer.attributes", "vip", "true"}, {"customer.attributes", "since", "\"2025-01-01\""},
    {"customer.attributes", "wish", "[1, 2, 3]"}, {"customer.attributes", "credit", "\"5 GBP\""},
    {"customer.attributes", "nested", "{\"x\": 1, \"currency\": \"EUR\", \"y\": 2.5}"},
    {"cart", "total", "42.5"}, {"cart", "currency", "\"GBP\""}, {"cart", "items", "[1, 2, 123]"}, {"cart", "quantity", "3"},
    {"cart", "categories", "[\"shoes\", \"bags\"]"}, {"cart.attributes", "coupon", "\"SPRING\""},
    {"session", "exit_intent", "true"}, {"session", "offer_shown", "false"}, {"session", "pages_viewed", "5"},
    {"session", "minutes_on_site", "3.5"}, {"session", "returning", "false"}, {"session", "channel", "\"email\""},
    {"session", "propensity", "0.8"}, {"session", "product_id", "123"}, {"session", "complements", "[5, 6, 7]"},
    {"session", "started_at", "\"2025-12-31T23:30:00Z\""}, {"session.attributes", "bot", "false"},
};
constexpr std::size_t kEntryCount = sizeof kEntries / sizeof *kEntries;
const char *const kObjects[] = {"customer", "customer.attributes", "cart", "cart.attributes", "session", "session.attributes"};

// The rich context with entry `replace` (or, past the entries, a whole
// object) given `value` instead of its default.
std::string rich_context(std::size_t replace, std::string_view value) {
    const auto entry_value = [&](std::size_t i) {
        return i == replace ? std::string(value) : std::string(kEntries[i].value);
    };
    const auto members = [&](const std::string &object) {
        std::string out;
        for (std::size_t i = 0; i < kEntryCount; ++i)
            if (object == kEntries[i].object) out += "\"" + std::string(kEntries[i].key) + "\": " + entry_value(i) + ", ";
        return out;
    };
    std::string out = "{" + members("");
    for (int ns = 0; ns < 3; ++ns) {
        const std::string name = kObjects[ns * 2], attributes = kObjects[ns * 2 + 1];
        out += "\"" + name + "\": ";
        if (replace == kEntryCount + static_cast<std::size_t>(ns)) {
            out += std::string(value) + ", ";
            continue;
        }
        out += "{" + members(name) + "\"attributes\": {" + members(attributes);
        if (out.size() >= 2 && out.substr(out.size() - 2) == ", ") out.resize(out.size() - 2);
        out += "}}, ";
    }
    out.resize(out.size() - 2);
    return out + "}";
}

// A rule from bytes by a small typed grammar: mostly well-typed, sometimes
// not (a byte may pick a wrong operand), so the evaluator sees many rules.
class RuleGenerator {
public:
    explicit RuleGenerator(std::string_view bytes) : b_(bytes) {}

    std::string rule() { return cond(0); }

private:
    unsigned next() { return i_ < b_.size() ? static_cast<unsigned char>(b_[i_++]) : 0; }
    unsigned pick(unsigned n) { return next() % n; }
    template <std::size_t N>
    const char *one(const char *const (&a)[N]) { return a[pick(N)]; }

    std::string cond(int depth) {
        static const char *const bools[] = {"session.exit_intent", "session.offer_shown", "customer.email_opt_in",
                                            "session.returning", "customer.attributes.vip", "true", "false",
                                            "session.attributes.bot", "customer.attributes.missing"};
        static const char *const cmps[] = {" = ", " != ", " < ", " <= ", " > ", " >= "};
        if (depth > 6 || i_ >= b_.size()) return one(bools);
        switch (pick(14)) {
            case 0: return cond(depth + 1) + " and " + cond(depth + 1);
            case 1: return cond(depth + 1) + " or " + cond(depth + 1);
            case 2: return "not " + cond(depth + 1);
            case 3: return "(" + cond(depth + 1) + ")";
            case 4: return number(depth + 1) + one(cmps) + number(depth + 1);
            case 5: return money(depth + 1) + one(cmps) + money(depth + 1);
            case 6: return text(depth + 1) + one(cmps) + text(depth + 1);
            case 7: return timestamp() + one(cmps) + timestamp();
            case 8: {
                static const char *const lists[] = {"[1, 2, 123]", "[]", "[0.5, -3]", "['gold', 'x']", "[10 GBP, 42.50 GBP]"};
                static const char *const xs[] = {"customer.orders", "customer.segment", "cart.total", "customer.attributes.tier",
                                                 "session.product_id", "customer.attributes.points"};
                return std::string(one(xs)) + (pick(2) ? " in " : " not in ") + one(lists);
            }
            case 9: {
                static const char *const any[] = {"customer.orders", "cart.items", "customer.attributes.q", "now", "cart.total"};
                return std::string(one(any)) + (pick(2) ? " is null" : " is not null");
            }
            case 10: {
                static const char *const f[] = {"contains(cart.items, ", "contains(session.complements, ",
                                                "contains(customer.attributes.wish, "};
                return std::string(f[pick(3)]) + number(depth + 1) + ")";
            }
            case 11: {
                static const char *const f[] = {"any_in", "all_in"};
                static const char *const l[] = {"cart.categories", "customer.tags", "['shoes', 'vip']", "[]",
                                                "customer.attributes.badges"};
                return std::string(one(f)) + "(" + one(l) + ", " + one(l) + ")";
            }
            case 12: return "coalesce(" + cond(depth + 1) + ", " + cond(depth + 1) + ")";
            default: return one(bools);
        }
    }
    std::string number(int depth) {
        static const char *const leaves[] = {"customer.orders", "customer.p_alive", "cart.quantity", "cart.items", "0", "1",
                                             "-2.5", "1e308", "customer.attributes.points", "session.pages_viewed",
                                             "count(customer.tags)", "customer.attributes.nested.y", "123"};
        static const char *const ops[] = {" + ", " - ", " * ", " / "};
        if (depth > 6 || i_ >= b_.size()) return one(leaves);
        switch (pick(9)) {
            case 0: return number(depth + 1) + one(ops) + number(depth + 1);
            case 1: return "-" + number(depth + 1);
            case 2: return "days_since(" + timestamp() + ")";
            case 3: return "hours_since(" + timestamp() + ")";
            case 4: return std::string(pick(2) ? "min(" : "max(") + number(depth + 1) + ", " + number(depth + 1) + ")";
            case 5: return "abs(" + number(depth + 1) + ")";
            case 6: return money(depth + 1) + " / " + money(depth + 1);
            case 7: return "coalesce(" + number(depth + 1) + ", " + number(depth + 1) + ")";
            default: return one(leaves);
        }
    }
    std::string money(int depth) {
        static const char *const leaves[] = {"cart.total", "customer.clv", "customer.total_spent", "customer.average_order",
                                             "30 GBP", "0 GBP", "12.50 EUR", "customer.attributes.credit",
                                             "customer.attributes.nested.x"};
        if (depth > 6 || i_ >= b_.size()) return one(leaves);
        switch (pick(7)) {
            case 0: return money(depth + 1) + (pick(2) ? " + " : " - ") + money(depth + 1);
            case 1: return money(depth + 1) + (pick(2) ? " * " : " / ") + number(depth + 1);
            case 2: return number(depth + 1) + " * " + money(depth + 1);
            case 3: return std::string(pick(2) ? "min(" : "max(") + money(depth + 1) + ", " + money(depth + 1) + ")";
            case 4: return "-" + money(depth + 1);
            default: return one(leaves);
        }
    }
    std::string text(int) {
        static const char *const leaves[] = {"customer.segment", "customer.country", "session.channel", "'gold'", "''",
                                             "'caf\xC3\xA9'", "customer.attributes.tier", "cart.currency"};
        return one(leaves);
    }
    std::string timestamp() {
        static const char *const leaves[] = {"now", "customer.last_order_at", "session.started_at", "'2026-01-01'",
                                             "'infinity'", "customer.attributes.since", "customer.first_order_at",
                                             "'2025-12-31 23:00:00-01:00'"};
        return one(leaves);
    }

    std::string_view b_;
    std::size_t i_ = 0;
};

// Keys and strings the raw trees point at: names the rules use, so lookups hit.
const char *const kWords[] = {"customer", "cart", "session", "now", "currency", "attributes", "orders", "total",
                              "items", "tags", "segment", "p_alive", "last_order_at", "exit_intent", "offer_shown",
                              "amount", "GBP", "EUR", "2026-01-01", "42.50 GBP", "points", "tier", "gold", ""};

// A raw node array from bytes: 6 bytes a node (kind, end offset, key, string, number).
std::vector<ContextNode> raw_tree(std::string_view bytes) {
    std::vector<ContextNode> nodes;
    const std::size_t n = std::min<std::size_t>(bytes.size() / 6, 512);
    for (std::size_t i = 0; i < n; ++i) {
        const auto b = [&](std::size_t k) { return static_cast<unsigned char>(bytes[i * 6 + k]); };
        ContextNode node{};
        node.kind = static_cast<ContextNode::Kind>(b(0) % 9);  // 7 and 8 are invalid kinds
        node.end = static_cast<std::uint32_t>(i + b(1) % 40);  // may be before, at, past the node
        const char *key = kWords[b(2) % (sizeof kWords / sizeof *kWords)];
        node.key = b(2) & 0x80 ? nullptr : key;
        node.key_len = node.key ? static_cast<std::uint32_t>(std::strlen(key)) : (b(2) & 0x40 ? 3 : 0);
        const char *str = kWords[b(3) % (sizeof kWords / sizeof *kWords)];
        node.str = b(3) & 0x80 ? nullptr : str;
        node.str_len = node.str ? static_cast<std::uint32_t>(std::strlen(str)) : (b(3) & 0x40 ? 2 : 0);
        const int choice = b(4) % 8;
        node.number = choice == 0   ? std::numeric_limits<double>::quiet_NaN()
                      : choice == 1 ? std::numeric_limits<double>::infinity()
                      : choice == 2 ? -1e308
                                    : static_cast<double>(static_cast<signed char>(b(5)));
        nodes.push_back(node);
    }
    return nodes;
}

void expect_code(const Error &e, std::initializer_list<ErrorCode> allowed, const char *where) {
    for (const ErrorCode c : allowed)
        if (e.code() == c) return;
    fail(where, std::string("unexpected error code for: ") + e.what());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size == 0) return 0;
    const unsigned mode = data[0];
    const std::string_view input(reinterpret_cast<const char *>(data + 1), size - 1);
    const std::size_t nul = input.find('\0');
    const std::string_view rule_text = input.substr(0, nul);
    const std::string_view context_text = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
    static const std::int64_t kTimes[] = {1767225600000000LL, 0, std::numeric_limits<std::int64_t>::max(),
                                          std::numeric_limits<std::int64_t>::min()};
    const std::int64_t now = kTimes[mode / 4 % 4];
    const std::string generated = mode % 4 == 3 ? RuleGenerator(rule_text).rule() : std::string();
    const std::string_view text = mode % 4 == 3 ? std::string_view(generated) : rule_text;

    try {
        rules::RulePtr rule;
        try {
            rule = rules::compile(text);
        } catch (const Error &e) {
            expect_code(e, {ErrorCode::Syntax, ErrorCode::InvalidParameter, ErrorCode::ProgramLimit}, "compile");
            if (std::string_view(e.what()).substr(0, 11) != "rule: line ") fail("compile message", e.what());
            return 0;
        }
        if (rule->text() != text) fail("text()", "differs from the input");
        if (rules::compile(text)->code_size() != rule->code_size()) fail("compile", "not deterministic");

        OwnedContextTree owned;
        std::vector<ContextNode> raw;
        ContextTree tree;
        if (mode % 4 == 2) {
            raw = raw_tree(context_text);
            tree = ContextTree{raw.data(), raw.size()};
        } else {
            std::string json(context_text);
            if (mode % 4 != 0 && !context_text.empty())
                json = rich_context(static_cast<unsigned char>(context_text[0]) % (kEntryCount + 3), context_text.substr(1));
            try {
                owned = OwnedContextTree::parse(json);
            } catch (const Error &e) {
                expect_code(e, {ErrorCode::InvalidText, ErrorCode::ProgramLimit}, "context parse");
                owned = OwnedContextTree::parse(rich_context(kEntryCount + 3, ""));
            }
            tree = owned.view();
        }
        const std::initializer_list<ErrorCode> eval_codes =
            mode % 4 == 2 ? std::initializer_list<ErrorCode>{ErrorCode::InvalidParameter, ErrorCode::DataCorrupted}
                          : std::initializer_list<ErrorCode>{ErrorCode::InvalidParameter};

        rules::Truth result = rules::Truth::Unknown;
        bool evaluated = false;
        try {
            rules::Evaluator evaluator(tree, now);
            result = evaluator.evaluate(*rule);
            if (evaluator.evaluate(*rule) != result) fail("evaluate", "different result the second time");
            const std::string why = evaluator.reason(*rule);
            if (why.empty() != (result != rules::Truth::True))
                fail("reason", std::string(rules::truth_name(result)) + " with reason \"" + why + "\"");
            evaluated = true;
        } catch (const Error &e) {
            expect_code(e, eval_codes, "evaluate");
        }
        try {
            rules::Evaluator evaluator(tree, now);
            const std::vector<rules::ExplainStep> steps = evaluator.explain(*rule);
            if (steps.empty() || steps[0].depth != 0) fail("explain", "no step 0");
            for (std::size_t i = 1; i < steps.size(); ++i)
                if (steps[i].depth < 1) fail("explain", "a condition at depth 0");
            if (!evaluated) fail("explain", "explained a rule that evaluate() could not evaluate");
            if (steps[0].result != result)
                fail("explain", std::string("step 0 is ") + rules::truth_name(steps[0].result) + ", evaluate() said " +
                                    rules::truth_name(result));
        } catch (const Error &e) {
            expect_code(e, eval_codes, "explain");
        }
    } catch (const Error &e) {
        fail("uncaught Error", e.what());
    } catch (const std::exception &e) {
        fail("exception that is not a personalize::Error", e.what());
    }
    return 0;
}

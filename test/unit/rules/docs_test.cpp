// docs/offer_rules.md is checked here: its ```rules blocks compile (one rule
// per line, "--" comments and continuation lines indented by two blanks),
// its ```rule-error blocks give exactly the message shown, its ```rule-eval
// blocks give the result, reason or error shown, and its field table equals
// field_catalogue().
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

#ifndef PERSONALIZE_SOURCE_DIR
#error "PERSONALIZE_SOURCE_DIR must be defined (CMakeLists.txt does)"
#endif

namespace personalize::rules {
namespace {

struct Block {
    std::string kind;
    std::vector<std::string> lines;
    int line;  // of the opening fence, for messages
};

std::vector<Block> blocks(const std::string &markdown) {
    std::vector<Block> out;
    std::istringstream in(markdown);
    std::string line;
    int number = 0;
    Block *open = nullptr;
    while (std::getline(in, line)) {
        ++number;
        if (line.rfind("```", 0) == 0) {
            if (open) {
                open = nullptr;
            } else {
                out.push_back(Block{line.substr(3), {}, number});
                open = &out.back();
            }
            continue;
        }
        if (open) open->lines.push_back(line);
    }
    return out;
}

// Groups separated by blank lines.
std::vector<std::vector<std::string>> groups(const std::vector<std::string> &lines) {
    std::vector<std::vector<std::string>> out(1);
    for (const std::string &l : lines) {
        if (l.empty()) {
            if (!out.back().empty()) out.emplace_back();
        } else {
            out.back().push_back(l);
        }
    }
    if (out.back().empty()) out.pop_back();
    return out;
}

std::string read_doc() {
    std::ifstream f(std::string(PERSONALIZE_SOURCE_DIR) + "/docs/offer_rules.md");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string value_of(const std::vector<std::string> &group, const std::string &key) {
    for (const std::string &l : group)
        if (l.rfind(key + ": ", 0) == 0) return l.substr(key.size() + 2);
    return std::string();
}

TEST(OfferRuleDocs, EveryExampleIsReal) {
    const std::string doc = read_doc();
    ASSERT_FALSE(doc.empty()) << "docs/offer_rules.md not found";
    int rules = 0, errors = 0, evals = 0;
    for (const Block &b : blocks(doc)) {
        if (b.kind == "rules") {
            // One rule per line; lines starting with two blanks continue the previous one.
            std::vector<std::string> texts;
            for (const std::string &l : b.lines) {
                if (l.empty() || l.rfind("--", 0) == 0) continue;
                if (l.rfind("  ", 0) == 0 && !texts.empty()) texts.back() += "\n" + l;
                else texts.push_back(l);
            }
            for (const std::string &t : texts) {
                const auto c = testing::compile_error(t);
                EXPECT_FALSE(c.thrown) << "docs line " << b.line << ": " << t << "\n" << c.message;
                ++rules;
            }
        } else if (b.kind == "rule-error") {
            for (const auto &g : groups(b.lines)) {
                ASSERT_GE(g.size(), 2u) << "docs line " << b.line;
                std::string rule;
                for (std::size_t i = 0; i + 1 < g.size(); ++i) rule += (i ? "\n" : "") + g[i];
                const auto c = testing::compile_error(rule);
                EXPECT_TRUE(c.thrown) << "docs line " << b.line << ": " << rule;
                EXPECT_EQ(c.message, g.back()) << "docs line " << b.line;
                ++errors;
            }
        } else if (b.kind == "rule-eval") {
            for (const auto &g : groups(b.lines)) {
                const std::string rule = value_of(g, "rule"), context = value_of(g, "context");
                const std::string result = value_of(g, "result"), why = value_of(g, "reason"), error = value_of(g, "error");
                ASSERT_FALSE(rule.empty()) << "docs line " << b.line;
                const RulePtr r = compile(rule);
                const OwnedContextTree tree = OwnedContextTree::parse(context);
                Evaluator evaluator(tree.view(), testing::kNow);
                if (!error.empty()) {
                    try {
                        evaluator.evaluate(*r);
                        ADD_FAILURE() << "docs line " << b.line << ": no error for " << rule;
                    } catch (const Error &e) {
                        EXPECT_EQ(std::string(e.what()), error) << "docs line " << b.line;
                    }
                } else {
                    EXPECT_EQ(truth_name(evaluator.evaluate(*r)), result) << "docs line " << b.line << ": " << rule;
                    if (!why.empty()) {
                        EXPECT_EQ(evaluator.reason(*r), why) << "docs line " << b.line;
                    }
                }
                ++evals;
            }
        }
    }
    EXPECT_GE(rules, 10);
    EXPECT_GE(errors, 15);
    EXPECT_GE(evals, 20);
}

TEST(OfferRuleDocs, ExplainTableIsReal) {
    const auto steps = testing::explain(
        "customer.orders = 0 and (cart.total >= 30 GBP or not session.exit_intent) and customer.p_alive < 0.5",
        R"({"currency": "GBP", "customer": {"orders": 0}, "cart": {"total": 42.5}, "session": {"exit_intent": true}})");
    const std::string doc = read_doc();
    for (const ExplainStep &s : steps) {
        const std::string row = "| " + std::to_string(s.depth) + " | `" + s.condition + "` | " +
                                (s.value.empty() ? "" : "`" + s.value + "` ") + "| " + truth_name(s.result) + " |";
        EXPECT_NE(doc.find(row), std::string::npos) << "missing row: " << row;
    }
}

TEST(OfferRuleDocs, FieldTableEqualsTheCatalogue) {
    const std::string doc = read_doc();
    const std::size_t begin = doc.find("<!-- fields:begin -->"), end = doc.find("<!-- fields:end -->");
    ASSERT_NE(begin, std::string::npos);
    ASSERT_NE(end, std::string::npos);
    std::string expected = "\n| field | type | description |\n|---|---|---|\n";
    for (const FieldInfo &f : field_catalogue())
        expected += std::string("| `") + f.path + "` | " + f.type + " | " + f.description + " |\n";
    EXPECT_EQ(doc.substr(begin + 21, end - begin - 21), expected);
}

}  // namespace
}  // namespace personalize::rules

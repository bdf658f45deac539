// The customer context an offer rule is evaluated against, as a flat tree of
// JSON values. The PostgreSQL glue builds it from jsonb (palloc'd nodes whose
// strings point into the jsonb); unit tests, the fuzzer and the benchmarks
// parse JSON text into an OwnedContextTree. The evaluator never trusts a tree
// blindly: every index it follows is checked (a malformed tree is a
// DataCorrupted error, never a crash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace personalize {

// Contexts nest at most this deep (the root object is level 1); the glue
// applies the same limit when it converts jsonb.
constexpr int kMaxContextDepth = 32;

// One JSON value in depth-first order; a container's children follow it
// directly; `end` is the index one past its whole subtree (so siblings are
// found by jumping to `end`). Object members carry their key.
struct ContextNode {
    enum Kind : std::uint8_t { Null, False, True, Number, String, Array, Object };
    Kind kind;
    std::uint32_t end;    // index one past this node's subtree
    const char *key;      // object member: its key (not NUL-terminated), else nullptr
    std::uint32_t key_len;
    const char *str;      // String: the text (not NUL-terminated)
    std::uint32_t str_len;
    double number;        // Number
};

struct ContextTree {  // nodes[0] is the root; storage owned by the caller
    const ContextNode *nodes = nullptr;
    std::size_t size = 0;
};

// Parses JSON text (RFC 8259, UTF-8) into a tree it owns. Errors:
// InvalidText for bad JSON (with line and column) or a duplicate key,
// ProgramLimit for nesting deeper than kMaxContextDepth. Numbers too large
// for a double become +-infinity, as a float8 conversion would make them;
// the evaluator rejects them where a rule reads them.
class OwnedContextTree {
public:
    static OwnedContextTree parse(std::string_view json);

    OwnedContextTree() = default;
    OwnedContextTree(OwnedContextTree &&) noexcept = default;
    OwnedContextTree &operator=(OwnedContextTree &&) noexcept = default;
    OwnedContextTree(const OwnedContextTree &) = delete;
    OwnedContextTree &operator=(const OwnedContextTree &) = delete;

    ContextTree view() const { return ContextTree{nodes_.data(), nodes_.size()}; }
    std::size_t size() const { return nodes_.size(); }

private:
    friend class ContextParser;
    std::vector<ContextNode> nodes_;
    std::vector<char> text_;  // decoded keys and strings; a vector's buffer survives moves
};

}  // namespace personalize

// Walks the jsonb binary containers directly (the layout macros of
// utils/jsonb.h), which costs a fraction of JsonbIterator's per-container
// allocations; numbers are converted by jsonb_numeric without text.
#include "pg/rules/context_jsonb.hpp"

#include <cstdint>

#include "pg/common/jsonb_numeric.hpp"

namespace personalize::pg {

namespace {

struct Builder {
    ContextNode *nodes = nullptr;
    std::uint32_t size = 0, capacity = 0;

    std::uint32_t add(ContextNode::Kind kind, const char *key, std::uint32_t key_len) {
        if (size == capacity) {
            capacity = capacity == 0 ? 64 : capacity * 2;
            nodes = static_cast<ContextNode *>(nodes == nullptr ? palloc(sizeof(ContextNode) * capacity)
                                                                : repalloc(nodes, sizeof(ContextNode) * capacity));
        }
        ContextNode &n = nodes[size];
        n.kind = kind;
        n.end = size + 1;
        n.key = key;
        n.key_len = key != nullptr ? key_len : 0;
        n.str = nullptr;
        n.str_len = 0;
        n.number = 0.0;
        return size++;
    }
};

void add_container(Builder &b, const JsonbContainer *container, const char *key, std::uint32_t key_len, int depth);

// Child `i` of a container: its entry, and its data at base + offset.
void add_child(Builder &b, JEntry entry, const char *base, std::uint32_t offset, std::uint32_t length, const char *key,
               std::uint32_t key_len, int depth) {
    // add() may move the node array: index it only after adding.
    if (JBE_ISSTRING(entry)) {
        const std::uint32_t at = b.add(ContextNode::String, key, key_len);
        b.nodes[at].str = base + offset;
        b.nodes[at].str_len = length;
    } else if (JBE_ISNUMERIC(entry)) {
        const std::uint32_t at = b.add(ContextNode::Number, key, key_len);
        b.nodes[at].number = numeric_to_double(reinterpret_cast<Numeric>(const_cast<char *>(base + INTALIGN(offset))));
    } else if (JBE_ISBOOL_TRUE(entry)) {
        b.add(ContextNode::True, key, key_len);
    } else if (JBE_ISBOOL_FALSE(entry)) {
        b.add(ContextNode::False, key, key_len);
    } else if (JBE_ISNULL(entry)) {
        b.add(ContextNode::Null, key, key_len);
    } else {
        add_container(b, reinterpret_cast<const JsonbContainer *>(base + INTALIGN(offset)), key, key_len, depth + 1);
    }
}

void add_container(Builder &b, const JsonbContainer *container, const char *key, std::uint32_t key_len, int depth) {
    if (depth > kMaxContextDepth)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("context: JSON nested deeper than %d levels", kMaxContextDepth)));
    const std::uint32_t count = container->header & JB_CMASK;
    const bool object = (container->header & JB_FOBJECT) != 0;
    const std::uint32_t entries = object ? 2 * count : count;
    const char *base = reinterpret_cast<const char *>(&container->children[entries]);

    // Offsets of all entries in one pass (JEntries store a length, or every
    // JB_OFFSET_STRIDE-th an end offset).
    std::uint32_t small[64];
    std::uint32_t *offsets = entries + 1 <= 64 ? small : static_cast<std::uint32_t *>(palloc(sizeof(std::uint32_t) * (entries + 1)));
    std::uint32_t offset = 0;
    for (std::uint32_t i = 0; i < entries; ++i) {
        offsets[i] = offset;
        JBE_ADVANCE_OFFSET(offset, container->children[i]);
    }
    offsets[entries] = offset;

    if (container->header & JB_FSCALAR) {  // a bare scalar document: one element, no array
        add_child(b, container->children[0], base, offsets[0], offsets[1] - offsets[0], key, key_len, depth);
    } else {
        const std::uint32_t self = b.add(object ? ContextNode::Object : ContextNode::Array, key, key_len);
        for (std::uint32_t i = 0; i < count; ++i) {
            const std::uint32_t v = object ? count + i : i;
            const char *child_key = object ? base + offsets[i] : nullptr;
            const std::uint32_t child_key_len = object ? offsets[i + 1] - offsets[i] : 0;
            add_child(b, container->children[v], base, offsets[v], offsets[v + 1] - offsets[v], child_key, child_key_len,
                      depth);
        }
        b.nodes[self].end = b.size;
    }
    if (offsets != small) pfree(offsets);
}

}  // namespace

ContextTree jsonb_context_tree(Jsonb *value) {
    Builder b;
    add_container(b, &value->root, nullptr, 0, 1);
    ContextTree tree;
    tree.nodes = b.nodes;
    tree.size = b.size;
    return tree;
}

bool jsonb_is_object(Jsonb *value) { return JB_ROOT_IS_OBJECT(value); }

}  // namespace personalize::pg

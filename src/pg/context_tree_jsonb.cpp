#include "pg/context_tree_jsonb.hpp"

#include <cstdint>

namespace personalize::pg {

namespace {

struct Builder {
    ContextNode *nodes = nullptr;
    std::uint32_t size = 0, capacity = 0;
    std::uint32_t *open = nullptr;  // indices of the containers being filled
    std::uint32_t depth = 0, open_capacity = 0;

    ContextNode &add(ContextNode::Kind kind, const char *key, std::uint32_t key_len) {
        if (size == capacity) {
            capacity = capacity == 0 ? 32 : capacity * 2;
            nodes = static_cast<ContextNode *>(nodes == nullptr ? palloc(sizeof(ContextNode) * capacity)
                                                                : repalloc(nodes, sizeof(ContextNode) * capacity));
        }
        ContextNode &n = nodes[size];
        n.kind = kind;
        n.end = ++size;
        n.key = key;
        n.key_len = key != nullptr ? key_len : 0;
        n.str = nullptr;
        n.str_len = 0;
        n.number = 0.0;
        return n;
    }
    void push(ContextNode::Kind kind, const char *key, std::uint32_t key_len) {
        if (depth >= static_cast<std::uint32_t>(kMaxContextDepth))
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("context: JSON nested deeper than %d levels", kMaxContextDepth)));
        add(kind, key, key_len);
        if (depth == open_capacity) {
            open_capacity = open_capacity == 0 ? 16 : open_capacity * 2;
            open = static_cast<std::uint32_t *>(open == nullptr ? palloc(sizeof(std::uint32_t) * open_capacity)
                                                                : repalloc(open, sizeof(std::uint32_t) * open_capacity));
        }
        open[depth++] = size - 1;
    }
    void pop() {
        if (depth > 0) nodes[open[--depth]].end = size;
    }
};

void set_scalar(ContextNode &node, const JsonbValue &v) {
    switch (v.type) {
        case jbvNull: node.kind = ContextNode::Null; break;
        case jbvBool: node.kind = v.val.boolean ? ContextNode::True : ContextNode::False; break;
        case jbvString:
            node.kind = ContextNode::String;
            node.str = v.val.string.val;
            node.str_len = static_cast<std::uint32_t>(v.val.string.len);
            break;
        case jbvNumeric:
            node.kind = ContextNode::Number;
            node.number = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v.val.numeric)));
            break;
        default:
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("unexpected jsonb value type %d", v.type)));
    }
}

}  // namespace

ContextTree jsonb_context_tree(Jsonb *value) {
    Builder b;
    JsonbIterator *it = JsonbIteratorInit(&value->root);
    JsonbValue v;
    JsonbIteratorToken token;
    const char *key = nullptr;
    std::uint32_t key_len = 0;
    bool raw_scalar = false;
    while ((token = JsonbIteratorNext(&it, &v, false)) != WJB_DONE) {
        switch (token) {
            case WJB_BEGIN_ARRAY:
                // A bare scalar document is stored as a one-element "raw scalar" array.
                if (v.val.array.rawScalar) {
                    raw_scalar = true;
                    break;
                }
                b.push(ContextNode::Array, key, key_len);
                key = nullptr;
                break;
            case WJB_BEGIN_OBJECT:
                b.push(ContextNode::Object, key, key_len);
                key = nullptr;
                break;
            case WJB_KEY:
                key = v.val.string.val;
                key_len = static_cast<std::uint32_t>(v.val.string.len);
                break;
            case WJB_VALUE:
            case WJB_ELEM:
                set_scalar(b.add(ContextNode::Null, key, key_len), v);
                key = nullptr;
                break;
            case WJB_END_ARRAY:
                if (!(raw_scalar && b.depth == 0)) b.pop();
                break;
            case WJB_END_OBJECT:
                b.pop();
                break;
            default:
                break;
        }
    }
    ContextTree tree;
    tree.nodes = b.nodes;
    tree.size = b.size;
    return tree;
}

bool jsonb_is_object(Jsonb *value) { return JB_ROOT_IS_OBJECT(value); }

}  // namespace personalize::pg

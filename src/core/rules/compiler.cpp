#include "core/rules/compiler.hpp"

#include <algorithm>

#include "core/rules/fields.hpp"
#include "core/rules/limits.hpp"
#include "core/rules/text.hpp"

namespace personalize::rules::detail {

namespace {

std::uint64_t fnv1a(std::string_view s, std::uint8_t extra) {
    std::uint64_t h = 1469598103934665603ULL;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    h ^= extra;
    return h * 1099511628211ULL;
}

std::vector<std::string> split_path(const std::string &path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = path.find('.', start);
        out.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) return out;
        start = dot + 1;
    }
}

class Generator {
public:
    Generator(const Ast &ast, const std::vector<FieldUse> &fields) : ast_(ast), uses_(fields) {}

    Program run() {
        for (const FieldUse &u : uses_) {
            FieldRef f;
            f.path = u.path;
            f.segments = split_path(u.path);
            f.type = u.type;
            f.catalogue = u.catalogue;
            const std::string &ns = f.segments[0];
            f.ns = f.segments.size() < 2 ? -1 : ns == "customer" ? 0 : ns == "cart" ? 1 : ns == "session" ? 2 : -1;
            if (u.catalogue < 0 && f.ns >= 0 && f.segments.size() > 2)
                f.attribute = u.path.substr(f.segments[0].size() + std::string(".attributes.").size());
            f.hash = fnv1a(u.path, static_cast<std::uint8_t>(u.type));
            p_.fields.push_back(std::move(f));
        }
        ranges_.assign(ast_.nodes.size(), Range{});
        expr(ast_.root);
        if (depth_ != 1) throw Error(ErrorCode::Internal, "rule compiler: stack depth " + std::to_string(depth_) + " at the end");
        p_.max_stack = max_depth_;
        p_.logic.emplace_back();
        logic(ast_.root, 0);
        return std::move(p_);
    }

private:
    struct Range {
        std::uint32_t begin = 0, end = 0;  // the node's code without a list-to-length conversion
    };

    const Node &node(std::uint32_t id) const { return ast_.nodes[id]; }
    std::uint32_t here() const { return static_cast<std::uint32_t>(p_.code.size()); }

    // Emits an instruction whose net stack effect is `effect`.
    std::uint32_t emit(Op op, int effect, std::uint32_t arg = 0, std::uint8_t a = 0, std::uint16_t site = 0) {
        Instr in;
        in.op = op;
        in.a = a;
        in.site = site;
        in.arg = arg;
        p_.code.push_back(in);
        depth_ += effect;
        if (depth_ > static_cast<int>(max_depth_)) max_depth_ = static_cast<std::uint32_t>(depth_);
        if (max_depth_ > kStackSize)
            fail_at(ErrorCode::ProgramLimit, ast_.text, 0, "the rule is too complex to evaluate (it needs more than " +
                                                              std::to_string(kStackSize) + " stack slots)");
        return here() - 1;
    }

    std::uint32_t constant(const Slot &slot) {
        p_.constants.push_back(slot);
        return static_cast<std::uint32_t>(p_.constants.size() - 1);
    }
    static Slot known_slot() {
        Slot s{};
        s.known = true;
        return s;
    }

    // The type a node's value has on the stack (after conversions).
    Type value_type(std::uint32_t id) const {
        const Node &n = node(id);
        if (n.as_length) return Type::Number;
        if (n.as_time) return Type::Timestamp;
        return n.type;
    }

    std::uint16_t site(Site::Verb verb, std::uint32_t left_from, std::uint32_t left_to, std::uint32_t right) {
        Site s;
        s.verb = verb;
        // Message texts only: cut, so that a long chain of sums does not keep
        // a quadratic amount of text in the compiled rule.
        s.left = truncate_utf8(left_from == left_to ? ast_.source(node(left_from))
                                                    : ast_.source(node(left_from).outer_begin, node(left_to).outer_end),
                               80);
        s.right = truncate_utf8(ast_.source(node(right)), 80);
        s.left_literal = left_from == left_to && is_literal(ast_, left_from);
        s.right_literal = is_literal(ast_, right);
        s.offset = node(left_from).outer_begin;
        if (p_.sites.size() >= 65535) fail_at(ErrorCode::ProgramLimit, ast_.text, s.offset, "too many money operations in one rule");
        p_.sites.push_back(std::move(s));
        return static_cast<std::uint16_t>(p_.sites.size() - 1);
    }

    std::uint32_t list_constant(const Node &n) {
        ConstList c;
        c.type = n.list_type;
        c.currency = n.currency;
        c.size = static_cast<std::uint32_t>(n.items.size());
        for (const ListItem &it : n.items) {
            if (n.list_type == Type::TextList) c.texts.push_back(it.text);
            else c.numbers.push_back(it.number);
        }
        std::sort(c.numbers.begin(), c.numbers.end());
        c.numbers.erase(std::unique(c.numbers.begin(), c.numbers.end()), c.numbers.end());
        std::sort(c.texts.begin(), c.texts.end());
        c.texts.erase(std::unique(c.texts.begin(), c.texts.end()), c.texts.end());
        p_.lists.push_back(std::move(c));
        return static_cast<std::uint32_t>(p_.lists.size() - 1);
    }

    void expr(std::uint32_t id) {
        const Node &n = node(id);
        ranges_[id].begin = here();
        switch (n.kind) {
            case NodeKind::Number: {
                Slot s = known_slot();
                s.number = n.number;
                emit(Op::Const, 1, constant(s));
                break;
            }
            case NodeKind::Money: {
                Slot s = known_slot();
                s.number = n.number;
                s.currency = n.currency;
                emit(Op::Const, 1, constant(s));
                break;
            }
            case NodeKind::String: {
                Slot s = known_slot();
                if (n.as_time) {
                    s.time = n.time;
                    emit(Op::Const, 1, constant(s));
                } else {
                    s.text = TextRef{"", 0};
                    const std::uint32_t k = constant(s);
                    p_.text_constants.push_back(n.text);
                    p_.text_constant_slot.push_back(k);
                    emit(Op::Const, 1, k);
                }
                break;
            }
            case NodeKind::Bool: {
                Slot s = known_slot();
                s.truth = n.flag;
                emit(Op::Const, 1, constant(s));
                break;
            }
            case NodeKind::List: {
                Slot s = known_slot();
                s.list = nullptr;  // finalize() points it at the list
                const std::uint32_t k = constant(s);
                const std::uint32_t list = list_constant(n);
                p_.list_constants.emplace_back(k, list);
                emit(Op::Const, 1, k);
                break;
            }
            case NodeKind::Field:
                if (n.catalogue >= 0 && std::string_view(catalogue()[static_cast<std::size_t>(n.catalogue)].path) == "now")
                    emit(Op::Now, 1);
                else if (n.catalogue >= 0)  // a = 1: site is the catalogue slot (the VM's fast path)
                    emit(Op::Field, 1, static_cast<std::uint32_t>(n.field), 1, static_cast<std::uint16_t>(n.catalogue));
                else
                    emit(Op::Field, 1, static_cast<std::uint32_t>(n.field));
                break;
            case NodeKind::Neg:
                expr(n.children[0]);
                emit(value_type(n.children[0]) == Type::Money ? Op::NegMoney : Op::Neg, 0);
                break;
            case NodeKind::Not:
                expr(n.children[0]);
                emit(Op::Not, 0);
                break;
            case NodeKind::And:
            case NodeKind::Or: {
                const bool is_and = n.kind == NodeKind::And;
                std::vector<std::uint32_t> jumps;
                expr(n.children[0]);
                for (std::size_t i = 1; i < n.children.size(); ++i) {
                    jumps.push_back(emit(is_and ? Op::JumpIfFalse : Op::JumpIfTrue, 0));
                    expr(n.children[i]);
                    emit(is_and ? Op::And : Op::Or, -1);
                }
                for (const std::uint32_t j : jumps) p_.code[j].arg = here();
                break;
            }
            case NodeKind::Compare: compare(n); break;
            case NodeKind::In: {
                const std::uint32_t x = n.children[0];
                expr(x);
                const std::uint32_t list = list_constant(node(n.children[1]));
                const Type t = value_type(x);
                const Op op = t == Type::Number ? Op::InNumber : t == Type::Text ? Op::InText : Op::InMoney;
                const std::uint16_t s = op == Op::InMoney ? site(Site::Compare, x, x, n.children[1]) : 0;
                emit(op, 0, list, n.flag ? 1 : 0, s);
                break;
            }
            case NodeKind::IsNull:
                expr(n.children[0]);
                emit(Op::IsNull, 0, 0, n.flag ? 1 : 0);
                break;
            case NodeKind::Sum: {
                expr(n.children[0]);
                for (std::size_t i = 1; i < n.children.size(); ++i) {
                    expr(n.children[i]);
                    const bool add = n.ops[i - 1] == ArithOp::Add;
                    if (value_type(n.children[0]) == Type::Money)
                        emit(add ? Op::AddMoney : Op::SubMoney, -1, 0, 0,
                             site(add ? Site::Add : Site::Subtract, n.children[0], n.children[i - 1], n.children[i]));
                    else
                        emit(add ? Op::Add : Op::Sub, -1);
                }
                break;
            }
            case NodeKind::Product: {
                expr(n.children[0]);
                Type acc = value_type(n.children[0]);
                for (std::size_t i = 1; i < n.children.size(); ++i) {
                    expr(n.children[i]);
                    const Type t = value_type(n.children[i]);
                    if (n.ops[i - 1] == ArithOp::Mul) {
                        if (acc == Type::Money) emit(Op::MulMoneyNumber, -1);
                        else if (t == Type::Money) emit(Op::MulNumberMoney, -1), acc = Type::Money;
                        else emit(Op::Mul, -1);
                    } else {
                        if (acc == Type::Money && t == Type::Money)
                            emit(Op::DivMoneyMoney, -1, 0, 0, site(Site::Divide, n.children[0], n.children[i - 1], n.children[i])),
                                acc = Type::Number;
                        else if (acc == Type::Money) emit(Op::DivMoneyNumber, -1);
                        else emit(Op::Div, -1);
                    }
                }
                break;
            }
            case NodeKind::Call: call(n); break;
        }
        ranges_[id].end = here();
        if (n.as_length) emit(Op::Length, 0);
    }

    void compare(const Node &n) {
        const std::uint32_t l = n.children[0], r = n.children[1];
        expr(l);
        expr(r);
        const std::uint8_t op = static_cast<std::uint8_t>(n.cmp);
        switch (value_type(l)) {
            case Type::Number: emit(Op::CmpNumber, -1, 0, op); break;
            case Type::Money: emit(Op::CmpMoney, -1, 0, op, site(Site::Compare, l, l, r)); break;
            case Type::Text: emit(Op::CmpText, -1, 0, op); break;
            case Type::Timestamp: emit(Op::CmpTime, -1, 0, op); break;
            case Type::Bool: emit(Op::CmpBool, -1, 0, op); break;
            default:
                throw Error(ErrorCode::Internal, std::string("rule compiler: comparison of ") + type_name(value_type(l)));
        }
    }

    static Type element(Type a, Type b) {
        const Type e = element_of(a);
        return e != Type::Unknown ? e : element_of(b);
    }

    void call(const Node &n) {
        const std::vector<std::uint32_t> &args = n.children;
        const std::string &f = n.text;
        if (f == "coalesce") {
            expr(args[0]);
            const std::uint32_t jump = emit(Op::JumpIfKnown, -1);
            expr(args[1]);
            p_.code[jump].arg = here();
            return;
        }
        for (const std::uint32_t a : args) expr(a);
        if (f == "contains") {
            emit(value_type(args[1]) == Type::Text ? Op::ContainsText : Op::ContainsNumber, -1);
        } else if (f == "any_in" || f == "all_in") {
            const bool text = element(node(args[0]).type, node(args[1]).type) == Type::Text;
            const Op op = f == "any_in" ? (text ? Op::AnyInText : Op::AnyInNumber) : (text ? Op::AllInText : Op::AllInNumber);
            emit(op, -1);
        } else if (f == "count") {
            emit(Op::Length, 0);
        } else if (f == "days_since") {
            emit(Op::DaysSince, 0);
        } else if (f == "hours_since") {
            emit(Op::HoursSince, 0);
        } else if (f == "min" || f == "max") {
            const bool money = value_type(args[0]) == Type::Money;
            const bool is_min = f == "min";
            if (money)
                emit(is_min ? Op::MinMoney : Op::MaxMoney, -1, 0, 0, site(is_min ? Site::Min : Site::Max, args[0], args[0], args[1]));
            else
                emit(is_min ? Op::MinNumber : Op::MaxNumber, -1);
        } else if (f == "abs") {
            emit(value_type(args[0]) == Type::Money ? Op::AbsMoney : Op::AbsNumber, 0);
        } else {
            throw Error(ErrorCode::Internal, "rule compiler: unknown function " + f);
        }
    }

    // ---- the logic tree and operands for explain/reason ------------------------------------
    void collect_fields(std::uint32_t id, std::vector<std::uint32_t> &out) const {
        const Node &n = node(id);
        if (n.kind == NodeKind::Field && n.field >= 0) {
            const auto f = static_cast<std::uint32_t>(n.field);
            if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
        }
        for (const std::uint32_t c : n.children) collect_fields(c, out);
    }

    void operand(LogicNode &leaf, std::uint32_t id) {
        if (is_literal(ast_, id)) return;
        Operand o;
        o.text = ast_.source(node(id));
        o.code_begin = ranges_[id].begin;
        o.code_end = ranges_[id].end;
        o.type = node(id).as_time ? Type::Timestamp : node(id).type;
        collect_fields(id, o.fields);
        o.single_field = node(id).kind == NodeKind::Field;
        leaf.operands.push_back(std::move(o));
    }

    void logic(std::uint32_t id, std::uint32_t slot) {
        const Node &n = node(id);
        LogicNode ln;
        ln.code_begin = ranges_[id].begin;
        ln.code_end = ranges_[id].end;
        ln.text = ast_.source(n);
        switch (n.kind) {
            case NodeKind::And: ln.kind = LogicNode::And; break;
            case NodeKind::Or: ln.kind = LogicNode::Or; break;
            case NodeKind::Not: ln.kind = LogicNode::Not; break;
            default: ln.kind = LogicNode::Leaf; break;
        }
        if (ln.kind == LogicNode::Leaf) {
            switch (n.kind) {
                case NodeKind::Compare:
                case NodeKind::Call:
                    for (const std::uint32_t c : n.children) operand(ln, c);
                    break;
                case NodeKind::In:
                case NodeKind::IsNull: operand(ln, n.children[0]); break;
                case NodeKind::Field:
                    operand(ln, id);
                    ln.bare_field = true;
                    break;
                default: break;
            }
            p_.logic[slot] = std::move(ln);
            return;
        }
        p_.logic[slot] = std::move(ln);
        for (const std::uint32_t c : n.children) {
            const auto child_slot = static_cast<std::uint32_t>(p_.logic.size());
            p_.logic.emplace_back();
            p_.logic[slot].children.push_back(child_slot);
            logic(c, child_slot);
        }
    }

    const Ast &ast_;
    const std::vector<FieldUse> &uses_;
    Program p_;
    std::vector<Range> ranges_;
    int depth_ = 0;
    std::uint32_t max_depth_ = 0;
};

}  // namespace

Program generate(const Ast &ast, const std::vector<FieldUse> &fields) {
    return Generator(ast, fields).run();
}

void Program::finalize() {
    for (std::size_t k = 0; k < text_constants.size(); ++k) {
        Slot &s = constants[text_constant_slot[k]];
        s.text = TextRef{text_constants[k].data(), static_cast<std::uint32_t>(text_constants[k].size())};
    }
    for (ConstList &c : lists) {
        c.text_views.assign(c.texts.begin(), c.texts.end());
        c.data = ListData{};
        c.data.size = c.size;
        c.data.sorted_size = static_cast<std::uint32_t>(c.type == Type::TextList ? c.texts.size() : c.numbers.size());
        c.data.sorted_numbers = c.numbers.data();
        c.data.sorted_texts = c.text_views.data();
        c.data.from_context = false;
    }
    for (const auto &[slot, list] : list_constants) constants[slot].list = &lists[list].data;
}

}  // namespace personalize::rules::detail

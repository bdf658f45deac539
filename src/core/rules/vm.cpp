#include "core/rules/vm.hpp"

#include <cmath>

#include "core/common/error.hpp"
#include "core/rules/ast.hpp"
#include "core/rules/binding.hpp"
#include "core/rules/compiler.hpp"
#include "core/rules/lists.hpp"
#include "core/rules/money.hpp"
#include "core/rules/not_applicable.hpp"
#include "core/rules/text.hpp"
#include "core/rules/time.hpp"

namespace personalize::rules::detail {

namespace {

Slot unknown() {
    Slot s;
    s.number = 0;
    s.currency = 0;
    s.known = false;
    return s;
}
Slot boolean(bool b) {
    Slot s;
    s.truth = b;
    s.currency = 0;
    s.known = true;
    return s;
}
// A number result; not finite (overflow) is unknown.
Slot number(double v, Currency c = 0) {
    Slot s;
    s.number = v;
    s.currency = c;
    s.known = std::isfinite(v);
    return s;
}

template <typename T>
bool compare(CmpOp op, const T &a, const T &b) {
    switch (op) {
        case CmpOp::Eq: return a == b;
        case CmpOp::Ne: return !(a == b);
        case CmpOp::Lt: return a < b;
        case CmpOp::Le: return !(b < a);
        case CmpOp::Gt: return b < a;
        case CmpOp::Ge: return !(a < b);
    }
    return false;
}

[[noreturn]] void currency_mismatch(const Program &p, std::uint16_t site, Currency left, Currency right) {
    const Site &s = p.sites.at(site);
    const std::string l = s.left_literal ? s.left : s.left + " (" + currency_text(left) + ")";
    const std::string r = s.right_literal ? s.right : s.right + " (" + currency_text(right) + ")";
    std::string message;
    switch (s.verb) {
        case Site::Compare: message = "cannot compare " + l + " with " + r; break;
        case Site::Add: message = "cannot add " + l + " and " + r; break;
        case Site::Subtract: message = "cannot subtract " + r + " from " + l; break;
        case Site::Divide: message = "cannot divide " + l + " by " + r; break;
        case Site::Min: message = "cannot take the min of " + l + " and " + r; break;
        case Site::Max: message = "cannot take the max of " + l + " and " + r; break;
    }
    Position at = locate(p.text, s.offset);
    throw NotApplicable(ErrorCode::InvalidParameter, message,
                "at line " + std::to_string(at.line) + ", column " + std::to_string(at.column) + " of the rule",
                "Convert amounts to one currency when building the context, or write one offer per currency.");
}

double elapsed(std::int64_t now, std::int64_t t, std::int64_t unit, bool &ok) {
    ok = is_finite_time(now) && is_finite_time(t);
    if (!ok) return 0;
    std::int64_t d;
    if (__builtin_sub_overflow(now, t, &d)) return (static_cast<double>(now) - static_cast<double>(t)) / static_cast<double>(unit);
    // Whole units exactly, then the fraction.
    return static_cast<double>(d / unit) + static_cast<double>(d % unit) / static_cast<double>(unit);
}

}  // namespace

Slot run(EvalState &s, const Program &p, std::uint32_t begin, std::uint32_t end) {
    // An index, not a pointer walked down: GCC's object-size sanitizer
    // misreads pointers decremented into an array.
    Slot stack[kStackSize];
    std::size_t n = 0;
    const Instr *code = p.code.data();
    std::uint32_t pc = begin;
    while (pc < end) {
        const Instr &in = code[pc++];
        switch (in.op) {
            case Op::Const: stack[n++] = p.constants[in.arg]; break;
            case Op::Field:
                if (in.a && (s.bound >> in.site & 1)) stack[n++] = s.catalogue[in.site].value;
                else stack[n++] = bind_slow(s, p.fields[in.arg]).value;
                break;
            case Op::Now: {
                Slot v;
                v.time = resolve_now(s);
                v.currency = 0;
                v.known = true;
                stack[n++] = v;
                break;
            }
            case Op::JumpIfFalse:
                if (stack[n - 1].known && !stack[n - 1].truth) pc = in.arg;
                break;
            case Op::JumpIfTrue:
                if (stack[n - 1].known && stack[n - 1].truth) pc = in.arg;
                break;
            case Op::JumpIfKnown:
                if (stack[n - 1].known) pc = in.arg;
                else --n;
                break;
            case Op::And: {
                const Slot b = stack[--n];
                Slot &a = stack[n - 1];
                if ((a.known && !a.truth) || (b.known && !b.truth)) a = boolean(false);
                else if (a.known && b.known) a = boolean(true);
                else a = unknown();
                break;
            }
            case Op::Or: {
                const Slot b = stack[--n];
                Slot &a = stack[n - 1];
                if ((a.known && a.truth) || (b.known && b.truth)) a = boolean(true);
                else if (a.known && b.known) a = boolean(false);
                else a = unknown();
                break;
            }
            case Op::Not:
                if (stack[n - 1].known) stack[n - 1].truth = !stack[n - 1].truth;
                break;
            case Op::CmpNumber:
            case Op::CmpMoney:
            case Op::CmpText:
            case Op::CmpTime:
            case Op::CmpBool: {
                const Slot b = stack[--n];
                Slot &a = stack[n - 1];
                if (!a.known || !b.known) {
                    a = unknown();
                    break;
                }
                const auto op = static_cast<CmpOp>(in.a);
                bool r = false;
                switch (in.op) {
                    case Op::CmpNumber: r = compare(op, a.number, b.number); break;
                    case Op::CmpMoney:
                        if (a.currency != b.currency) currency_mismatch(p, in.site, a.currency, b.currency);
                        r = compare(op, a.number, b.number);
                        break;
                    case Op::CmpText: r = compare(op, a.text.view(), b.text.view()); break;
                    case Op::CmpTime: r = compare(op, a.time, b.time); break;
                    default: r = compare(op, a.truth, b.truth); break;
                }
                a = boolean(r);
                break;
            }
            case Op::Add:
            case Op::Sub:
            case Op::Mul:
            case Op::Div:
            case Op::AddMoney:
            case Op::SubMoney:
            case Op::MulMoneyNumber:
            case Op::MulNumberMoney:
            case Op::DivMoneyNumber:
            case Op::DivMoneyMoney:
            case Op::MinNumber:
            case Op::MaxNumber:
            case Op::MinMoney:
            case Op::MaxMoney: {
                const Slot b = stack[--n];
                Slot &a = stack[n - 1];
                if (!a.known || !b.known) {
                    a = unknown();
                    break;
                }
                switch (in.op) {
                    case Op::Add: a = number(a.number + b.number); break;
                    case Op::Sub: a = number(a.number - b.number); break;
                    case Op::Mul: a = number(a.number * b.number); break;
                    case Op::Div: a = b.number == 0 ? unknown() : number(a.number / b.number); break;
                    case Op::AddMoney:
                    case Op::SubMoney:
                        if (a.currency != b.currency) currency_mismatch(p, in.site, a.currency, b.currency);
                        a = number(in.op == Op::AddMoney ? a.number + b.number : a.number - b.number, a.currency);
                        break;
                    case Op::MulMoneyNumber: a = number(a.number * b.number, a.currency); break;
                    case Op::MulNumberMoney: a = number(a.number * b.number, b.currency); break;
                    case Op::DivMoneyNumber: a = b.number == 0 ? unknown() : number(a.number / b.number, a.currency); break;
                    case Op::DivMoneyMoney:
                        if (a.currency != b.currency) currency_mismatch(p, in.site, a.currency, b.currency);
                        a = b.number == 0 ? unknown() : number(a.number / b.number);
                        break;
                    case Op::MinNumber: a = number(b.number < a.number ? b.number : a.number); break;
                    case Op::MaxNumber: a = number(b.number > a.number ? b.number : a.number); break;
                    case Op::MinMoney:
                    case Op::MaxMoney: {
                        if (a.currency != b.currency) currency_mismatch(p, in.site, a.currency, b.currency);
                        const bool take_b = in.op == Op::MinMoney ? b.number < a.number : b.number > a.number;
                        a = number(take_b ? b.number : a.number, a.currency);
                        break;
                    }
                    default: break;
                }
                break;
            }
            case Op::Neg:
            case Op::NegMoney:
                if (stack[n - 1].known) stack[n - 1].number = -stack[n - 1].number;
                break;
            case Op::AbsNumber:
            case Op::AbsMoney:
                if (stack[n - 1].known) stack[n - 1].number = std::fabs(stack[n - 1].number);
                break;
            case Op::Length:
                if (stack[n - 1].known) stack[n - 1] = number(static_cast<double>(stack[n - 1].list->size));
                break;
            case Op::InNumber:
            case Op::InText:
            case Op::InMoney: {
                Slot &x = stack[n - 1];
                if (!x.known) break;
                const ConstList &list = p.lists[in.arg];
                bool found;
                if (in.op == Op::InText) {
                    found = list_has_text(s, list.data, x.text.view());
                } else {
                    if (in.op == Op::InMoney && list.size > 0 && x.currency != list.currency)
                        currency_mismatch(p, in.site, x.currency, list.currency);
                    found = list_has_number(s, list.data, x.number);
                }
                x = boolean(in.a ? !found : found);
                break;
            }
            case Op::IsNull: {
                const bool null = !stack[n - 1].known;
                stack[n - 1] = boolean(in.a ? !null : null);
                break;
            }
            case Op::ContainsNumber:
            case Op::ContainsText:
            case Op::AnyInNumber:
            case Op::AnyInText:
            case Op::AllInNumber:
            case Op::AllInText: {
                const Slot b = stack[--n];
                Slot &a = stack[n - 1];
                if (!a.known || !b.known) {
                    a = unknown();
                    break;
                }
                bool r = false;
                switch (in.op) {
                    case Op::ContainsNumber: r = list_has_number(s, *a.list, b.number); break;
                    case Op::ContainsText: r = list_has_text(s, *a.list, b.text.view()); break;
                    case Op::AnyInNumber: r = lists_any_in(s, *a.list, *b.list, false); break;
                    case Op::AnyInText: r = lists_any_in(s, *a.list, *b.list, true); break;
                    case Op::AllInNumber: r = lists_all_in(s, *a.list, *b.list, false); break;
                    default: r = lists_all_in(s, *a.list, *b.list, true); break;
                }
                a = boolean(r);
                break;
            }
            case Op::DaysSince:
            case Op::HoursSince: {
                Slot &t = stack[n - 1];
                if (!t.known) break;
                bool ok = false;
                const double v = elapsed(resolve_now(s), t.time, in.op == Op::DaysSince ? kMicrosPerDay : kMicrosPerHour, ok);
                t = ok ? number(v) : unknown();
                break;
            }
        }
    }
    if (n != 1) throw Error(ErrorCode::Internal, "rule evaluator: the program left " + std::to_string(n) + " values");
    return stack[0];
}

}  // namespace personalize::rules::detail

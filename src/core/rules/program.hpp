// The compiled form of a rule: postfix bytecode with typed opcodes, jump
// offsets for short-circuit and/or/coalesce, a constant pool, and a field
// table whose entries carry the pre-split path. Every subexpression's code is
// a contiguous range, which is how explain() and reason() evaluate single
// conditions and their operands. The logic tree (and/or/not over leaf
// conditions) and the operand texts are kept for those two as well.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/rules/types.hpp"
#include "core/rules/value.hpp"

namespace personalize::rules::detail {

enum class Op : std::uint8_t {
    Const,         // push constants[arg]
    Field,         // push fields[arg] (bound on first use); a = 1: site = its catalogue slot
    Now,           // push the evaluation time
    JumpIfFalse,   // and: if the top is false jump to arg, keeping it
    JumpIfTrue,    // or: if the top is true jump to arg, keeping it
    JumpIfKnown,   // coalesce: if the top is known jump to arg, keeping it; else pop it
    And, Or, Not,  // Kleene logic
    CmpNumber, CmpMoney, CmpText, CmpTime, CmpBool,  // a = CmpOp; CmpMoney: site = currency error text
    Add, Sub, Mul, Div, Neg,                         // numbers
    AddMoney, SubMoney, MulMoneyNumber, MulNumberMoney, DivMoneyNumber, DivMoneyMoney, NegMoney,
    Length,        // list -> number of items
    InNumber, InText, InMoney,  // arg = constant list; a = 1 for "not in"; site (money)
    IsNull,        // a = 1 for "is not null"
    ContainsNumber, ContainsText,
    AnyInNumber, AnyInText, AllInNumber, AllInText,
    DaysSince, HoursSince,
    MinNumber, MaxNumber, MinMoney, MaxMoney, AbsNumber, AbsMoney,
};

struct Instr {
    Op op;
    std::uint8_t a = 0;
    std::uint16_t site = 0;
    std::uint32_t arg = 0;
};

struct FieldRef {
    std::string path;
    std::vector<std::string> segments;  // path split at "."
    Type type;                          // Any: only tested with is [not] null
    int catalogue;                      // index in the catalogue, -1 for attributes
    int ns;                             // 0 customer, 1 cart, 2 session, -1 top level (now)
    std::string attribute;              // attributes: the path after "NS.attributes."
    std::uint64_t hash;                 // of path and type (attribute memo in the evaluator)
};

struct ConstList {
    Type type;
    Currency currency = 0;
    std::uint32_t size = 0;                      // items as written
    std::vector<double> numbers;                 // sorted, distinct
    std::vector<std::string> texts;              // sorted, distinct
    std::vector<std::string_view> text_views;    // into texts (finalize)
    ListData data{};                             // what slots point to (finalize)
};

// Where a runtime currency mismatch happened, for its message:
// "cannot compare cart.total (EUR) with 30 GBP".
struct Site {
    enum Verb : std::uint8_t { Compare, Add, Subtract, Divide, Min, Max };
    Verb verb = Compare;
    std::string left, right;
    bool left_literal = false, right_literal = false;
    std::uint32_t offset = 0;  // in the rule text
};

// A non-literal operand of a leaf condition, shown by explain/reason.
struct Operand {
    std::string text;
    std::uint32_t code_begin = 0, code_end = 0;
    Type type = Type::Unknown;
    std::vector<std::uint32_t> fields;  // indices into Program::fields read by it
    bool single_field = false;          // the operand is just that field
};

struct LogicNode {
    enum Kind : std::uint8_t { Leaf, And, Or, Not };
    Kind kind = Leaf;
    std::vector<std::uint32_t> children;  // indices into Program::logic
    std::uint32_t code_begin = 0, code_end = 0;
    std::string text;                     // the condition's source
    std::vector<Operand> operands;        // Leaf
    bool bare_field = false;              // Leaf that is a boolean field: reason shows no value
};

struct Program {
    std::string text;
    std::vector<Instr> code;
    std::vector<Slot> constants;
    std::vector<std::string> text_constants;        // kept for the slots' pointers
    std::vector<std::uint32_t> text_constant_slot;  // which constant each belongs to
    std::vector<ConstList> lists;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> list_constants;  // (constant slot, list) for finalize
    std::vector<FieldRef> fields;
    std::vector<Site> sites;
    std::vector<LogicNode> logic;  // logic[0] is the whole rule
    std::uint32_t max_stack = 0;

    // Points constant slots and lists at their storage. Called once the
    // program sits where it stays (inside its Rule).
    void finalize();
};

}  // namespace personalize::rules::detail

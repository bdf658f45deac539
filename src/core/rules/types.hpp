// The static types of the offer rule language and how messages name them.
#pragma once

#include <cstdint>

namespace personalize::rules::detail {

enum class Type : std::uint8_t {
    Unknown,     // not inferred (yet): an attribute field before its use decides
    Any,         // an attribute only tested with "is [not] null": any JSON value
    Bool,
    Number,      // double
    Money,       // double amount + ISO 4217 currency
    Text,        // UTF-8 bytes, compared in byte order
    Timestamp,   // microseconds since the Unix epoch, UTC
    NumberList,
    TextList,
    MoneyList,   // only a literal list on the right of "in"
    AnyList,     // an attribute list only counted, or the empty literal []
};

inline bool is_list(Type t) {
    return t == Type::NumberList || t == Type::TextList || t == Type::MoneyList || t == Type::AnyList;
}
inline bool is_concrete(Type t) { return t != Type::Unknown && t != Type::Any; }

// Element type of a list type (Unknown for AnyList), and the list of an element type.
inline Type element_of(Type list) {
    switch (list) {
        case Type::NumberList: return Type::Number;
        case Type::TextList: return Type::Text;
        case Type::MoneyList: return Type::Money;
        default: return Type::Unknown;
    }
}
inline Type list_of(Type element) {
    switch (element) {
        case Type::Number: return Type::NumberList;
        case Type::Text: return Type::TextList;
        case Type::Money: return Type::MoneyList;
        default: return Type::Unknown;
    }
}

// "number", "list of text", ... (the catalogue's and fields()' spelling).
inline const char *type_name(Type t) {
    switch (t) {
        case Type::Unknown: return "unknown";
        case Type::Any: return "any";
        case Type::Bool: return "bool";
        case Type::Number: return "number";
        case Type::Money: return "money";
        case Type::Text: return "text";
        case Type::Timestamp: return "timestamp";
        case Type::NumberList: return "list of numbers";
        case Type::TextList: return "list of text";
        case Type::MoneyList: return "list of amounts";
        case Type::AnyList: return "list";
    }
    return "unknown";
}

// "a number", "money", "a condition (true/false)", ... for sentences.
inline const char *type_phrase(Type t) {
    switch (t) {
        case Type::Unknown: return "a value of unknown type";
        case Type::Any: return "a value of any type";
        case Type::Bool: return "a condition (true/false)";
        case Type::Number: return "a number";
        case Type::Money: return "money";
        case Type::Text: return "text";
        case Type::Timestamp: return "a timestamp";
        case Type::NumberList: return "a list of numbers";
        case Type::TextList: return "a list of text";
        case Type::MoneyList: return "a list of amounts";
        case Type::AnyList: return "a list";
    }
    return "a value";
}

}  // namespace personalize::rules::detail

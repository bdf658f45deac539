// Checking the columns of a table a function reads by regclass: the column
// is there and of a type its query reads correctly, else an error naming the
// function, the argument, the table and the column. A Datum read as the
// wrong type is a wrong answer (a numeric read as bigint is a pointer), so
// every function reading a user's table checks here before it runs a query.
// PostgreSQL code: call outside cpp(...).
#pragma once

#include "pg/common/postgres.hpp"

namespace personalize::pg {

// The kinds of columns the queries read; each accepts the types its cast in
// the query converts exactly (a domain counts as its base type).
enum class ColumnKind {
    Integer,       // smallint, integer, bigint (ids; read as ::bigint)
    Number,        // the integers, real, double precision, numeric (scores; read as ::float8)
    Text,          // text, varchar, char, name
    Timestamp,     // timestamptz, timestamp, date
    Boolean,       // boolean
    BigintArray,   // bigint[] (antecedents of association_rules())
    Any,           // any type (read as ::text, exact for every type): only present
};

// A table argument of `function`: its id and quoted, schema-qualified name.
struct TableArgument {
    Oid relid;
    const char *function;
    const char *argument;
    const char *name;
};

// 42P01 when `relid` does not exist.
TableArgument table_argument(Oid relid, const char *function, const char *argument);

// Whether the table has `column` (not dropped).
bool has_column(const TableArgument &table, const char *column);

// 22023 unless the table has `column` of `kind`. `all_columns` (nullptr or
// a nullptr-terminated list) goes into the hint of a missing column.
void require_column(const TableArgument &table, const char *column, ColumnKind kind,
                    const char *const *all_columns = nullptr);

// An optional column: false when absent, 22023 when present with another kind.
bool optional_column(const TableArgument &table, const char *column, ColumnKind kind);

}  // namespace personalize::pg

#include "pg/common/relation_columns.hpp"

#include <cstring>

#include "pg/common/boundary.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "utils/lsyscache.h"
}

namespace personalize::pg {

namespace {

bool accepts(ColumnKind kind, Oid type) {
    switch (kind) {
        case ColumnKind::Integer:
            return type == INT2OID || type == INT4OID || type == INT8OID;
        case ColumnKind::Number:
            return type == INT2OID || type == INT4OID || type == INT8OID || type == FLOAT4OID || type == FLOAT8OID ||
                   type == NUMERICOID;
        case ColumnKind::Text:
            return type == TEXTOID || type == VARCHAROID || type == BPCHAROID || type == NAMEOID;
        case ColumnKind::Timestamp:
            return type == TIMESTAMPTZOID || type == TIMESTAMPOID || type == DATEOID;
        case ColumnKind::Boolean:
            return type == BOOLOID;
        case ColumnKind::BigintArray:
            return type == INT8ARRAYOID;
        case ColumnKind::Any:
            return true;
    }
    return false;
}

const char *kind_names(ColumnKind kind) {
    switch (kind) {
        case ColumnKind::Integer: return "smallint, integer or bigint";
        case ColumnKind::Number: return "a number (smallint, integer, bigint, real, double precision or numeric)";
        case ColumnKind::Text: return "text, varchar, char or name";
        case ColumnKind::Timestamp: return "timestamptz, timestamp or date";
        case ColumnKind::Boolean: return "boolean";
        case ColumnKind::BigintArray: return "bigint[]";
        case ColumnKind::Any: return "of any type";
    }
    return "?";
}

// The column's type (domains resolved), InvalidOid when there is no such column.
Oid column_type(const TableArgument &table, const char *column) {
    const AttrNumber attnum = get_attnum(table.relid, column);
    if (attnum == InvalidAttrNumber || attnum <= 0) return InvalidOid;
    return getBaseType(get_atttype(table.relid, attnum));
}

void check_kind(const TableArgument &table, const char *column, ColumnKind kind, Oid type) {
    if (accepts(kind, type)) return;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("%s: column %s of \"%s\" (%s) must be %s, not %s", table.function, column, table.argument,
                           table.name, kind_names(kind), format_type_be(type)),
                    errhint("A view can cast the column.")));
}

}  // namespace

TableArgument table_argument(Oid relid, const char *function, const char *argument) {
    const char *relname = get_rel_name(relid);
    if (relname == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("%s: \"%s\" (relation %u) does not exist", function, argument, relid)));
    return {relid, function, argument,
            quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), relname)};
}

bool has_column(const TableArgument &table, const char *column) {
    return column_type(table, column) != InvalidOid;
}

void require_column(const TableArgument &table, const char *column, ColumnKind kind, const char *const *all_columns) {
    const Oid type = column_type(table, column);
    if (type == InvalidOid) {
        StringInfoData list;
        initStringInfo(&list);
        for (const char *const *c = all_columns; c != nullptr && *c != nullptr; ++c)
            appendStringInfo(&list, "%s%s", c == all_columns ? "" : ", ", *c);
        if (all_columns == nullptr) appendStringInfoString(&list, column);
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: \"%s\" (%s) has no column %s", table.function, table.argument, table.name, column),
                        errhint("It needs the columns %s; a view can rename them.", list.data)));
    }
    check_kind(table, column, kind, type);
}

bool optional_column(const TableArgument &table, const char *column, ColumnKind kind) {
    const Oid type = column_type(table, column);
    if (type == InvalidOid) return false;
    check_kind(table, column, kind, type);
    return true;
}

}  // namespace personalize::pg

// require_column_types(rel regclass, cols text[], kinds text[], fn text, arg text):
// the same checks for the SQL-language functions (kinds: integer, number,
// text, timestamp, boolean, bigint[]); require_columns() has named the
// missing columns before.
extern "C" {
#include "utils/array.h"
}

namespace {

personalize::pg::ColumnKind kind_named(const char *name) {
    using personalize::pg::ColumnKind;
    static const struct {
        const char *name;
        ColumnKind kind;
    } kinds[] = {{"integer", ColumnKind::Integer},     {"number", ColumnKind::Number},
                 {"text", ColumnKind::Text},           {"timestamp", ColumnKind::Timestamp},
                 {"boolean", ColumnKind::Boolean},     {"bigint[]", ColumnKind::BigintArray},
                 {"any", ColumnKind::Any}};
    for (const auto &k : kinds)
        if (std::strcmp(k.name, name) == 0) return k.kind;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("require_column_types: unknown column kind \"%s\"", name)));
    return ColumnKind::Integer;
}

void text_items(ArrayType *array, Datum **items, int *n) {
    bool *nulls;
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, items, &nulls, n);
    for (int i = 0; i < *n; ++i)
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("require_column_types: the lists must not contain NULL")));
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_require_column_types) {
    const Oid relid = PG_GETARG_OID(0);
    Datum *columns, *kinds;
    int n_columns, n_kinds;
    text_items(PG_GETARG_ARRAYTYPE_P(1), &columns, &n_columns);
    text_items(PG_GETARG_ARRAYTYPE_P(2), &kinds, &n_kinds);
    if (n_columns != n_kinds)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("require_column_types: one kind per column is needed")));
    const personalize::pg::TableArgument table = personalize::pg::table_argument(
        relid, text_to_cstring(PG_GETARG_TEXT_PP(3)), text_to_cstring(PG_GETARG_TEXT_PP(4)));
    for (int i = 0; i < n_columns; ++i)
        personalize::pg::require_column(table, TextDatumGetCString(columns[i]), kind_named(TextDatumGetCString(kinds[i])));
    PG_RETURN_VOID();
}

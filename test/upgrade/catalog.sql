-- The catalog of the extension pg_personalize in this database, one fact a
-- line, "<object>: <fact>", sorted: two databases have the same extension
-- when their outputs are equal (test/upgrade/run.sh diffs them). Covers the
-- extension row (version, config dump list), its schema, and every member
-- (pg_depend deptype 'e'): functions and aggregates, types, tables with
-- their columns, constraints, indexes and triggers, views, sequences, with
-- owners, ACLs, initial privileges and comments. A member of a kind not
-- described here shows as "details not compared": extend this file then.
\pset format unaligned
\pset tuples_only on
\pset footer off
SET search_path = pg_catalog;  -- every name prints schema-qualified
-- Column options leave out pg_attver: Debian's 15.20 server stamps every
-- column with one, its value differing from table to table.

WITH ext AS (SELECT e.* FROM pg_extension e WHERE e.extname = 'pg_personalize'),
member AS (
    SELECT d.classid, d.objid FROM pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
fn AS (
    SELECT p.*, CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' WHEN 'w' THEN 'window function'
                               ELSE 'function' END || ' ' || p.oid::regprocedure AS object,
           l.lanname
    FROM pg_proc p JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    JOIN pg_language l ON l.oid = p.prolang),
typ AS (
    SELECT t.*, 'type ' || t.oid::regtype AS object
    FROM pg_type t JOIN member m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid),
rel AS (
    SELECT c.*, CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                               WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'
                               ELSE 'relation' END || ' ' || c.oid::regclass AS object
    FROM pg_class c JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid),
facts(object, n, fact) AS (
    -- The extension and its schema.
    SELECT 'extension pg_personalize', 1, format('version %s, schema %s, relocatable %s', extversion,
                                                 extnamespace::regnamespace, extrelocatable)
    FROM ext
    UNION ALL SELECT 'extension pg_personalize', 2, 'comment ' || coalesce(obj_description(oid, 'pg_extension'), '-')
    FROM ext
    UNION ALL SELECT 'extension pg_personalize', 3, format('dumps %s %s', c::regclass, coalesce(nullif(w, ''), '(every row)'))
    FROM ext, unnest(extconfig, extcondition) u(c, w)
    UNION ALL SELECT 'schema ' || nspname, 1, format('owner %s, acl %s, comment %s', nspowner::regrole,
                                                      coalesce(nspacl::text, '-'),
                                                      coalesce(obj_description(oid, 'pg_namespace'), '-'))
    FROM pg_namespace WHERE oid = (SELECT extnamespace FROM ext)
    -- Which objects are members.
    UNION ALL SELECT 'members', 1, pg_describe_object(classid, objid, 0) FROM member
    UNION ALL SELECT 'members', 2, format('details not compared: %s (catalog.sql does not know %s)',
                                          pg_describe_object(classid, objid, 0), classid::regclass)
    FROM member WHERE classid NOT IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_class'::regclass)
    -- Functions and aggregates.
    UNION ALL SELECT object, 1, 'arguments ' || pg_get_function_arguments(oid) FROM fn
    UNION ALL SELECT object, 2, 'returns ' || coalesce(pg_get_function_result(oid), '-') FROM fn
    UNION ALL SELECT object, 3, 'language ' || lanname FROM fn
    UNION ALL SELECT object, 4, CASE provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END
                                || CASE WHEN proisstrict THEN ' strict' ELSE ' called on null input' END
                                || CASE proparallel WHEN 's' THEN ' parallel safe' WHEN 'r' THEN ' parallel restricted'
                                                    ELSE ' parallel unsafe' END
                                || CASE WHEN prosecdef THEN ' security definer' ELSE ' security invoker' END
                                || CASE WHEN proleakproof THEN ' leakproof' ELSE '' END FROM fn
    UNION ALL SELECT object, 5, format('cost %s, rows %s', procost, prorows) FROM fn
    UNION ALL SELECT object, 6, 'set ' || array_to_string(proconfig, ', ') FROM fn WHERE proconfig IS NOT NULL
    UNION ALL SELECT object, 7, 'support ' || prosupport::regprocedure FROM fn WHERE prosupport <> 0
    UNION ALL SELECT object, 8, format('owner %s, acl %s', proowner::regrole, coalesce(proacl::text, '-')) FROM fn
    UNION ALL SELECT object, 9, 'comment ' || coalesce(obj_description(oid, 'pg_proc'), '-') FROM fn
    UNION ALL SELECT object, 10, format('C symbol %s in %s', prosrc, probin) FROM fn WHERE lanname IN ('c', 'internal')
    UNION ALL SELECT object, 11, format('body %s: %s', lpad(b.n::text, 3, '0'), b.line)
    FROM fn, regexp_split_to_table(coalesce(pg_get_function_sqlbody(oid), prosrc), E'\n') WITH ORDINALITY b(line, n)
    WHERE lanname NOT IN ('c', 'internal')
    UNION ALL SELECT fn.object, 12, concat_ws(', ',
                         'kind ' || a.aggkind::text, 'direct arguments ' || a.aggnumdirectargs,
                         'transition ' || a.aggtransfn::regprocedure, 'final ' || a.aggfinalfn::regprocedure,
                         'combine ' || a.aggcombinefn::regprocedure, 'serial ' || a.aggserialfn::regprocedure,
                         'deserial ' || a.aggdeserialfn::regprocedure,
                         'moving transition ' || a.aggmtransfn::regprocedure,
                         'moving inverse ' || a.aggminvtransfn::regprocedure,
                         'moving final ' || a.aggmfinalfn::regprocedure,
                         'final extra ' || a.aggfinalextra, 'moving final extra ' || a.aggmfinalextra,
                         'final modify ' || a.aggfinalmodify::text, 'moving final modify ' || a.aggmfinalmodify::text,
                         'sort operator ' || nullif(a.aggsortop, 0)::regoperator,
                         'state ' || format_type(a.aggtranstype, NULL), 'state space ' || a.aggtransspace,
                         'moving state ' || format_type(nullif(a.aggmtranstype, 0), NULL),
                         'moving state space ' || a.aggmtransspace,
                         'initial ' || a.agginitval, 'moving initial ' || a.aggminitval)
    FROM fn JOIN pg_aggregate a ON a.aggfnoid = fn.oid
    -- Types.
    UNION ALL SELECT object, 1, concat_ws(', ', 'kind ' || typtype::text, 'length ' || typlen, 'by value ' || typbyval,
                                          'category ' || typcategory::text, 'preferred ' || typispreferred,
                                          'delimiter ' || typdelim::text, 'alignment ' || typalign::text,
                                          'storage ' || typstorage::text, 'not null ' || typnotnull,
                                          'base ' || format_type(nullif(typbasetype, 0), NULL), 'typmod ' || typtypmod,
                                          'dimensions ' || typndims, 'collation ' || nullif(typcollation, 0)::regcollation,
                                          'default ' || typdefault,
                                          'element ' || format_type(nullif(typelem, 0), NULL),
                                          'array ' || format_type(nullif(typarray, 0), NULL))
    FROM typ
    UNION ALL SELECT object, 2, concat_ws(', ', 'input ' || typinput::regprocedure, 'output ' || typoutput::regprocedure,
                                          'receive ' || typreceive::regprocedure, 'send ' || typsend::regprocedure,
                                          'typmod in ' || typmodin::regprocedure,
                                          'typmod out ' || typmodout::regprocedure,
                                          'analyze ' || typanalyze::regprocedure,
                                          'subscript ' || typsubscript::regprocedure)
    FROM typ
    UNION ALL SELECT object, 3, format('owner %s, acl %s', typowner::regrole, coalesce(typacl::text, '-')) FROM typ
    UNION ALL SELECT object, 4, 'comment ' || coalesce(obj_description(oid, 'pg_type'), '-') FROM typ
    UNION ALL SELECT typ.object, 5, format('attribute %s %s %s%s', row_number() OVER (PARTITION BY typ.oid ORDER BY a.attnum),
                                           a.attname, format_type(a.atttypid, a.atttypmod),
                                           ' collate ' || nullif(a.attcollation, 0)::regcollation)
    FROM typ JOIN pg_attribute a ON a.attrelid = typ.typrelid AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL SELECT typ.object, 6, format('label %s %s', e.enumsortorder, e.enumlabel)
    FROM typ JOIN pg_enum e ON e.enumtypid = typ.oid
    UNION ALL SELECT typ.object, 7, format('constraint %s: %s', c.conname, pg_get_constraintdef(c.oid))
    FROM typ JOIN pg_constraint c ON c.contypid = typ.oid
    -- Tables, views, sequences.
    UNION ALL SELECT object, 1, concat_ws(', ', 'persistence ' || relpersistence::text, 'options ' || reloptions::text,
                                          'row security ' || relrowsecurity, 'forced row security ' || relforcerowsecurity,
                                          'replica identity ' || relreplident::text,
                                          'access method ' || (SELECT amname FROM pg_am WHERE oid = relam))
    FROM rel
    UNION ALL SELECT object, 2, format('owner %s, acl %s', relowner::regrole, coalesce(relacl::text, '-')) FROM rel
    UNION ALL SELECT object, 3, 'comment ' || coalesce(obj_description(oid, 'pg_class'), '-') FROM rel
    UNION ALL SELECT rel.object, 4, concat_ws(' ', 'column', row_number() OVER (PARTITION BY rel.oid ORDER BY a.attnum),
                                              a.attname, format_type(a.atttypid, a.atttypmod),
                                              CASE WHEN a.attnotnull THEN 'not null' END,
                                              'default ' || pg_get_expr(d.adbin, d.adrelid),
                                              CASE a.attidentity WHEN 'a' THEN 'generated always as identity'
                                                                 WHEN 'd' THEN 'generated by default as identity' END,
                                              CASE WHEN a.attgenerated = 's' THEN 'generated stored' END,
                                              'collate ' || nullif(a.attcollation, (SELECT typcollation FROM pg_type
                                                                                   WHERE oid = a.atttypid))::regcollation,
                                              'storage ' || nullif(a.attstorage, (SELECT typstorage FROM pg_type
                                                                                 WHERE oid = a.atttypid))::text,
                                              'options ' || (SELECT array_agg(o)::text FROM unnest(a.attoptions) o WHERE o !~ '^pg_attver='), 'acl ' || a.attacl::text,
                                              'comment ' || col_description(rel.oid, a.attnum))
    FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE rel.relkind <> 'S'
    UNION ALL SELECT rel.object, 5, format('constraint %s: %s%s', c.conname, pg_get_constraintdef(c.oid),
                                           ', comment ' || obj_description(c.oid, 'pg_constraint'))
    FROM rel JOIN pg_constraint c ON c.conrelid = rel.oid
    UNION ALL SELECT rel.object, 6, format('index %s%s', pg_get_indexdef(i.indexrelid),
                                           ', comment ' || obj_description(i.indexrelid, 'pg_class'))
    FROM rel JOIN pg_index i ON i.indrelid = rel.oid
    UNION ALL SELECT rel.object, 7, format('trigger %s', pg_get_triggerdef(t.oid))
    FROM rel JOIN pg_trigger t ON t.tgrelid = rel.oid AND NOT t.tgisinternal
    UNION ALL SELECT rel.object, 8, format('policy %s: %s for %s to %s using %s with check %s', p.polname,
                                           CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END, p.polcmd,
                                           p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid),
                                           pg_get_expr(p.polwithcheck, p.polrelid))
    FROM rel JOIN pg_policy p ON p.polrelid = rel.oid
    UNION ALL SELECT rel.object, 9, format('rule %s', pg_get_ruledef(r.oid))
    FROM rel JOIN pg_rewrite r ON r.ev_class = rel.oid WHERE r.rulename <> '_RETURN'
    UNION ALL SELECT rel.object, 10, format('definition %s: %s', lpad(v.n::text, 3, '0'), v.line)
    FROM rel, regexp_split_to_table(pg_get_viewdef(rel.oid), E'\n') WITH ORDINALITY v(line, n)
    WHERE rel.relkind IN ('v', 'm')
    UNION ALL SELECT rel.object, 11, format('sequence %s start %s increment %s min %s max %s cache %s%s',
                                            format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
                                            s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END)
    FROM rel JOIN pg_sequence s ON s.seqrelid = rel.oid
    UNION ALL SELECT rel.object, 12, format('owned by %s (%s)', pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid),
                                            CASE d.deptype WHEN 'i' THEN 'identity' ELSE 'owned' END)
    FROM rel JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = rel.oid AND d.deptype IN ('a', 'i')
                             AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
    WHERE rel.relkind = 'S'
    -- Initial privileges (what pg_dump takes as the extension's own grants).
    UNION ALL SELECT pg_describe_object(ip.classoid, ip.objoid, ip.objsubid), 20,
                     format('initial privileges (%s) %s', ip.privtype, ip.initprivs)
    FROM pg_init_privs ip JOIN member m ON m.classid = ip.classoid AND m.objid = ip.objoid
)
SELECT object || ': ' || fact FROM facts WHERE fact IS NOT NULL ORDER BY object, n, fact;

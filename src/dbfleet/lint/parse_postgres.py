"""PostgreSQL statements -> lint operations, through pglast (libpg_query, the server's parser)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pglast.ast
import pglast.enums
from pglast import parse_sql
from pglast.parser import ParseError, parse_plpgsql_json, parse_sql_json

from dbfleet.lint.ops import Column, Op, TypeFamily
from dbfleet.lint.parsers import Parsed, SyntaxProblem

_FAMILIES: dict[str, TypeFamily] = {
    "int2": "int16", "smallint": "int16", "int4": "int32", "int": "int32", "integer": "int32",
    "int8": "int64", "bigint": "int64", "serial": "serial32", "serial4": "serial32",
    "smallserial": "serial16", "serial2": "serial16", "bigserial": "serial64",
    "serial8": "serial64",
    "varchar": "varchar", "bpchar": "char", "char": "char", "timestamp": "timestamp",
    "timestamptz": "timestamptz", "text": "text",
}  # fmt: skip
# Defaults PostgreSQL evaluates once for ALTER TABLE ADD COLUMN (no table rewrite since v11).
_NON_VOLATILE_FUNCTIONS = frozenset(
    [
        "now",
        "transaction_timestamp",
        "statement_timestamp",
        "current_date",
        "current_timestamp",
        "lower",
        "upper",
        "to_timestamp",
        "to_date",
        "make_date",
        "make_timestamp",
        "make_timestamptz",
        "jsonb_build_object",
        "json_build_object",
        "array_length",
        "coalesce",
    ]
)
# pglast's node classes type every field as optional; the parser guarantees what each
# statement kind carries, so the trees are read untyped.
ast: Any = pglast.ast
enums: Any = pglast.enums
AT = enums.AlterTableType
OT = enums.ObjectType
CT = enums.ConstrType


def _name(rel: Any) -> str:
    return str(rel.relname)


def _loc(node: Any, default: int = 0) -> int:
    value = getattr(node, "location", None)
    return value if isinstance(value, int) and value >= 0 else default


def _type(type_name: Any) -> tuple[TypeFamily, int | None]:
    if type_name is None or not type_name.names:
        return "other", None
    last = str(type_name.names[-1].sval).lower()
    family = _FAMILIES.get(last, "other")
    length = None
    if family in ("varchar", "char") and type_name.typmods:
        first = type_name.typmods[0]
        val = getattr(first, "val", None)
        length = getattr(val, "ival", None)
    return family, length


def _volatile(expr: Any) -> bool:
    """True when `expr` may give another value per row (a table rewrite when used as default)."""
    for node in _walk(expr):
        if isinstance(node, ast.FuncCall):
            name = str(node.funcname[-1].sval).lower()
            if name not in _NON_VOLATILE_FUNCTIONS:
                return True
    return False


def _walk(node: Any) -> Iterator[Any]:
    if isinstance(node, tuple | list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for attr in node:
            yield from _walk(getattr(node, attr))


def _column(col: Any) -> Column:
    family, length = _type(col.typeName)
    not_null = bool(col.is_not_null)
    has_default = volatile = stored = pk = identity = False
    for con in col.constraints or ():
        kind = con.contype
        if kind == CT.CONSTR_NOTNULL:
            not_null = True
        elif kind == CT.CONSTR_DEFAULT:
            has_default = True
            volatile = _volatile(con.raw_expr)
        elif kind == CT.CONSTR_GENERATED:
            stored = True
            has_default = True
        elif kind == CT.CONSTR_IDENTITY:
            identity = has_default = True
        elif kind == CT.CONSTR_PRIMARY:
            pk = not_null = True
    if family.startswith("serial"):
        has_default = True
    return Column(
        name=str(col.colname),
        family=family,
        length=length,
        not_null=not_null,
        has_default=has_default,
        volatile_default=volatile,
        stored_generated=stored,
        primary_key=pk,
        identity=identity,
        offset=_loc(col.typeName, _loc(col)),
    )


_CONSTRAINT_KINDS = {
    CT.CONSTR_FOREIGN: "foreign_key",
    CT.CONSTR_CHECK: "check",
    CT.CONSTR_UNIQUE: "unique",
    CT.CONSTR_PRIMARY: "primary_key",
    CT.CONSTR_EXCLUSION: "exclusion",
}


def _alter_table(stmt: Any) -> Iterator[Op]:
    table = _name(stmt.relation)
    at = _loc(stmt.relation)
    if stmt.objtype != OT.OBJECT_TABLE:
        yield Op("other", table=table, offset=at)
        return
    for cmd in stmt.cmds or ():
        sub = cmd.subtype
        if sub == AT.AT_AddColumn:
            col = _column(cmd.def_)
            yield Op(
                "add_column",
                table=table,
                name=col.name,
                column=col,
                offset=col.offset,
                if_not_exists=bool(cmd.missing_ok),
            )
        elif sub == AT.AT_DropColumn:
            yield Op(
                "drop_column",
                table=table,
                name=str(cmd.name),
                offset=at,
                if_exists=bool(cmd.missing_ok),
            )
        elif sub == AT.AT_AlterColumnType:
            col = _column(cmd.def_)
            yield Op(
                "alter_column_type",
                table=table,
                name=str(cmd.name),
                column=Column(str(cmd.name), col.family, col.length),
                offset=col.offset or at,
            )
        elif sub == AT.AT_SetNotNull:
            yield Op("set_not_null", table=table, name=str(cmd.name), offset=at)
        elif sub == AT.AT_DropNotNull:
            yield Op("drop_not_null", table=table, name=str(cmd.name), offset=at)
        elif sub == AT.AT_DetachPartition:
            yield Op(
                "detach_partition",
                table=table,
                name=_name(cmd.def_.name),
                offset=at,
                concurrent=bool(cmd.def_.concurrent),
            )
        elif sub in (AT.AT_AddConstraint,):
            con = cmd.def_
            yield Op(
                "add_constraint",
                table=table,
                name=str(con.conname) if con.conname else None,
                constraint=_CONSTRAINT_KINDS.get(con.contype, "other"),
                not_valid=bool(con.skip_validation),
                using_index=bool(con.indexname),
                offset=_loc(con, at),
            )
        else:
            yield Op("other", table=table, offset=at)


def _ops(stmt: Any) -> Iterator[Op]:
    if isinstance(stmt, ast.CreateStmt):
        cols = tuple(_column(e) for e in stmt.tableElts or () if isinstance(e, ast.ColumnDef))
        table_pk = any(
            isinstance(e, ast.Constraint) and e.contype == CT.CONSTR_PRIMARY
            for e in stmt.tableElts or ()
        )
        yield Op(
            "create_table",
            table=_name(stmt.relation),
            offset=_loc(stmt.relation),
            columns=cols,
            has_primary_key=table_pk or any(c.primary_key for c in cols),
            if_not_exists=bool(stmt.if_not_exists),
            temporary=stmt.relation.relpersistence == "t",
        )
    elif isinstance(stmt, ast.CreateTableAsStmt):
        kind = "create_table" if stmt.objtype == OT.OBJECT_TABLE else "create_other"
        yield Op(
            kind,
            table=_name(stmt.into.rel),
            offset=_loc(stmt.into.rel),
            has_primary_key=True,
            if_not_exists=bool(stmt.if_not_exists),
            object_kind="materialized view",
        )
    elif isinstance(stmt, ast.IndexStmt):
        yield Op(
            "create_index",
            table=_name(stmt.relation),
            name=stmt.idxname,
            offset=_loc(stmt.relation),
            concurrent=bool(stmt.concurrent),
            if_not_exists=bool(stmt.if_not_exists),
            unique=bool(stmt.unique),
        )
    elif isinstance(stmt, ast.DropStmt):
        yield from _drop(stmt)
    elif isinstance(stmt, ast.DropdbStmt):
        yield Op("drop_database", name=str(stmt.dbname))
    elif isinstance(stmt, ast.RenameStmt):
        if stmt.renameType == OT.OBJECT_TABLE:
            yield Op(
                "rename_table",
                table=_name(stmt.relation),
                new_name=str(stmt.newname),
                offset=_loc(stmt.relation),
            )
        elif stmt.renameType == OT.OBJECT_COLUMN and stmt.relationType == OT.OBJECT_TABLE:
            yield Op(
                "rename_column",
                table=_name(stmt.relation),
                name=str(stmt.subname),
                new_name=str(stmt.newname),
                offset=_loc(stmt.relation),
            )
        else:
            yield Op("other")
    elif isinstance(stmt, ast.AlterTableStmt):
        yield from _alter_table(stmt)
    elif isinstance(stmt, ast.TruncateStmt):
        tables = tuple(_name(r) for r in stmt.relations)
        yield Op(
            "truncate",
            table=tables[0],
            tables=tables,
            offset=_loc(stmt.relations[0]),
            cascade=stmt.behavior == enums.DropBehavior.DROP_CASCADE,
        )
    elif isinstance(stmt, ast.DeleteStmt | ast.UpdateStmt):
        yield Op(
            "delete" if isinstance(stmt, ast.DeleteStmt) else "update",
            table=_name(stmt.relation),
            offset=_loc(stmt.relation),
            has_where=stmt.whereClause is not None,
        )
    elif isinstance(stmt, ast.VacuumStmt):
        options = {str(o.defname).lower() for o in stmt.options or ()}
        yield Op("vacuum_full" if stmt.is_vacuumcmd and "full" in options else "other")
    elif isinstance(stmt, ast.ClusterStmt):
        yield Op("cluster", table=_name(stmt.relation) if stmt.relation else None)
    elif isinstance(stmt, ast.ReindexStmt):
        options = {str(o.defname).lower() for o in stmt.params or ()}
        yield Op(
            "reindex",
            table=_name(stmt.relation) if stmt.relation else None,
            concurrent="concurrently" in options,
        )
    elif isinstance(stmt, ast.LockStmt):
        yield Op("lock_table", table=_name(stmt.relations[0]), offset=_loc(stmt.relations[0]))
    elif isinstance(stmt, ast.TransactionStmt):
        tk = enums.TransactionStmtKind
        if stmt.kind in (tk.TRANS_STMT_BEGIN, tk.TRANS_STMT_START):
            yield Op("begin")
        elif stmt.kind in (tk.TRANS_STMT_COMMIT, tk.TRANS_STMT_COMMIT_PREPARED):
            yield Op("commit")
        elif stmt.kind in (tk.TRANS_STMT_ROLLBACK, tk.TRANS_STMT_ROLLBACK_PREPARED):
            yield Op("rollback")
        else:
            yield Op("other")
    elif isinstance(stmt, ast.VariableSetStmt):
        yield Op("set", setting=str(stmt.name or "").lower())
    elif isinstance(stmt, ast.CreateDomainStmt):
        checks = [c for c in stmt.constraints or () if c.contype == CT.CONSTR_CHECK]
        yield Op("create_domain_constraint" if checks else "create_other", object_kind="domain")
    elif isinstance(stmt, ast.AlterDomainStmt):
        yield Op("alter_domain_add_constraint" if stmt.subtype == "C" else "other")
    elif isinstance(stmt, ast.ViewStmt):
        nodes = list(_walk(stmt.query))
        tables = tuple(sorted({_name(n) for n in nodes if isinstance(n, ast.RangeVar)}))
        # The column names the view reads ("*" reads all of them: PostgreSQL expands it when
        # the view is created, so every column then present becomes a dependency).
        columns = {"*" for n in nodes if isinstance(n, ast.A_Star)} | {
            str(n.fields[-1].sval)
            for n in nodes
            if isinstance(n, ast.ColumnRef) and isinstance(n.fields[-1], ast.String)
        }
        yield Op(
            "create_view",
            table=_name(stmt.view),
            tables=tables,
            or_replace=stmt.replace,
            offset=_loc(stmt.view),
            extra=tuple(("column", c) for c in sorted(columns)),
        )
    elif isinstance(stmt, ast.CreateFunctionStmt | ast.CreateTrigStmt):
        yield Op("create_other", or_replace=bool(stmt.replace), object_kind="routine")
    elif isinstance(stmt, ast.CreateSeqStmt | ast.CreateSchemaStmt | ast.CreateExtensionStmt):
        yield Op("create_other", if_not_exists=bool(stmt.if_not_exists), object_kind="object")
    elif isinstance(stmt, ast.AlterEnumStmt):
        if stmt.newVal is not None and stmt.oldVal is None:
            yield Op("add_enum_value", name=str(stmt.newVal), has_where=bool(stmt.newValNeighbor))
        else:
            yield Op("other")
    elif isinstance(stmt, ast.CompositeTypeStmt | ast.CreateEnumStmt):
        yield Op("create_other", object_kind="type")
    else:
        yield Op("other")


def _drop(stmt: Any) -> Iterator[Op]:
    kind = stmt.removeType
    cascade = stmt.behavior == enums.DropBehavior.DROP_CASCADE
    for obj in stmt.objects or ():
        parts = [str(p.sval) for p in obj] if isinstance(obj, tuple | list) else []
        if isinstance(obj, ast.String):
            parts = [str(obj.sval)]
        name = parts[-1] if parts else None
        if kind == OT.OBJECT_TABLE:
            yield Op("drop_table", table=name, cascade=cascade, if_exists=bool(stmt.missing_ok))
        elif kind == OT.OBJECT_INDEX:
            yield Op(
                "drop_index",
                name=name,
                concurrent=bool(stmt.concurrent),
                if_exists=bool(stmt.missing_ok),
            )
        elif kind == OT.OBJECT_SCHEMA:
            yield Op("drop_schema", name=name, cascade=cascade)
        else:
            yield Op(
                "drop_other",
                name=name,
                if_exists=bool(stmt.missing_ok),
                object_kind=kind.name.removeprefix("OBJECT_").lower(),
            )


_NAMEDATALEN = 63


def _long_names(text: str, op: Op, raw: Any) -> Op:
    """The names PostgreSQL truncated to 63 bytes, read back from the source at the positions
    the parser gives (the tree only holds the truncated name)."""
    found = []
    spots = [(raw.relation, raw.relation.relname)] if isinstance(raw, ast.CreateStmt) else []
    elements = raw.tableElts if isinstance(raw, ast.CreateStmt) else ()
    spots += [(e, e.colname) for e in elements or () if isinstance(e, ast.ColumnDef)]
    for node, name in spots:
        if len(str(name).encode()) < _NAMEDATALEN:
            continue
        start = _loc(node, -1)
        if start < 0:
            continue
        end = start
        while end < len(text) and (text[end].isalnum() or text[end] in "_$"):
            end += 1
        if len(text[start:end].encode()) > _NAMEDATALEN:
            found.append(("long_name", text[start:end]))
    if not found:
        return op
    from dataclasses import replace

    return replace(op, extra=op.extra + tuple(found))


def _body_problem(text: str, stmt: Any) -> SyntaxProblem | None:
    """A syntax error in a function's body, which the server checks at CREATE time.

    SQL bodies go through the same parser; PL/pgSQL bodies through libpg_query's PL/pgSQL
    parser (which gives no position: the error points at the token it names, if found)."""
    options = {str(o.defname).lower(): o.arg for o in stmt.options or ()}
    language = options.get("language")
    language = str(language.sval).lower() if language is not None else "sql"
    body = options.get("as")
    source = str(body[0].sval) if isinstance(body, tuple) and body else None
    if source is None:
        return None
    try:
        if language == "sql":
            parse_sql(source)
        elif language == "plpgsql":
            parse_plpgsql_json(text)
    except ParseError as exc:
        message = str(exc.args[0])
        base = text.find(source)
        if language == "sql" and len(exc.args) > 1 and isinstance(exc.args[1], int):
            offset = exc.args[1] if "end of input" not in message else len(source.rstrip())
            return SyntaxProblem(f"in the function body: {message}", max(base, 0) + offset)
        near = message.split('"')[1] if message.count('"') >= 2 else None
        at = text.find(near, max(base, 0)) if near else -1
        return SyntaxProblem(f"in the function body: {message}", at if at >= 0 else 0)
    return None


# Statements no rule looks into. Most of a data migration is these, and building pglast's node
# objects is most of the parse time, so they are only parsed to JSON (4x faster).
_OPAQUE = frozenset({"InsertStmt", "SelectStmt", "CommentStmt", "GrantStmt", "DoStmt"})


class PostgresParser:
    def parse(self, text: str) -> Parsed:
        try:
            kinds = {next(iter(s["stmt"])) for s in json.loads(parse_sql_json(text))["stmts"]}
            if kinds <= _OPAQUE:
                return Parsed((Op("data"),))
            raws = parse_sql(text)
        except ParseError as exc:
            offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            if "end of input" in str(exc.args[0]):
                offset = len(text.rstrip())
            return Parsed(problem=SyntaxProblem(str(exc.args[0]), max(offset, 0)))
        # Node locations count from the start of `text`, whatever statement they are in.
        for raw in raws:
            if isinstance(raw.stmt, ast.CreateFunctionStmt):
                problem = _body_problem(text, raw.stmt)
                if problem is not None:
                    return Parsed(problem=problem)
        ops = []
        for raw in raws:
            for op in _ops(raw.stmt):
                ops.append(_long_names(text, op, raw.stmt) if op.kind == "create_table" else op)
        return Parsed(tuple(ops))


def parser(engine: str) -> PostgresParser:
    return PostgresParser()

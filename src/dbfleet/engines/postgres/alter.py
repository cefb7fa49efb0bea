"""PostgreSQL: the changes (and their SQL and hazards) that turn one schema model into another.

Alters in place wherever PostgreSQL can; drops and recreates what it cannot, together with the
objects that depend on it (from pg_depend), so that the script runs without CASCADE.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from dataclasses import replace

from dbfleet.diff.change import Change, Hazard, Options, Step
from dbfleet.diff.pair import by_name, by_qualified_name, pair_up
from dbfleet.engines.postgres import render as r
from dbfleet.engines.postgres.inspect import relation_key, routine_key, type_key
from dbfleet.schema.model import (
    Column,
    Constraint,
    HasAttrs,
    Index,
    Model,
    Policy,
    Privilege,
    Routine,
    Sequence,
    Table,
    Trigger,
    UserType,
    View,
    attr,
    without_attrs,
)

q = r.q
Graph = dict[str, set[str]]


def _signed_name(x: Routine) -> tuple[str, str, str]:
    """A routine's key: its name and signature (overloads share a name)."""
    return (x.schema, x.name, x.signature)


def _same_column(a: Column, b: Column) -> bool:
    """Equal, ignoring whether it is inherited (see _alter_columns)."""
    return without_attrs(a, "inherited") == without_attrs(b, "inherited")


def _same(a: HasAttrs, b: HasAttrs) -> bool:
    """Equal, ignoring the dependencies the catalog derives (not part of a definition)."""
    return a == b or without_attrs(a, "depends_on") == without_attrs(b, "depends_on")


# --- keys and the dependency graph ---------------------------------------------------------------


def schema_key(name: str) -> str:
    return f"schema:{name}"


def _sub(table_key: str, kind: str, name: str) -> str:
    return f"{table_key}/{kind}:{name}"


def _index_key(schema: str, name: str) -> str:
    return relation_key(schema, name)  # indexes share the relation namespace


def graph(model: Model) -> Graph:
    """Which object (or sub-object) needs which, by key."""
    out: Graph = {}
    extensions = {f"ext:{e.name}" for e in model.extensions}

    def put(key: str, schema: str, deps: Iterable[str]) -> set[str]:
        out[key] = {schema_key(schema), *deps, *extensions}
        return out[key]

    for e in model.extensions:
        out[f"ext:{e.name}"] = {schema_key(e.schema)}
    for u in model.types:
        put(type_key(u.schema, u.name), u.schema, attr(u.attrs, "depends_on", ()))
    for s in model.sequences:
        deps = set(attr(s.attrs, "depends_on", ()))
        put(relation_key(s.schema, s.name), s.schema, deps)
    for rt in model.routines:
        put(
            routine_key(rt.schema, rt.name, rt.signature),
            rt.schema,
            attr(rt.attrs, "depends_on", ()),
        )
    providers = {(t.schema, t.name): _key_providers(t) for t in model.tables}
    sequences = {relation_key(s.schema, s.name) for s in model.sequences}
    for t in model.tables:
        key = relation_key(t.schema, t.name)
        # A foreign key is a change of its own: the table itself does not need what it references.
        referenced = {relation_key(*k.references[:2]) for k in t.constraints if k.references}
        own = set(attr(t.attrs, "depends_on", ())) - referenced
        deps = put(key, t.schema, own | set(_parents_of(t)))
        # What columns, checks, indexes and triggers may use: types, functions, sequences.
        usable = {d for d in deps if not d.startswith("rel:") or d in sequences}
        for c in t.columns:
            out[_sub(key, "col", c.name)] = set(usable)
        for k in t.constraints:
            needs = usable | {_sub(key, "col", c) for c in k.columns}
            if k.references:
                ref_schema, ref_table, ref_columns = k.references
                ref_key = relation_key(ref_schema, ref_table)
                needs.add(ref_key)
                needs |= {_sub(ref_key, "col", c) for c in ref_columns}
                found = providers.get((ref_schema, ref_table), {})
                needs |= found.get(frozenset(ref_columns), set())
            out[_sub(key, "con", k.name)] = needs
        for i in t.indexes:
            out[_index_key(t.schema, i.name)] = usable | {_sub(key, "col", c) for c in i.columns}
        for tr in t.triggers:
            out[_sub(key, "trg", tr.name)] = set(usable)
        for p in t.policies:
            out[_sub(key, "pol", p.name)] = set(deps)
    for v in model.views:
        key = relation_key(v.schema, v.name)
        deps = put(key, v.schema, attr(v.attrs, "depends_on", ()))
        for i in v.indexes:
            out[_index_key(v.schema, i.name)] = set(deps)
        for tr in v.triggers:
            out[_sub(key, "trg", tr.name)] = set(deps)
    return out


def _key_providers(table: Table) -> dict[frozenset[str], set[str]]:
    """Per column set: the primary key, unique constraints and unique indexes over it (what a
    foreign key to those columns relies on)."""
    key = relation_key(table.schema, table.name)
    found: dict[frozenset[str], set[str]] = {}
    for k in table.constraints:
        if k.kind in ("primary key", "unique"):
            found.setdefault(frozenset(k.columns), set()).add(_sub(key, "con", k.name))
    for i in table.indexes:
        if i.unique:
            found.setdefault(frozenset(i.columns), set()).add(_index_key(table.schema, i.name))
    return found


# --- hazards -----------------------------------------------------------------------------------


def _h(code: str, message: str) -> Hazard:
    return Hazard(code, message)


_VOLATILE = re.compile(
    r"\b(random|clock_timestamp|gen_random_uuid|uuid_generate_v\d\w*|nextval|timeofday|"
    r"statement_timestamp|txid_current|setseed)\s*\(",
    re.IGNORECASE,
)


def _type_parts(text: str) -> tuple[str, tuple[int, ...], bool]:
    """(base type, modifiers, is array) of a type as format_type prints it."""
    array = text.endswith("[]")
    text = text.removesuffix("[]")
    match = re.fullmatch(r"(.*?)(?:\(([\d, ]+)\))?((?: with(?:out)? time zone)?)", text)
    if not match:
        return text, (), array
    base = (match[1] + match[3]).strip()
    mods = tuple(int(x) for x in match[2].split(",")) if match[2] else ()
    return base, mods, array


_INT_SIZE = {"smallint": 2, "integer": 4, "bigint": 8}
_TEXTUAL = {"character varying", "text", "character"}


def _type_change(old: str, new: str) -> tuple[bool, bool, bool]:
    """(rewrites the table, may lose data, needs a USING cast) for a column type change."""
    ob, om, oa = _type_parts(old)
    nb, nm, na = _type_parts(new)
    if oa != na:
        return True, False, True
    if ob == nb:
        if ob in ("character varying", "bit varying"):
            widening = not nm or (om and nm[0] >= om[0])
            return False, not widening, False
        if ob == "numeric":
            if not nm:
                return False, False, False
            if om and nm[1:] == om[1:] and nm[0] >= om[0]:
                return False, False, False
            return True, True, False
        if ob in (
            "timestamp without time zone",
            "timestamp with time zone",
            "time without time zone",
        ):
            return False, bool(om and nm and nm[0] < om[0]), False
        return True, om != nm, False
    if ob == "character varying" and nb == "text":
        return False, False, False
    if ob == "text" and nb == "character varying":
        return False, bool(nm), False
    if ob in _INT_SIZE and nb in _INT_SIZE:
        return True, _INT_SIZE[nb] < _INT_SIZE[ob], False
    if ob in _TEXTUAL and nb in _TEXTUAL:
        return True, True, False
    return True, True, True


# --- the planner ---------------------------------------------------------------------------------


class Planner:
    """Compares two PostgreSQL models and produces unordered changes."""

    def __init__(self, a: Model, b: Model, options: Options) -> None:
        self.a, self.b, self.options = a, b, options
        self.graph_a, self.graph_b = graph(a), graph(b)
        self.changes: list[Change] = []
        # Objects (keys) that are dropped and created again; their dependants follow them.
        self.recreated: set[str] = set()
        self.handled_columns: set[str] = set()  # columns an enum rebuild already converts
        self.table_renames, self.column_renames = self._renames()

    # entry point
    def plan(self) -> list[Change]:
        self._schemas()
        self._extensions()
        self._types()
        self._sequences()
        self._routines()
        self._tables()
        self._views()
        self._recreate_dependants()
        if self.a.grants or self.b.grants:
            self._privileges(self.a.grants, self.b.grants, "grant")
        if self.a.owners or self.b.owners:
            self._privileges(self.a.owners, self.b.owners, "owner")
        return self.changes

    def add(
        self, action: str, kind: str, name: str, key: str, steps: Iterable[Step | str], **kw: object
    ) -> None:
        built = tuple(s if isinstance(s, Step) else Step(s) for s in steps)
        if built or action != "alter":
            self.changes.append(Change(action, kind, name, key, built, **kw))  # type: ignore[arg-type]

    # renames ------------------------------------------------------------------------------------

    def _renames(self) -> tuple[dict[str, str], dict[tuple[str, str], dict[str, str]]]:
        """--rename old=new: {"s.old": "new"} for tables, {(s, t): {old: new}} for columns."""
        tables: dict[str, str] = {}
        columns: dict[tuple[str, str], dict[str, str]] = {}
        known = {f"{t.schema}.{t.name}" for t in self.a.tables}
        for old, new in self.options.renames:
            parts = old.split(".")
            if len(parts) == 1:
                parts = ["public", *parts]
            if len(parts) == 2 and ".".join(parts) in known:
                tables[".".join(parts)] = new
            elif len(parts) == 2 and f"public.{parts[0]}" in known:
                columns.setdefault(("public", parts[0]), {})[parts[1]] = new
            elif len(parts) == 3:
                columns.setdefault((parts[0], parts[1]), {})[parts[2]] = new
            else:
                from dbfleet.errors import DbfleetError

                raise DbfleetError(
                    f"--rename {old}={new}: no table or column {old} in the old schema",
                    hint="name a table as schema.table and a column as schema.table.column",
                )
        return tables, columns

    # schemas and extensions ---------------------------------------------------------------------

    def _schemas(self) -> None:
        schemas = pair_up(self.a.schemas, self.b.schemas, by_name)
        for s in schemas.dropped:
            self.add(
                "drop",
                "schema",
                s.name,
                schema_key(s.name),
                [f"DROP SCHEMA {q(s.name)};"],
                before=s,
                hazards=(_h("data_loss", f"drops schema {s.name}"),),
            )
        for s in schemas.added:
            self.add(
                "create",
                "schema",
                s.name,
                schema_key(s.name),
                [f"CREATE SCHEMA {q(s.name)};", *r.comment_sql(f"SCHEMA {q(s.name)}", s.comment)],
                after=s,
            )
        for a, b in schemas.kept:
            if a.comment != b.comment:
                self.add(
                    "alter",
                    "schema",
                    b.name,
                    schema_key(b.name),
                    self._comment(f"SCHEMA {q(b.name)}", b.comment),
                    before=a,
                    after=b,
                )

    def _comment(self, target: str, text: str | None) -> list[str]:
        return r.comment_sql(target, text) or [f"COMMENT ON {target} IS NULL;"]

    def _extensions(self) -> None:
        extensions = pair_up(self.a.extensions, self.b.extensions, by_name)
        for e in extensions.dropped:
            self.add(
                "drop",
                "extension",
                e.name,
                f"ext:{e.name}",
                [f"DROP EXTENSION {q(e.name)};"],
                before=e,
                hazards=(_h("data_loss", f"drops extension {e.name} and what it created"),),
            )
        for e in extensions.added:
            self.add(
                "create",
                "extension",
                e.name,
                f"ext:{e.name}",
                [
                    f"CREATE EXTENSION {q(e.name)} WITH SCHEMA {q(e.schema)} "
                    f"VERSION {r.literal(e.version)};"
                ],
                after=e,
            )
        for a, b in extensions.kept:
            name = b.name
            steps: list[Step | str] = []
            if a.schema != b.schema:
                steps.append(f"ALTER EXTENSION {q(name)} SET SCHEMA {q(b.schema)};")
            if a.version != b.version:
                steps.append(
                    Step(
                        f"ALTER EXTENSION {q(name)} UPDATE TO {r.literal(b.version)};",
                        (
                            _h("extension_upgrade", f"{name} {a.version} -> {b.version}"),
                            *_downgrade(name, a.version, b.version),
                        ),
                    )
                )
            self.add("alter", "extension", name, f"ext:{name}", steps, before=a, after=b)

    # types ----------------------------------------------------------------------------------------

    def _types(self) -> None:
        types = pair_up(self.a.types, self.b.types, by_qualified_name, same=_same)
        for t in types.dropped:
            self.add(
                "drop",
                "type",
                f"{t.schema}.{t.name}",
                type_key(t.schema, t.name),
                [f"DROP {r.type_target(t)};"],
                before=t,
            )
        for t in types.added:
            self._create_type(t)
        for a, b in types.kept:
            if a.definition == b.definition and a.labels == b.labels:
                self.add(
                    "alter",
                    "type",
                    f"{b.schema}.{b.name}",
                    type_key(b.schema, b.name),
                    self._comment(r.type_target(b), b.comment),
                    before=a,
                    after=b,
                )
            elif a.kind == b.kind == "enum":
                self._alter_enum(a, b)
            elif a.kind == b.kind and a.kind in ("domain", "composite"):
                in_place = self._alter_domain if a.kind == "domain" else self._alter_composite
                if in_place(a, b):
                    continue
                self._rebuild_type(
                    a,
                    b,
                    [
                        _h(
                            "rebuild",
                            f"{a.kind} {b.schema}.{b.name} is rebuilt; columns "
                            "using it are converted through text",
                        )
                    ],
                )
            else:
                self._recreate_type(a, b)

    def _create_type(self, t: UserType) -> None:
        self.add(
            "create",
            "type",
            f"{t.schema}.{t.name}",
            type_key(t.schema, t.name),
            self._type_statements(t),
            after=t,
        )

    def _recreate_type(self, a: UserType, b: UserType) -> None:
        key = type_key(a.schema, a.name)
        users = self._columns_using(self.a, a)
        hazards: tuple[Hazard, ...] = ()
        if users:
            hazards = (
                _h(
                    "unsupported",
                    f"type {a.schema}.{a.name} is used by "
                    f"{', '.join(users)}: change those columns to another type first",
                ),
            )
        self.add(
            "drop",
            "type",
            f"{a.schema}.{a.name}",
            key,
            [f"DROP {r.type_target(a)};"],
            before=a,
            hazards=hazards,
        )
        self._create_type(b)
        self.recreated.add(key)

    def _columns_using(self, model: Model, t: UserType) -> list[str]:
        names = {t.name, f"{t.schema}.{t.name}", r.qualified(t.schema, t.name), q(t.name)}
        return [
            f"{tb.schema}.{tb.name}.{c.name}"
            for tb in model.tables
            for c in tb.columns
            if c.type.removesuffix("[]") in names
        ]

    def _alter_enum(self, a: UserType, b: UserType) -> None:
        name = r.qualified(b.schema, b.name)
        key = type_key(b.schema, b.name)
        old, new = list(a.labels), list(b.labels)
        kept = [x for x in new if x in old]
        if kept == old:  # only additions: ADD VALUE in place
            steps: list[Step | str] = []
            for i, label in enumerate(new):
                if label in old:
                    continue
                after = next((new[j] for j in range(i - 1, -1, -1) if new[j] in old or j < i), None)
                where = (
                    f" AFTER {r.literal(after)}"
                    if after is not None
                    else (f" BEFORE {r.literal(new[i + 1])}" if i + 1 < len(new) else "")
                )
                steps.append(f"ALTER TYPE {name} ADD VALUE {r.literal(label)}{where};")
            if a.comment != b.comment:
                steps += self._comment(r.type_target(b), b.comment)
            self.add("alter", "type", f"{b.schema}.{b.name}", key, steps, before=a, after=b)
            return
        # Values removed or reordered: build the new type beside the old one, move the columns.
        removed = [x for x in old if x not in new]
        hazards = [
            _h("rebuild", f"enum {b.schema}.{b.name} is rebuilt; columns using it are converted")
        ]
        if removed:
            hazards.append(
                _h("data_loss", f"rows holding {', '.join(removed)} make the conversion fail")
            )
        self._rebuild_type(a, b, hazards)

    def _rebuild_type(self, a: UserType, b: UserType, hazards: list[Hazard]) -> None:
        """The type dance: rename the old type aside, create the new one, convert every column
        using it through text, drop the old one. Views and routines using it follow."""
        name = r.qualified(b.schema, b.name)
        key = type_key(b.schema, b.name)
        temp = f"{b.name}__dbfleet_old"
        self.recreated.add(key)  # routines and views using the type follow it
        kind = "DOMAIN" if a.kind == "domain" else "TYPE"
        self.add(
            "alter",
            "type",
            f"{b.schema}.{b.name}",
            key,
            [
                f"ALTER {kind} {name} RENAME TO {q(temp)};",
                *self._type_statements(b),
            ],
            before=a,
            after=b,
            hazards=tuple(hazards),
        )
        moved = []
        for table in self.a.tables:
            tkey = relation_key(table.schema, table.name)
            target = self.b.table(table.schema, table.name)
            for c in table.columns:
                if not _uses_type(c.type, a) or target is None:
                    continue
                after_col = target.column(c.name)
                if after_col is None:
                    continue
                array = "[]" if c.type.endswith("[]") else ""
                cast = f"{q(c.name)}::text{array}::{after_col.type}"
                tname = r.qualified(table.schema, table.name)
                steps2: list[Step | str] = []
                if c.default is not None:
                    steps2.append(f"ALTER TABLE {tname} ALTER COLUMN {q(c.name)} DROP DEFAULT;")
                steps2.append(
                    Step(
                        f"ALTER TABLE {tname} ALTER COLUMN {q(c.name)} "
                        f"TYPE {after_col.type} USING {cast};",
                        (_h("table_rewrite", f"rewrites {table.schema}.{table.name}"),),
                    )
                )
                if after_col.default is not None:
                    steps2.append(
                        f"ALTER TABLE {tname} ALTER COLUMN {q(c.name)} "
                        f"SET DEFAULT {after_col.default};"
                    )
                ckey = _sub(tkey, "col", c.name)
                self.add(
                    "alter",
                    "column",
                    f"{table.schema}.{table.name}.{c.name}",
                    ckey,
                    steps2,
                    parent=tkey,
                    before=c,
                    after=after_col,
                    runs_after=(key,),
                )
                moved.append(ckey)
                self.recreated.add(tkey + "#shape")
        self.add(
            "alter",
            "type",
            f"{b.schema}.{temp}",
            f"type:{b.schema}.{temp}",
            [f"DROP {kind} {r.qualified(b.schema, temp)};"],
            runs_after=(key, *moved),
        )
        self.handled_columns.update(moved)

    def _type_statements(self, t: UserType) -> list[str]:
        out = [t.definition + ";", *r.comment_sql(r.type_target(t), t.comment)]
        out += [
            f"ALTER DOMAIN {r.qualified(t.schema, t.name)} ADD {c};"
            for c in attr(t.attrs, "unvalidated", ())
        ]
        return out

    def _alter_domain(self, a: UserType, b: UserType) -> bool:
        """Default, NOT NULL and constraints of a domain in place; False when its base changes."""
        if (attr(a.attrs, "base_type"), attr(a.attrs, "collation")) != (
            attr(b.attrs, "base_type"),
            attr(b.attrs, "collation"),
        ) or attr(b.attrs, "base_type") is None:
            return False
        name = f"ALTER DOMAIN {r.qualified(b.schema, b.name)}"
        steps: list[Step | str] = []
        if attr(a.attrs, "default") != attr(b.attrs, "default"):
            value = attr(b.attrs, "default")
            steps.append(f"{name} SET DEFAULT {value};" if value else f"{name} DROP DEFAULT;")
        old = dict(attr(a.attrs, "constraints", ()))
        new = dict(attr(b.attrs, "constraints", ()))
        for k in sorted(old):
            if old[k] != new.get(k):
                steps.append(f"{name} DROP CONSTRAINT {q(k)};")
        if attr(a.attrs, "not_null") != attr(b.attrs, "not_null"):
            if attr(b.attrs, "not_null"):
                steps.append(
                    Step(
                        f"{name} SET NOT NULL;", (_h("full_scan", "checks every column using it"),)
                    )
                )
            else:
                steps.append(f"{name} DROP NOT NULL;")
        for k in sorted(new):
            if new[k] != old.get(k):
                steps.append(
                    Step(
                        f"{name} ADD CONSTRAINT {q(k)} {new[k]};",
                        (_h("full_scan", "checks every column using the domain"),),
                    )
                )
        if a.comment != b.comment:
            steps += self._comment(r.type_target(b), b.comment)
        self.add(
            "alter",
            "type",
            f"{b.schema}.{b.name}",
            type_key(b.schema, b.name),
            steps,
            before=a,
            after=b,
        )
        return True

    def _alter_composite(self, a: UserType, b: UserType) -> bool:
        """Attributes added at the end or dropped, in place; False for anything else."""
        old = list(attr(a.attrs, "attributes", ()))
        new = list(attr(b.attrs, "attributes", ()))
        kept = [x for x in old if x in new]
        if not new or new[: len(kept)] != kept:
            return False
        name = f"ALTER TYPE {r.qualified(b.schema, b.name)}"
        steps: list[Step | str] = []
        for x in old:
            if x not in new:
                steps.append(
                    Step(
                        f"{name} DROP ATTRIBUTE {x.split(' ', 1)[0]} CASCADE;",
                        (_h("data_loss", f"drops {x.split(' ', 1)[0]} from every stored value"),),
                    )
                )
        for x in new[len(kept) :]:
            steps.append(f"{name} ADD ATTRIBUTE {x} CASCADE;")
        if a.comment != b.comment:
            steps += self._comment(r.type_target(b), b.comment)
        self.add(
            "alter",
            "type",
            f"{b.schema}.{b.name}",
            type_key(b.schema, b.name),
            steps,
            before=a,
            after=b,
        )
        return True

    # sequences ----------------------------------------------------------------------------------

    def _sequences(self) -> None:
        sequences = pair_up(self.a.sequences, self.b.sequences, by_qualified_name, same=_same)
        for s in sequences.dropped:
            self.add(
                "drop",
                "sequence",
                f"{s.schema}.{s.name}",
                relation_key(s.schema, s.name),
                [f"DROP SEQUENCE {r.qualified(s.schema, s.name)};"],
                before=s,
            )
        for s in sequences.added:
            k = (s.schema, s.name)
            steps = [r.sequence_sql(s), *r.comment_sql(f"SEQUENCE {r.qualified(*k)}", s.comment)]
            # A column that stops being an identity frees the name of its sequence first.
            freed: tuple[str, ...] = ()
            if s.owned_by:
                table, column = r._unquote(s.owned_by[0]), s.owned_by[1]
                freed = (f"rel:{table}/col:{column}#identity",)
            self.add(
                "create",
                "sequence",
                f"{k[0]}.{k[1]}",
                relation_key(*k),
                steps,
                after=s,
                runs_after=freed,
            )
            if s.owned_by:
                self._own(s)
        for a, b in sequences.kept:
            k = (b.schema, b.name)
            name = r.qualified(*k)
            options = []
            if a.type != b.type:
                options.append(f"AS {b.type}")
            if a.increment != b.increment:
                options.append(f"INCREMENT BY {b.increment}")
            if a.minimum != b.minimum:
                options.append(f"MINVALUE {b.minimum}")
            if a.maximum != b.maximum:
                options.append(f"MAXVALUE {b.maximum}")
            if a.start != b.start:
                options.append(f"START WITH {b.start}")
            if a.cache != b.cache:
                options.append(f"CACHE {b.cache}")
            if a.cycle != b.cycle:
                options.append("CYCLE" if b.cycle else "NO CYCLE")
            steps = [f"ALTER SEQUENCE {name} {' '.join(options)};"] if options else []
            if a.comment != b.comment:
                steps += self._comment(f"SEQUENCE {name}", b.comment)
            self.add(
                "alter", "sequence", f"{k[0]}.{k[1]}", relation_key(*k), steps, before=a, after=b
            )
            if a.owned_by != b.owned_by:
                self._own(b)

    def _own(self, s: Sequence) -> None:
        key = relation_key(s.schema, s.name)
        owner = f"{r.qualified(s.schema, s.name)}#owner"
        table_key = ""
        if s.owned_by:
            table_key = "rel:" + r._unquote(s.owned_by[0])
            sql = r._owned_by(s)
        else:
            sql = f"ALTER SEQUENCE {r.qualified(s.schema, s.name)} OWNED BY NONE;"
        self.add(
            "alter",
            "sequence",
            f"{s.schema}.{s.name} (owner)",
            owner,
            [sql],
            runs_after=(key, *((table_key,) if table_key else ())),
        )

    # routines -----------------------------------------------------------------------------------

    def _routines(self) -> None:
        routines = pair_up(self.a.routines, self.b.routines, _signed_name, same=_same)
        # Same input types under another signature (parameter names, OUT parameters): the same
        # routine to PostgreSQL, so the old one is dropped before the new one is created.
        twins = {self._identity(x): routine_key(*_signed_name(x)) for x in routines.dropped}
        identities = {self._identity(x) for x in self.b.routines}
        for x in routines.dropped:
            self._drop_routine(x)
            if self._identity(x) in identities:
                self.recreated.add(routine_key(*_signed_name(x)))
        for x in routines.added:
            twin = twins.get(self._identity(x))
            self._create_routine(x, after=(twin,) if twin else ())
        for a, b in routines.kept:
            k = _signed_name(b)
            key = routine_key(*k)
            if a.definition == b.definition:
                self.add(
                    "alter",
                    "routine",
                    f"{k[0]}.{k[1]}({k[2]})",
                    key,
                    self._comment(r.routine_target(b), b.comment),
                    before=a,
                    after=b,
                )
            elif a.kind == b.kind and _returns(a) == _returns(b):
                self.add(
                    "alter",
                    "routine",
                    f"{k[0]}.{k[1]}({k[2]})",
                    key,
                    [
                        _replaceable(b.definition),
                        *self._comment_if(r.routine_target(b), a.comment, b.comment),
                    ],
                    before=a,
                    after=b,
                    hazards=(
                        _h(
                            "untrackable_dependencies",
                            "code calling this function is not checked by the catalog",
                        ),
                    ),
                )
            else:
                self._drop_routine(a)
                self._create_routine(b)
                self.recreated.add(key)

    def _comment_if(self, target: str, old: str | None, new: str | None) -> list[str]:
        return self._comment(target, new) if old != new else []

    def _drop_routine(self, x: Routine) -> None:
        self.add(
            "drop",
            "routine",
            f"{x.schema}.{x.name}({x.signature})",
            routine_key(x.schema, x.name, x.signature),
            [f"DROP {r.routine_target(x)};"],
            before=x,
            hazards=(
                _h(
                    "untrackable_dependencies",
                    f"code calling {x.name}() breaks; the catalog does not track all callers",
                ),
            ),
        )

    def _identity(self, x: Routine) -> tuple[str, str, str]:
        return (x.schema, x.name, attr(x.attrs, "input_types", x.signature))

    def _create_routine(self, x: Routine, after: tuple[str, ...] = ()) -> None:
        self.add(
            "create",
            "routine",
            f"{x.schema}.{x.name}({x.signature})",
            routine_key(x.schema, x.name, x.signature),
            [_replaceable(x.definition), *r.comment_sql(r.routine_target(x), x.comment)],
            after=x,
            runs_after=after,
        )

    # tables -------------------------------------------------------------------------------------

    def _tables(self) -> None:
        renamed: dict[tuple[str, str], tuple[str, str]] = {}
        for old_name, new_name in self.table_renames.items():
            schema, name = old_name.split(".", 1)
            # NEW is a name in the same schema, or schema.name to move the table too.
            target = new_name.split(".", 1) if "." in new_name else (schema, new_name)
            renamed[(schema, name)] = (target[0], target[1])
        tables = pair_up(self.a.tables, self.b.tables, by_qualified_name, renamed=renamed)
        for t in tables.dropped:
            candidates = [c for c in tables.added if c.schema == t.schema]
            self._drop_table(t, rename_candidates=candidates)
        for t in tables.added:
            self._create_table(t, self.b.tables)
        for a, b in tables.kept:
            self._alter_table(a, b)
        for a, b in tables.renamed:
            a_key, b_key = (a.schema, a.name), (b.schema, b.name)
            key = relation_key(*b_key)
            self.add(
                "alter",
                "table",
                f"{a_key[0]}.{a_key[1]} -> {b_key[0]}.{b_key[1]}",
                key,
                _rename_steps(a_key, b_key),
                before=a,
                after=b,
                runs_after=(schema_key(b_key[0]),),
            )
            self._alter_table(replace(a, schema=b.schema, name=b.name), b)

    def _drop_table(self, t: Table, rename_candidates: list[Table]) -> None:
        key = relation_key(t.schema, t.name)
        hazards = [_h("data_loss", f"drops table {t.schema}.{t.name} and its rows")]
        cols = {(c.name, c.type) for c in t.columns}
        for other in rename_candidates:
            if cols and {(c.name, c.type) for c in other.columns} == cols:
                hazards.append(
                    _h(
                        "possible_rename",
                        f"{t.name} and new table {other.name} look alike: "
                        f"--rename {t.schema}.{t.name}={other.name} keeps the rows",
                    )
                )
        self.add(
            "drop",
            "table",
            f"{t.schema}.{t.name}",
            key,
            [f"DROP TABLE {r.qualified(t.schema, t.name)};"],
            before=t,
            hazards=tuple(hazards),
        )
        # Its foreign keys go first, so that tables referencing each other can be dropped.
        for k in t.constraints:
            if k.kind == "foreign key":
                self.add(
                    "drop",
                    "constraint",
                    f"{t.schema}.{t.name}.{k.name}",
                    _sub(key, "con", k.name),
                    [f"ALTER TABLE {r.qualified(t.schema, t.name)} DROP CONSTRAINT {q(k.name)};"],
                    parent=key,
                    before=k,
                )

    def _create_table(self, t: Table, tables: Iterable[Table]) -> None:
        key = relation_key(t.schema, t.name)
        by_name = {f"{x.schema}.{x.name}": x for x in tables}
        create, attached, adjusted = r._table_statements(t, by_name)
        name = r.qualified(t.schema, t.name)
        steps = [create, *attached, *adjusted]
        if attr(t.attrs, "row_security"):
            steps.append(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;")
        if attr(t.attrs, "force_row_security"):
            steps.append(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")
        steps += r.comment_sql(f"TABLE {name}", t.comment)
        for c in t.columns:
            steps += r.comment_sql(f"COLUMN {name}.{q(c.name)}", c.comment)
        for k in t.constraints:
            if (
                k.kind != "foreign key"
                and not attr(k.attrs, "not_valid")
                and not attr(t.attrs, "partition_of")
            ):
                steps += r.comment_sql(f"CONSTRAINT {q(k.name)} ON {name}", k.comment)
        self.add("create", "table", f"{t.schema}.{t.name}", key, steps, after=t)
        for k in t.constraints:
            if (
                k.kind == "foreign key"
                or attr(k.attrs, "not_valid")
                or attr(t.attrs, "partition_of")
            ):
                self._add_constraint(t, k, new_table=True)
        for i in t.indexes:
            self._create_index(t, i, new_table=True)
        for tr in t.triggers:
            self._create_trigger(t, tr)
        for p in t.policies:
            self._create_policy(t, p)

    def _alter_table(self, a: Table, b: Table) -> None:
        key = relation_key(b.schema, b.name)
        name = r.qualified(b.schema, b.name)
        label = f"{b.schema}.{b.name}"
        if _same(a, b):
            return
        if attr(a.attrs, "partition_by") != attr(b.attrs, "partition_by"):
            self.add(
                "drop",
                "table",
                label,
                key,
                [f"DROP TABLE {name};"],
                before=a,
                hazards=(
                    _h(
                        "data_loss",
                        f"{label} is partitioned differently: it is dropped and created",
                    ),
                    _h("unsupported", "move the rows yourself: create the new table, copy, swap"),
                ),
            )
            self._create_table(b, self.b.tables)
            self.recreated.add(key)
            return
        steps: list[Step | str] = []
        hazards: list[Hazard] = []
        # table-level properties
        if attr(a.attrs, "unlogged") != attr(b.attrs, "unlogged"):
            steps.append(
                Step(
                    f"ALTER TABLE {name} SET "
                    f"{'UNLOGGED' if attr(b.attrs, 'unlogged') else 'LOGGED'};",
                    (_h("table_rewrite", f"rewrites {label}"),),
                )
            )
        old_opts, new_opts = set(attr(a.attrs, "options", ())), set(attr(b.attrs, "options", ()))
        if old_opts != new_opts:
            gone = sorted({o.split("=")[0] for o in old_opts} - {o.split("=")[0] for o in new_opts})
            if gone:
                steps.append(f"ALTER TABLE {name} RESET ({', '.join(gone)});")
            if new_opts - old_opts:
                steps.append(f"ALTER TABLE {name} SET ({', '.join(sorted(new_opts - old_opts))});")
        for flag, on, off in (
            ("row_security", "ENABLE", "DISABLE"),
            ("force_row_security", "FORCE", "NO FORCE"),
        ):
            if attr(a.attrs, flag) != attr(b.attrs, flag):
                steps.append(
                    f"ALTER TABLE {name} {on if attr(b.attrs, flag) else off} ROW LEVEL SECURITY;"
                )
        if a.comment != b.comment:
            steps += self._comment(f"TABLE {name}", b.comment)
        old_parent, new_parent = attr(a.attrs, "partition_of"), attr(b.attrs, "partition_of")
        if (old_parent, attr(a.attrs, "partition_bound")) != (
            new_parent,
            attr(b.attrs, "partition_bound"),
        ):
            if old_parent:
                steps.append(
                    Step(
                        f"ALTER TABLE {r.qualified(*old_parent)} DETACH PARTITION {name};",
                        (_h("access_exclusive_lock", f"locks {'.'.join(old_parent)}"),),
                    )
                )
            if new_parent:
                steps.append(
                    Step(
                        f"ALTER TABLE {r.qualified(*new_parent)} ATTACH PARTITION {name} "
                        f"{attr(b.attrs, 'partition_bound')};",
                        (_h("full_scan", f"checks every row of {label} against the bound"),),
                    )
                )
        old_inh, new_inh = list(attr(a.attrs, "inherits", ())), list(attr(b.attrs, "inherits", ()))
        for p in old_inh:
            if p not in new_inh:
                steps.append(f"ALTER TABLE {name} NO INHERIT {p};")
        for p in new_inh:
            if p not in old_inh:
                steps.append(f"ALTER TABLE {name} INHERIT {p};")
        self.add("alter", "table", label, key, steps, before=a, after=b, hazards=tuple(hazards))
        self._alter_columns(a, b)
        self._alter_constraints(a, b)
        self._alter_indexes(a, b)
        self._alter_triggers(a, b)
        self._alter_policies(a, b)

    # columns ------------------------------------------------------------------------------------

    def _alter_columns(self, a: Table, b: Table) -> None:
        key = relation_key(b.schema, b.name)
        name = r.qualified(b.schema, b.name)
        label = f"{b.schema}.{b.name}"
        renames = self.column_renames.get((a.schema, a.name), {})
        # Columns a parent gives in both schemas change with the parent (ADD/DROP/ALTER on it
        # recurses); only their local defaults and NOT NULL are the child's own. Whether a
        # column counts as inherited is not compared: ATTACH PARTITION / INHERIT keep the
        # table's own columns, which then match the parent's.
        shared = bool(set(_parents_of(a)) & set(_parents_of(b)))

        def own(c: Column) -> bool:
            return not (shared and attr(c.attrs, "inherited"))

        old = {c.name: c for c in a.columns if own(c)}
        new = {c.name: c for c in b.columns if own(c)}
        for old_name, new_name in sorted(renames.items()):
            if old_name in old and new_name in new and new_name not in old:
                self.add(
                    "alter",
                    "column",
                    f"{label}.{old_name} -> {new_name}",
                    _sub(key, "col", new_name),
                    [
                        Step(
                            f"ALTER TABLE {name} RENAME COLUMN {q(old_name)} TO {q(new_name)};",
                            (
                                _h(
                                    "backwards_incompatible",
                                    f"code using {old_name} must use {new_name}",
                                ),
                            ),
                        )
                    ],
                    parent=key,
                    before=old[old_name],
                    after=new[new_name],
                    runs_after=(_sub(key, "col", old_name),),
                )
                old[new_name] = replace(old.pop(old_name), name=new_name)
        columns = pair_up(old.values(), new.values(), by_name, same=_same_column)
        # A column that is the parent's on the other side is neither added nor dropped here.
        inherited_a = {c.name for c in a.columns if not own(c)}
        inherited_b = {c.name for c in b.columns if not own(c)}
        added = [c for c in columns.added if c.name not in inherited_a]
        for x in columns.dropped:
            if x.name in inherited_b:
                continue
            c = x.name
            hazards = [
                _h("data_loss", f"drops column {label}.{c} and its values"),
                _h("backwards_incompatible", f"code reading or writing {c} breaks"),
            ]
            for other in added:
                if other.type == x.type:
                    hazards.append(
                        _h(
                            "possible_rename",
                            f"{c} and new column {other.name} look alike: "
                            f"--rename {label}.{c}={other.name} keeps the values",
                        )
                    )
            self.add(
                "drop",
                "column",
                f"{label}.{c}",
                _sub(key, "col", c),
                [f"ALTER TABLE {name} DROP COLUMN {q(c)};"],
                parent=key,
                before=x,
                hazards=tuple(hazards),
            )
        for y in added:
            self._add_column(b, y)
        for x, y in columns.kept:
            if _sub(key, "col", y.name) not in self.handled_columns:
                self._alter_column(b, x, y)
        # Inherited columns: only their local defaults and NOT NULL are theirs.
        for column in b.columns:
            self._alter_inherited(b, a.column(column.name), column)

    def _alter_inherited(self, b: Table, before: Column | None, c: Column) -> None:
        key = relation_key(b.schema, b.name)
        name = r.qualified(b.schema, b.name)
        label = f"{b.schema}.{b.name}"
        if not (
            attr(c.attrs, "inherited")
            and before is not None
            and attr(before.attrs, "inherited")
            and set(_parents_of(b)) & set(_parents_of(self.a.table(b.schema, b.name) or b))
        ):
            return
        steps: list[Step | str] = []
        target = f"ALTER TABLE {name} ALTER COLUMN {q(c.name)}"
        if before.default != c.default:
            steps.append(
                f"{target} SET DEFAULT {c.default};" if c.default else f"{target} DROP DEFAULT;"
            )
        if before.nullable != c.nullable:
            steps.append(f"{target} {'DROP' if c.nullable else 'SET'} NOT NULL;")
        if before.comment != c.comment:
            steps += self._comment(f"COLUMN {name}.{q(c.name)}", c.comment)
        self.add(
            "alter",
            "column",
            f"{label}.{c.name}",
            _sub(key, "col", c.name),
            steps,
            parent=key,
            before=before,
            after=c,
        )

    def _add_column(self, t: Table, c: Column) -> None:
        key = relation_key(t.schema, t.name)
        name = r.qualified(t.schema, t.name)
        label = f"{t.schema}.{t.name}.{c.name}"
        hazards = []
        if c.identity or (c.generated and (c.generated_kind or "STORED") == "STORED"):
            hazards.append(_h("table_rewrite", f"fills {label} in every row (rewrites the table)"))
        elif c.default and _VOLATILE.search(c.default):
            hazards.append(
                _h("table_rewrite", f"the volatile default of {label} rewrites the table")
            )
        if not c.nullable and c.default is None and not c.identity and not c.generated:
            hazards.append(
                _h(
                    "backwards_incompatible",
                    f"{label} is NOT NULL without a default: fails if the table has rows, "
                    "and inserts that do not set it fail",
                )
            )
        steps: list[Step | str] = [
            Step(f"ALTER TABLE {name} ADD COLUMN {r.column_sql(c)};", tuple(hazards))
        ]
        steps += r.comment_sql(f"COLUMN {name}.{q(c.name)}", c.comment)
        self.add("create", "column", label, _sub(key, "col", c.name), steps, parent=key, after=c)

    def _alter_column(self, t: Table, a: Column, b: Column) -> None:
        key = relation_key(t.schema, t.name)
        name = r.qualified(t.schema, t.name)
        label = f"{t.schema}.{t.name}.{b.name}"
        col = f"ALTER TABLE {name} ALTER COLUMN {q(b.name)}"
        ckey = _sub(key, "col", b.name)
        if (a.generated, a.generated_kind) != (b.generated, b.generated_kind):
            # PostgreSQL 15 cannot change a generation expression in place: drop and add.
            self.add(
                "drop",
                "column",
                label,
                ckey,
                [f"ALTER TABLE {name} DROP COLUMN {q(a.name)};"],
                parent=key,
                before=a,
                hazards=(_h("rebuild", f"{label} is dropped and added again"),),
            )
            self._add_column(t, b)
            self.recreated.add(key + "#shape")
            return
        steps: list[Step | str] = []
        default_dropped = False
        if a.type != b.type or a.collation != b.collation:
            rewrite, lossy, using = _type_change(a.type, b.type)
            hazards = []
            if rewrite:
                hazards.append(
                    _h("table_rewrite", f"{a.type} -> {b.type} rewrites {t.schema}.{t.name}")
                )
                hazards.append(
                    _h("access_exclusive_lock", f"blocks reads and writes of {t.schema}.{t.name}")
                )
            if lossy:
                hazards.append(
                    _h("data_loss", f"{a.type} -> {b.type}: values that do not fit make it fail")
                )
            if a.default is not None and not a.identity:
                steps.append(f"{col} DROP DEFAULT;")
                default_dropped = True
            collate = f" COLLATE {b.collation}" if b.collation else ""
            cast = f" USING {q(b.name)}::{b.type}" if using else ""
            steps.append(Step(f"{col} TYPE {b.type}{collate}{cast};", tuple(hazards)))
            self.recreated.add(key + "#shape")
        if a.default != b.default or (default_dropped and b.default is not None):
            if b.default is None:
                if not default_dropped:
                    steps.append(f"{col} DROP DEFAULT;")
            elif not b.identity:
                steps.append(f"{col} SET DEFAULT {b.default};")
        if a.identity != b.identity or attr(a.attrs, "identity_options") != attr(
            b.attrs, "identity_options"
        ):
            # Adding or dropping an identity makes or removes a sequence named like the one a
            # serial column owns: a change of its own, ordered against those sequences.
            if a.identity and not b.identity:
                self.add(
                    "alter",
                    "column",
                    f"{label} (identity)",
                    ckey + "#identity",
                    [f"{col} DROP IDENTITY;"],
                    parent=key,
                    before=a,
                    after=b,
                )
            elif b.identity and not a.identity:
                options = attr(b.attrs, "identity_options")
                owned = tuple(
                    relation_key(s.schema, s.name)
                    for s in self.a.sequences
                    if s.owned_by
                    and r._unquote(s.owned_by[0]) == f"{t.schema}.{t.name}"
                    and s.owned_by[1] == b.name
                )
                self.add(
                    "alter",
                    "column",
                    f"{label} (identity)",
                    ckey + "#identity",
                    [
                        f"{col} ADD GENERATED {b.identity} AS IDENTITY"
                        + (f" ({options})" if options else "")
                        + ";"
                    ],
                    parent=key,
                    before=a,
                    after=b,
                    runs_after=(ckey, *owned),
                )
            else:
                if a.identity != b.identity:
                    steps.append(f"{col} SET GENERATED {b.identity};")
                options = attr(b.attrs, "identity_options")
                if options and options != attr(a.attrs, "identity_options"):
                    steps.append(f"{col} {_identity_set(options)};")
        if a.nullable != b.nullable:
            if b.nullable:
                steps.append(f"{col} DROP NOT NULL;")
            elif self.options.online:
                check = q(f"{b.name}_not_null_dbfleet")
                steps += [
                    Step(
                        f"ALTER TABLE {name} ADD CONSTRAINT {check} "
                        f"CHECK ({q(b.name)} IS NOT NULL) NOT VALID;"
                    ),
                    Step(
                        f"ALTER TABLE {name} VALIDATE CONSTRAINT {check};",
                        (_h("full_scan", f"scans {t.schema}.{t.name} without blocking writes"),),
                    ),
                    f"{col} SET NOT NULL;",
                    f"ALTER TABLE {name} DROP CONSTRAINT {check};",
                ]
            else:
                steps.append(
                    Step(
                        f"{col} SET NOT NULL;",
                        (
                            _h(
                                "full_scan",
                                f"scans {t.schema}.{t.name} while blocking reads and writes "
                                "(--online validates a check first)",
                            ),
                            _h("backwards_incompatible", f"inserts that leave {b.name} empty fail"),
                        ),
                    )
                )
        if a.comment != b.comment:
            steps += self._comment(f"COLUMN {name}.{q(b.name)}", b.comment)
        self.add("alter", "column", label, ckey, steps, parent=key, before=a, after=b)

    # constraints ----------------------------------------------------------------------------------

    def _alter_constraints(self, a: Table, b: Table) -> None:
        key = relation_key(b.schema, b.name)
        name = r.qualified(b.schema, b.name)
        old = {k.name: k for k in a.constraints}
        new = {k.name: k for k in b.constraints}
        # The same constraint under another name (e.g. after a table rename): RENAME CONSTRAINT
        # keeps its index instead of building it again.
        for k in sorted(old.keys() - new.keys()):
            twin = next(
                (
                    n
                    for n in sorted(new.keys() - old.keys())
                    if (new[n].kind, new[n].definition) == (old[k].kind, old[k].definition)
                ),
                None,
            )
            if twin is None:
                continue
            self.add(
                "alter",
                "constraint",
                f"{b.schema}.{b.name}.{k} -> {twin}",
                _sub(key, "con", twin),
                [f"ALTER TABLE {name} RENAME CONSTRAINT {q(k)} TO {q(twin)};"],
                parent=key,
                before=old[k],
                after=new[twin],
                runs_after=(_sub(key, "con", k),),
            )
            old[twin] = replace(old.pop(k), name=twin)
        constraints = pair_up(old.values(), new.values(), by_name, same=operator.eq)
        dropped_keys = tuple(
            _sub(key, "con", x.name) for x in constraints.dropped if x.kind == "primary key"
        )
        for x in constraints.dropped:
            self._drop_constraint(b, x)
        for y in constraints.added:
            # A table has one primary key: a new one waits for the old one to go.
            after = dropped_keys if y.kind == "primary key" else ()
            self._add_constraint(b, y, after=after)
        for x, y in constraints.kept:
            k = y.name
            same_def = x.definition == y.definition
            if same_def and attr(x.attrs, "not_valid") and not attr(y.attrs, "not_valid"):
                steps: list[Step | str] = [
                    Step(
                        f"ALTER TABLE {name} VALIDATE CONSTRAINT {q(k)};",
                        (_h("full_scan", f"checks every row of {b.schema}.{b.name}"),),
                    )
                ]
                if x.comment != y.comment:
                    steps += self._comment(f"CONSTRAINT {q(k)} ON {name}", y.comment)
                self.add(
                    "alter",
                    "constraint",
                    f"{b.schema}.{b.name}.{k}",
                    _sub(key, "con", k),
                    steps,
                    parent=key,
                    before=x,
                    after=y,
                )
            elif same_def and attr(x.attrs, "not_valid") == attr(y.attrs, "not_valid"):
                self.add(
                    "alter",
                    "constraint",
                    f"{b.schema}.{b.name}.{k}",
                    _sub(key, "con", k),
                    self._comment(f"CONSTRAINT {q(k)} ON {name}", y.comment),
                    parent=key,
                    before=x,
                    after=y,
                )
            else:
                self._drop_constraint(b, x)
                self._add_constraint(b, y)
                if x.kind in ("primary key", "unique"):
                    self.recreated.add(_sub(key, "con", k))  # foreign keys onto it follow

    def _drop_constraint(self, t: Table, k: Constraint) -> None:
        key = relation_key(t.schema, t.name)
        hazards = []
        if k.kind in ("primary key", "unique", "exclude"):
            hazards.append(_h("index_dropped", f"drops the index behind {k.name}"))
        self.add(
            "drop",
            "constraint",
            f"{t.schema}.{t.name}.{k.name}",
            _sub(key, "con", k.name),
            [f"ALTER TABLE {r.qualified(t.schema, t.name)} DROP CONSTRAINT {q(k.name)};"],
            parent=key,
            before=k,
            hazards=tuple(hazards),
        )

    def _add_constraint(
        self, t: Table, k: Constraint, *, new_table: bool = False, after: tuple[str, ...] = ()
    ) -> None:
        key = relation_key(t.schema, t.name)
        name = r.qualified(t.schema, t.name)
        label = f"{t.schema}.{t.name}.{k.name}"
        add = f"ALTER TABLE {name} ADD CONSTRAINT {q(k.name)} {k.definition}"
        steps: list[Step | str] = []
        not_valid = attr(k.attrs, "not_valid")
        if new_table or not_valid:
            steps.append(
                add + (" NOT VALID" if not_valid and "NOT VALID" not in k.definition else "") + ";"
            )
        elif k.kind in ("foreign key", "check") and self.options.online:
            steps += [
                add + " NOT VALID;",
                Step(
                    f"ALTER TABLE {name} VALIDATE CONSTRAINT {q(k.name)};",
                    (
                        _h(
                            "full_scan",
                            f"checks every row of {t.schema}.{t.name} without blocking writes",
                        ),
                    ),
                ),
            ]
        elif k.kind in ("foreign key", "check"):
            lock = (
                "share_row_exclusive_lock" if k.kind == "foreign key" else "access_exclusive_lock"
            )
            steps.append(
                Step(
                    add + ";",
                    (
                        _h(
                            lock, f"blocks writes to {t.schema}.{t.name} while every row is checked"
                        ),
                        _h("full_scan", "--online adds it NOT VALID and validates it separately"),
                    ),
                )
            )
        else:
            steps.append(
                Step(
                    add + ";",
                    (
                        _h("index_build", f"builds the index behind {k.name}"),
                        _h("share_lock", f"blocks writes to {t.schema}.{t.name} while it builds"),
                    ),
                )
            )
        steps += r.comment_sql(f"CONSTRAINT {q(k.name)} ON {name}", k.comment)
        self.add(
            "create",
            "constraint",
            label,
            _sub(key, "con", k.name),
            steps,
            parent=key,
            after=k,
            runs_after=after,
        )

    # indexes, triggers, policies ------------------------------------------------------------------

    def _alter_indexes(self, a: Table, b: Table) -> None:
        indexes = pair_up(a.indexes, b.indexes, by_name)
        for x in indexes.dropped:
            self._drop_index(b, x)
        for y in indexes.added:
            self._create_index(b, y)
        for x, y in indexes.kept:
            if x.definition != y.definition:
                self._drop_index(b, x)
                self._create_index(b, y)
            elif x.comment != y.comment:
                self.add(
                    "alter",
                    "index",
                    f"{b.schema}.{y.name}",
                    _index_key(b.schema, y.name),
                    self._comment(f"INDEX {r.qualified(b.schema, y.name)}", y.comment),
                    parent=relation_key(b.schema, b.name),
                    before=x,
                    after=y,
                )

    def _drop_index(self, t: Table | View, i: Index) -> None:
        concurrently = self.options.online and not attr(t.attrs, "partition_by")
        sql = (
            f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}{r.qualified(t.schema, i.name)};"
        )
        self.add(
            "drop",
            "index",
            f"{t.schema}.{i.name}",
            _index_key(t.schema, i.name),
            [
                Step(
                    sql,
                    (_h("index_dropped", f"queries on {t.name} that used {i.name} may slow down"),),
                    transactional=not concurrently,
                )
            ],
            parent=relation_key(t.schema, t.name),
            before=i,
        )

    def _create_index(self, t: Table | View, i: Index, *, new_table: bool = False) -> None:
        sql = i.definition
        hazards: tuple[Hazard, ...] = ()
        transactional = True
        if not new_table:
            concurrently = self.options.online and not attr(t.attrs, "partition_by")
            if concurrently:
                sql = re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", sql)
                transactional = False
                hazards = (_h("index_build", f"builds {i.name} without blocking writes"),)
            else:
                hazards = (
                    _h("index_build", f"builds {i.name}"),
                    _h(
                        "share_lock",
                        f"blocks writes to {t.name} while it builds (--online avoids it)",
                    ),
                )
        steps: list[Step | str] = [Step(sql + ";", hazards, transactional)]
        steps += r.comment_sql(f"INDEX {r.qualified(t.schema, i.name)}", i.comment)
        self.add(
            "create",
            "index",
            f"{t.schema}.{i.name}",
            _index_key(t.schema, i.name),
            steps,
            parent=relation_key(t.schema, t.name),
            after=i,
        )

    def _alter_triggers(self, a: Table | View, b: Table | View) -> None:
        triggers = pair_up(a.triggers, b.triggers, by_name, same=operator.eq)
        for s in triggers.dropped:
            self._drop_trigger(b, s)
        for t in triggers.added:
            self._create_trigger(b, t)
        for s, t in triggers.kept:
            x = t.name
            if s.definition != t.definition:
                self._drop_trigger(b, s)
                self._create_trigger(b, t)
            else:
                key = relation_key(b.schema, b.name)
                name = r.qualified(b.schema, b.name)
                steps = []
                if attr(s.attrs, "disabled") != attr(t.attrs, "disabled"):
                    state = "DISABLE" if attr(t.attrs, "disabled") else "ENABLE"
                    steps.append(f"ALTER TABLE {name} {state} TRIGGER {q(x)};")
                if s.comment != t.comment:
                    steps += self._comment(f"TRIGGER {q(x)} ON {name}", t.comment)
                self.add(
                    "alter",
                    "trigger",
                    f"{b.schema}.{b.name}.{x}",
                    _sub(key, "trg", x),
                    steps,
                    parent=key,
                    before=s,
                    after=t,
                )

    def _drop_trigger(self, t: Table | View, x: Trigger) -> None:
        key = relation_key(t.schema, t.name)
        self.add(
            "drop",
            "trigger",
            f"{t.schema}.{t.name}.{x.name}",
            _sub(key, "trg", x.name),
            [f"DROP TRIGGER {q(x.name)} ON {r.qualified(t.schema, t.name)};"],
            parent=key,
            before=x,
        )

    def _create_trigger(self, t: Table | View, x: Trigger) -> None:
        key = relation_key(t.schema, t.name)
        name = r.qualified(t.schema, t.name)
        steps = [x.definition + ";"]
        if attr(x.attrs, "disabled"):
            steps.append(f"ALTER TABLE {name} DISABLE TRIGGER {q(x.name)};")
        steps += r.comment_sql(f"TRIGGER {q(x.name)} ON {name}", x.comment)
        self.add(
            "create",
            "trigger",
            f"{t.schema}.{t.name}.{x.name}",
            _sub(key, "trg", x.name),
            steps,
            parent=key,
            after=x,
        )

    def _alter_policies(self, a: Table, b: Table) -> None:
        policies = pair_up(a.policies, b.policies, by_name)
        for x in policies.dropped:
            self._drop_policy(b, x)
        for y in policies.added:
            self._create_policy(b, y)
        for x, y in policies.kept:
            if x.definition != y.definition:
                self._drop_policy(b, x)
                self._create_policy(b, y)
            elif x.comment != y.comment:
                key = relation_key(b.schema, b.name)
                self.add(
                    "alter",
                    "policy",
                    f"{b.schema}.{b.name}.{y.name}",
                    _sub(key, "pol", y.name),
                    self._comment(
                        f"POLICY {q(y.name)} ON {r.qualified(b.schema, b.name)}", y.comment
                    ),
                    parent=key,
                    before=x,
                    after=y,
                )

    def _drop_policy(self, t: Table, p: Policy) -> None:
        key = relation_key(t.schema, t.name)
        self.add(
            "drop",
            "policy",
            f"{t.schema}.{t.name}.{p.name}",
            _sub(key, "pol", p.name),
            [
                Step(
                    f"DROP POLICY {q(p.name)} ON {r.qualified(t.schema, t.name)};",
                    (_h("authorization", f"row access to {t.name} changes"),),
                )
            ],
            parent=key,
            before=p,
        )

    def _create_policy(self, t: Table, p: Policy) -> None:
        key = relation_key(t.schema, t.name)
        steps = [
            Step(p.definition + ";", (_h("authorization", f"row access to {t.name} changes"),))
        ]
        steps += [
            Step(s)
            for s in r.comment_sql(
                f"POLICY {q(p.name)} ON {r.qualified(t.schema, t.name)}", p.comment
            )
        ]
        self.add(
            "create",
            "policy",
            f"{t.schema}.{t.name}.{p.name}",
            _sub(key, "pol", p.name),
            steps,
            parent=key,
            after=p,
        )

    # views ----------------------------------------------------------------------------------------

    def _views(self) -> None:
        views = pair_up(self.a.views, self.b.views, by_qualified_name, same=_same)
        for v in views.dropped:
            self._drop_view(v)
        for v in views.added:
            self._create_view(v)
        for a, b in views.kept:
            k = (b.schema, b.name)
            if _replaceable_view(a, b):
                key = relation_key(*k)
                self.add(
                    "alter",
                    "view",
                    f"{k[0]}.{k[1]}",
                    key,
                    [
                        r.view_sql(b).replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1),
                        *self._comment_if(f"VIEW {r.qualified(*k)}", a.comment, b.comment),
                    ],
                    before=a,
                    after=b,
                    hazards=(
                        _h("untrackable_dependencies", "code reading the view sees the new query"),
                    ),
                )
                self._alter_triggers(a, b)
                continue
            if (a.definition, a.materialized, attr(a.attrs, "options")) != (
                b.definition,
                b.materialized,
                attr(b.attrs, "options"),
            ):
                self._drop_view(a, reason="its definition changes")
                self._create_view(b)
                self.recreated.add(relation_key(*k))
                continue
            key = relation_key(*k)
            name = r.qualified(*k)
            kind = "MATERIALIZED VIEW" if b.materialized else "VIEW"
            steps = self._comment_if(f"{kind} {name}", a.comment, b.comment)
            old_cc, new_cc = dict(a.column_comments), dict(b.column_comments)
            for column in sorted(old_cc.keys() | new_cc.keys()):
                if old_cc.get(column) != new_cc.get(column):
                    steps += self._comment(f"COLUMN {name}.{q(column)}", new_cc.get(column))
            self.add("alter", "view", f"{k[0]}.{k[1]}", key, steps, before=a, after=b)
            indexes = pair_up(a.indexes, b.indexes, by_name, same=operator.eq)
            for x in indexes.dropped:
                self._drop_index(b, x)
            for y in indexes.added:
                self._create_index(b, y)
            for x, y in indexes.kept:
                self._drop_index(b, x)
                self._create_index(b, y)
            self._alter_triggers(a, b)

    def _drop_view(self, v: View, reason: str = "") -> None:
        kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
        hazards = (
            (_h("rebuild", f"{v.name} is dropped and created again in the same migration"),)
            if reason
            else (_h("backwards_incompatible", f"queries on {v.name} break"),)
        )
        self.add(
            "drop",
            "view",
            f"{v.schema}.{v.name}",
            relation_key(v.schema, v.name),
            [f"DROP {kind} {r.qualified(v.schema, v.name)};"],
            before=v,
            hazards=hazards,
            reason=reason,
        )

    def _create_view(self, v: View, reason: str = "") -> None:
        steps: list[Step | str] = [r.view_sql(v)]
        if v.materialized:
            steps = [
                Step(r.view_sql(v), (_h("performance", f"runs the query of {v.name} to fill it"),))
            ]
        steps += r.view_extras(v, indexes=False)
        self.add(
            "create",
            "view",
            f"{v.schema}.{v.name}",
            relation_key(v.schema, v.name),
            steps,
            after=v,
            reason=reason,
        )
        for i in v.indexes:
            self._create_index(v, i, new_table=True)

    # dependants of what is recreated --------------------------------------------------------------

    def _recreate_dependants(self) -> None:
        """What depends on an object that is dropped and created again (or on a column whose type
        changes) is dropped first and created again afterwards, transitively: views, routines
        with their bodies tracked, triggers, and defaults, checks and indexes calling a
        recreated function."""
        views_a = {relation_key(v.schema, v.name): v for v in self.a.views}
        views_b = {relation_key(v.schema, v.name): v for v in self.b.views}
        routines_a = {routine_key(x.schema, x.name, x.signature): x for x in self.a.routines}
        routines_b = {routine_key(x.schema, x.name, x.signature): x for x in self.b.routines}
        done = {c.key for c in self.changes if c.action == "drop"}
        queue = sorted({k.removesuffix("#shape") for k in self.recreated})
        while queue:
            target = queue.pop(0)
            why = f"depends on {target.split(':', 1)[1]}, which is recreated or changes shape"
            for key, view in views_a.items():
                if key in done or target not in self.graph_a.get(key, ()) or key not in views_b:
                    continue
                # A CREATE OR REPLACE planned for it gives way to dropping and creating it.
                self.changes = [c for c in self.changes if not (c.key == key and c.kind == "view")]
                self._drop_view(view, reason=why)
                self._create_view(views_b[key], reason=why)
                done.add(key)
                queue.append(key)
            for key, routine in routines_a.items():
                if key in done or target not in self.graph_a.get(key, ()) or key not in routines_b:
                    continue
                self._drop_routine(routine)
                self._create_routine(routines_b[key])
                done.add(key)
                queue.append(key)
            if target.startswith("proc:"):
                self._recreate_callers(target[5:].split("(")[0], done)
            if "/con:" in target:
                self._recreate_foreign_keys(target, done)

    def _recreate_foreign_keys(self, target: str, done: set[str]) -> None:
        """Foreign keys (unchanged themselves) onto a key that is dropped and added again."""
        for t in self.a.tables:
            tb = self.b.table(t.schema, t.name)
            if tb is None:
                continue
            tkey = relation_key(t.schema, t.name)
            for k in t.constraints:
                fk_key = _sub(tkey, "con", k.name)
                same = next((z for z in tb.constraints if z.name == k.name), None)
                if (
                    k.kind == "foreign key"
                    and same == k
                    and fk_key not in done
                    and target in self.graph_a.get(fk_key, ())
                ):
                    self._drop_constraint(t, k)
                    self._add_constraint(tb, k)
                    done.add(fk_key)

    def _recreate_callers(self, function: str, done: set[str]) -> None:
        """Triggers, defaults, checks and indexes that call `function`, unchanged otherwise."""
        for t in self.a.tables:
            tb = self.b.table(t.schema, t.name)
            if tb is None:
                continue
            key = relation_key(t.schema, t.name)
            for x in t.triggers:
                y = next((z for z in tb.triggers if z.name == x.name), None)
                if (
                    y == x
                    and _calls(x.definition, function)
                    and _sub(key, "trg", x.name) not in done
                ):
                    self._drop_trigger(t, x)
                    self._create_trigger(tb, y)
            for c in t.columns:
                after = tb.column(c.name)
                if (
                    after
                    and c.default
                    and c.default == after.default
                    and _calls(c.default, function)
                ):
                    target = f"ALTER TABLE {r.qualified(t.schema, t.name)} ALTER COLUMN {q(c.name)}"
                    label = f"{t.schema}.{t.name}.{c.name}"
                    ckey = _sub(key, "col", c.name)
                    self.add(
                        "drop",
                        "default",
                        label,
                        ckey,
                        [f"{target} DROP DEFAULT;"],
                        parent=key,
                        before=c,
                    )
                    self.add(
                        "create",
                        "default",
                        label,
                        ckey,
                        [f"{target} SET DEFAULT {after.default};"],
                        parent=key,
                        after=after,
                    )
            for k in t.constraints:
                same = next((z for z in tb.constraints if z.name == k.name), None)
                if same == k and _calls(k.definition, function):
                    self._drop_constraint(t, k)
                    self._add_constraint(tb, k)
            for i in t.indexes:
                same_i = next((z for z in tb.indexes if z.name == i.name), None)
                if same_i == i and _calls(i.definition, function):
                    self._drop_index(t, i)
                    self._create_index(tb, i)

    # privileges -----------------------------------------------------------------------------------

    def _privileges(self, old: Iterable[Privilege], new: Iterable[Privilege], kind: str) -> None:
        before = {p.statement for p in old}
        after = {p.statement for p in new}
        for p in sorted(new, key=lambda x: x.statement):
            if p.statement not in before:
                key = f"{kind}:{p.statement}"
                self.add(
                    "create",
                    kind,
                    f"{p.schema}.{p.name}",
                    key,
                    [Step(p.statement + ";", (_h("authorization", "changes who may do what"),))],
                    after=p,
                    runs_after=(relation_key(p.schema, p.name),),
                )
        if kind == "owner":
            return
        for p in sorted(old, key=lambda x: x.statement):
            if p.statement not in after:
                inverse = _inverse_privilege(p.statement)
                if inverse:
                    self.add(
                        "drop",
                        kind,
                        f"{p.schema}.{p.name}",
                        f"{kind}:{p.statement}",
                        [Step(inverse + ";", (_h("authorization", "changes who may do what"),))],
                        before=p,
                    )


def _identity_set(options: str) -> str:
    parts = re.findall(
        r"(START WITH \S+|INCREMENT BY \S+|MINVALUE \S+|MAXVALUE \S+|CACHE \S+|NO CYCLE|CYCLE)",
        options,
    )
    return " ".join(f"SET {p}" for p in parts)


def _inverse_privilege(statement: str) -> str | None:
    grant = re.match(r"GRANT (.+) ON (.+) TO (\S+)( WITH GRANT OPTION)?$", statement)
    if grant:
        return f"REVOKE {grant[1]} ON {grant[2]} FROM {grant[3]}"
    revoke = re.match(r"REVOKE (.+) ON (.+) FROM (\S+)$", statement)
    if revoke:
        return f"GRANT {revoke[1]} ON {revoke[2]} TO {revoke[3]}"
    return None


def _replaceable_view(a: View, b: View) -> bool:
    """CREATE OR REPLACE VIEW can do it: a plain view whose query changes, keeping its columns
    (names, types, order) and maybe adding some at the end; nothing else about it changes."""
    old, new = attr(a.attrs, "columns", ()), attr(b.attrs, "columns", ())
    return (
        not a.materialized
        and not b.materialized
        and a.definition != b.definition
        and bool(old)
        and tuple(new[: len(old)]) == tuple(old)
        and attr(a.attrs, "options") == attr(b.attrs, "options")
        and a.column_comments == b.column_comments
        and a.indexes == b.indexes
    )


def _rename_steps(old: tuple[str, str], new: tuple[str, str]) -> list[Step | str]:
    """RENAME TO and/or SET SCHEMA moving table `old` to `new`."""
    hazard = (_h("backwards_incompatible", f"code using {old[0]}.{old[1]} must use the new name"),)
    steps: list[Step | str] = []
    current = old
    if old[1] != new[1]:
        steps.append(Step(f"ALTER TABLE {r.qualified(*old)} RENAME TO {q(new[1])};", hazard))
        current = (old[0], new[1])
    if old[0] != new[0]:
        steps.append(Step(f"ALTER TABLE {r.qualified(*current)} SET SCHEMA {q(new[0])};", hazard))
    return steps


def _downgrade(name: str, old: str, new: str) -> tuple[Hazard, ...]:
    """An unsupported hazard when `new` is an older extension version than `old`."""

    def parts(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", version))

    if parts(new) >= parts(old):
        return ()
    return (
        _h(
            "unsupported",
            f"{name} {old} -> {new} is a downgrade; extensions rarely ship a path back "
            "(restore the objects from a backup or drop and recreate the extension)",
        ),
    )


def _parents_of(t: Table) -> list[str]:
    """Keys of the tables `t` is a partition or an inheritance child of."""
    out = []
    parent = attr(t.attrs, "partition_of")
    if parent:
        out.append(relation_key(*parent))
    out += ["rel:" + r._unquote(p) for p in attr(t.attrs, "inherits", ())]
    return out


def _uses_type(column_type: str, t: UserType) -> bool:
    bare = column_type.removesuffix("[]")
    return bare in (t.name, f"{t.schema}.{t.name}", r.qualified(t.schema, t.name), q(t.name))


def _returns(x: Routine) -> str | None:
    match = re.search(r"^\s*RETURNS (.*)$", x.definition, re.MULTILINE)
    return match[1].strip() if match else None


def _replaceable(definition: str) -> str:
    text = definition.rstrip().rstrip(";")
    text = re.sub(r"^CREATE (FUNCTION|PROCEDURE)", r"CREATE OR REPLACE \1", text)
    return text + ";"


def _calls(definition: str, function: str) -> bool:
    schema, _, name = function.partition(".")
    return bool(re.search(rf"\b(?:{re.escape(schema)}\.)?{re.escape(name)}\(", definition))


def plan(a: Model, b: Model, options: Options) -> tuple[list[Change], Graph, Graph]:
    """The changes from `a` to `b`, and the dependency graphs that order them."""
    planner = Planner(a, b, options)
    return planner.plan(), planner.graph_a, planner.graph_b


def prologue(options: Options) -> list[str]:
    return [f"SET lock_timeout = {r.literal(options.lock_timeout)};"] if options.online else []

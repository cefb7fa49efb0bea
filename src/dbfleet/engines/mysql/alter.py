"""MariaDB/MySQL: the changes (and their SQL and hazards) that turn one schema model into another.

Changes to one table are grouped into one ALTER TABLE (one copy of the table instead of one per
change); foreign keys are dropped before and added after, in ALTER TABLEs of their own, because
they depend on keys of other tables. Column order is kept with FIRST / AFTER.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from dbfleet.diff.change import Change, Hazard, Options, Step
from dbfleet.diff.pair import pair_up
from dbfleet.engines.mysql import render as r
from dbfleet.errors import DbfleetError
from dbfleet.schema.model import (
    Column,
    Constraint,
    Event,
    Model,
    Routine,
    Table,
    attr,
    without_attrs,
)

q = r.q
Graph = dict[str, set[str]]


def _key(kind: str, schema: str, name: str) -> str:
    return f"{kind}:{schema}.{name.lower()}"


def _rel(schema: str, name: str) -> str:
    return _key("rel", schema, name)


def _table_id(t: Table) -> tuple[str, str]:
    """A table's key: its schema and name, in any letter case (as MariaDB matches names)."""
    return (t.schema, t.name.lower())


def _fk_key(t: Table, name: str) -> str:
    return f"{_rel(t.schema, t.name)}/fk:{name}"


def graph(model: Model) -> Graph:
    out: Graph = {}
    tables = {_rel(t.schema, t.name): t for t in model.tables}
    for t in model.tables:
        key = _rel(t.schema, t.name)
        out[key] = set()
        for c in t.constraints:
            if c.kind == "foreign key" and c.references:
                out[_fk_key(t, c.name)] = {_rel(c.references[0] or t.schema, c.references[1])}
        for tr in t.triggers:
            out[_key("trigger", t.schema, tr.name)] = {key}
    for v in model.views:
        key = _rel(v.schema, v.name)
        named = {_rel(v.schema, n) for n in attr(v.attrs, "depends_on", ())}
        # Tables it reads: any table name in the query (an over-approximation, for order only).
        text = v.definition.lower()
        named |= {k for k, t in tables.items() if f"`{t.name.lower()}`" in text}
        out[key] = named - {key}
    for x in model.routines:
        out[_key("routine", x.schema, f"{x.kind} {x.name}")] = set()
    return out


def _fk_sql(t: Table, c: Constraint) -> str:
    return f"ALTER TABLE {r.qualified(t.schema, t.name)} ADD CONSTRAINT {q(c.name)} {c.definition};"


class Planner:
    def __init__(self, a: Model, b: Model, options: Options) -> None:
        self.a, self.b, self.options = a, b, options
        self.changes: list[Change] = []
        self.column_renames: dict[str, dict[str, str]] = {}
        self.table_renames: dict[str, str] = {}
        tables = {t.name.lower(): t.name for t in a.tables}
        for old, new in options.renames:
            parts = old.split(".")
            if len(parts) == 1 and parts[0].lower() in tables:
                self.table_renames[tables[parts[0].lower()]] = new
            elif len(parts) == 2 and parts[0].lower() in tables:
                self.column_renames.setdefault(parts[0].lower(), {})[parts[1]] = new
            else:
                raise DbfleetError(
                    f"--rename {old}={new}: no table or column {old} in the old schema",
                    hint="name a table as table and a column as table.column",
                )

    def add(
        self, action: str, kind: str, name: str, key: str, steps: Iterable[Step | str], **kw: object
    ) -> None:
        built = tuple(s if isinstance(s, Step) else Step(s) for s in steps)
        if built:
            self.changes.append(Change(action, kind, name, key, built, **kw))  # type: ignore[arg-type]

    def plan(self) -> list[Change]:
        # Columns whose type changes: MariaDB refuses that while a foreign key uses them, so
        # those foreign keys are dropped first and added again afterwards.
        self.retyped: set[tuple[str, str]] = set()
        for t in self.a.tables:
            after = self.b.table(t.schema, t.name)
            for c in t.columns if after else ():
                other = after.column(c.name) if after else None
                if other is not None and other.type != c.type:
                    self.retyped.add((t.name.lower(), c.name.lower()))
        self._sequences()
        self._tables()
        self._programs("routine", self.a.routines, self.b.routines)
        self._views()
        self._programs("event", self.a.events, self.b.events)
        return self.changes

    # tables -------------------------------------------------------------------------------------

    def _tables(self) -> None:
        renamed = {
            _table_id(t): (t.schema, self.table_renames[t.name].lower())
            for t in self.a.tables
            if t.name in self.table_renames
        }
        tables = pair_up(self.a.tables, self.b.tables, _table_id, renamed=renamed)
        for t in tables.dropped:
            for c in t.constraints:
                if c.kind == "foreign key":
                    self._drop_fk(t, c)
            self.add(
                "drop",
                "table",
                t.name,
                _rel(t.schema, t.name),
                [f"DROP TABLE {r.qualified(t.schema, t.name)};"],
                before=t,
                hazards=(Hazard("data_loss", f"drops table {t.name} and its rows"),),
            )
        for t in tables.added:
            self.add("create", "table", t.name, _rel(t.schema, t.name), [r.table_sql(t)], after=t)
            for c in t.constraints:
                if c.kind == "foreign key":
                    self._add_fk(t, c)
            for tr in t.triggers:
                self._create_trigger(t, tr.name, tr.definition)
        for a, b in tables.renamed:
            self.add(
                "alter",
                "table",
                f"{a.name} -> {b.name}",
                _rel(b.schema, b.name),
                [
                    Step(
                        f"RENAME TABLE {r.qualified(a.schema, a.name)} TO {q(b.name)};",
                        (Hazard("backwards_incompatible", f"code using {a.name} breaks"),),
                    )
                ],
                runs_after=(_rel(a.schema, a.name),),
            )
            self._alter_table(replace(a, name=b.name), b)
        for a, b in tables.kept:
            self._alter_table(a, b)

    def _drop_fk(self, t: Table, c: Constraint) -> None:
        self.add(
            "drop",
            "constraint",
            f"{t.name}.{c.name}",
            _fk_key(t, c.name),
            [f"ALTER TABLE {r.qualified(t.schema, t.name)} DROP FOREIGN KEY {q(c.name)};"],
            parent=_rel(t.schema, t.name),
            before=c,
        )

    def _add_fk(self, t: Table, c: Constraint, existing: bool = False) -> None:
        hazards = (
            (Hazard("full_scan", f"checks every row of {t.name} (and may copy the table)"),)
            if existing
            else ()
        )
        self.add(
            "create",
            "constraint",
            f"{t.name}.{c.name}",
            _fk_key(t, c.name),
            [Step(_fk_sql(t, c), hazards)],
            parent=_rel(t.schema, t.name),
            after=c,
        )

    def _alter_table(self, a: Table, b: Table) -> None:
        name = r.qualified(b.schema, b.name)
        renames = self.column_renames.get(a.name.lower(), {})
        old_fks = {c.name: c for c in a.constraints if c.kind == "foreign key"}
        new_fks = {c.name: c for c in b.constraints if c.kind == "foreign key"}
        fk_drops = []
        touched = {
            n
            for n, c in old_fks.items()
            if any((a.name.lower(), x.lower()) in self.retyped for x in c.columns)
            or (
                c.references
                and any(
                    (c.references[1].lower(), x.lower()) in self.retyped for x in c.references[2]
                )
            )
        }
        for n in sorted(old_fks):
            if old_fks[n] != new_fks.get(n) or n in touched:
                self._drop_fk(b, old_fks[n])
                fk_drops.append(_fk_key(b, n))
        for n in sorted(new_fks):
            if new_fks[n] != old_fks.get(n) or n in touched:
                self._add_fk(b, new_fks[n], existing=True)
        clauses: list[str] = []
        hazards: list[Hazard] = []
        checks_a = {c.name: c for c in a.constraints if c.kind == "check"}
        checks_b = {c.name: c for c in b.constraints if c.kind == "check"}
        # A column's own CHECK is part of its definition: MODIFY COLUMN replaces or removes it.
        column_checks = {n for n, c in checks_b.items() if attr(c.attrs, "column_level")}
        column_checks |= {n for n, c in checks_a.items() if attr(c.attrs, "column_level")}
        for n in sorted(checks_a):
            if checks_a[n] != checks_b.get(n) and not attr(checks_a[n].attrs, "column_level"):
                clauses.append(f"DROP CONSTRAINT {q(n)}")
        old_idx = {i.name: i for i in a.indexes}
        new_idx = {i.name: i for i in b.indexes}
        for n in sorted(old_idx):
            if old_idx[n] != new_idx.get(n):
                clauses.append(f"DROP INDEX {q(n)}")
                hazards.append(Hazard("index_dropped", f"queries using {n} may slow down"))
        pk_a = next((c for c in a.constraints if c.kind == "primary key"), None)
        pk_b = next((c for c in b.constraints if c.kind == "primary key"), None)
        if pk_a is not None and pk_a != pk_b:
            clauses.append("DROP PRIMARY KEY")
        # columns
        old_cols = {c.name.lower(): c for c in a.columns}
        new_cols = {c.name.lower(): c for c in b.columns}
        applied: dict[str, str] = {}
        for old_name, new_name in renames.items():
            col = old_cols.get(old_name.lower())
            if (
                col is not None
                and new_name.lower() in new_cols
                and new_name.lower() not in old_cols
            ):
                del old_cols[old_name.lower()]
                applied[old_name.lower()] = new_name.lower()
                target = new_cols[new_name.lower()]
                clauses.append(f"CHANGE COLUMN {q(col.name)} {self._column(b, target)}")
                hazards.append(
                    Hazard("backwards_incompatible", f"code using {col.name} must use {new_name}")
                )
                old_cols[new_name.lower()] = target
        dropped = [c for k, c in old_cols.items() if k not in new_cols]
        for c in dropped:
            clauses.append(f"DROP COLUMN {q(c.name)}")
            hazards.append(Hazard("data_loss", f"drops column {b.name}.{c.name} and its values"))
            hazards += [
                Hazard("possible_rename", f"{c.name} and new column {n.name} look alike")
                for k, n in new_cols.items()
                if k not in old_cols and n.type == c.type
            ]
        # Order after drops and adds-at-the-end, to know which columns need FIRST/AFTER.
        current = [applied.get(c.name.lower(), c.name.lower()) for c in a.columns]
        current = [n for n in current if n in new_cols]
        wanted = [c.name.lower() for c in b.columns]
        # Columns that follow the table's default collation keep their old one when the table's
        # changes: MODIFY them so that they follow again.
        recollate = set()
        if (attr(a.attrs, "charset"), attr(a.attrs, "collation")) != (
            attr(b.attrs, "charset"),
            attr(b.attrs, "collation"),
        ):
            recollate = {
                c.name.lower() for c in b.columns if c.collation is None and _TEXTUAL.match(c.type)
            }
        placed: list[str] = []
        for i, col in enumerate(b.columns):
            key = col.name.lower()
            where = f" AFTER {q(b.columns[i - 1].name)}" if i else " FIRST"
            if key not in old_cols:
                clauses.append(f"ADD COLUMN {self._column(b, col)}{where}")
                if (
                    not col.nullable
                    and col.default is None
                    and not attr(col.attrs, "auto_increment")
                ):
                    hazards.append(
                        Hazard("backwards_incompatible", f"inserts that do not set {col.name} fail")
                    )
            else:
                before = old_cols[key]
                moved = _predecessor(current, key) != _predecessor(wanted, key)
                check_changed = col.name in column_checks and checks_a.get(
                    col.name
                ) != checks_b.get(col.name)
                if _column_changed(before, col) or moved or check_changed or key in recollate:
                    clauses.append(f"MODIFY COLUMN {self._column(b, col)}{where if moved else ''}")
                    if before.type != col.type or before.collation != col.collation:
                        hazards.append(
                            Hazard("table_rewrite", f"{before.type} -> {col.type} copies {b.name}")
                        )
                    if _narrower(before.type, col.type):
                        hazards.append(
                            Hazard("data_loss", f"{before.type} -> {col.type} may cut values")
                        )
            placed.append(key)
        if pk_b is not None and pk_a != pk_b:
            clauses.append(f"ADD {pk_b.definition}")
        for n in sorted(new_idx):
            if new_idx[n] != old_idx.get(n):
                clauses.append(f"ADD {new_idx[n].definition}")
                hazards.append(Hazard("index_build", f"builds {n}"))
        for n in sorted(checks_b):
            if checks_b[n] != checks_a.get(n) and n not in column_checks:
                clauses.append(f"ADD CONSTRAINT {q(n)} {checks_b[n].definition}")
                hazards.append(Hazard("full_scan", f"checks every row of {b.name}"))
        if r.table_options(a) != r.table_options(b):
            # Options left out keep their value: a removed comment must be emptied.
            clauses.append(
                r.table_options(b) + (" COMMENT=''" if a.comment and not b.comment else "")
            )
            if attr(a.attrs, "engine") != attr(b.attrs, "engine"):
                hazards.append(Hazard("table_rewrite", f"{b.name} is copied to another engine"))
        if attr(a.attrs, "partition_by") != attr(b.attrs, "partition_by") or attr(
            a.attrs, "partitions"
        ) != attr(b.attrs, "partitions"):
            text = r.partitioning_sql(b).strip()
            clauses.append(text or "REMOVE PARTITIONING")
            hazards.append(Hazard("table_rewrite", f"{b.name} is repartitioned (copied)"))
        if clauses:
            sql = f"ALTER TABLE {name}\n    " + ",\n    ".join(clauses) + ";"
            self.add(
                "alter",
                "table",
                b.name,
                _rel(b.schema, b.name),
                [Step(sql, tuple(hazards))],
                before=a,
                after=b,
                runs_after=tuple(fk_drops),
            )
        old_tr = {t.name: t for t in a.triggers}
        new_tr = {t.name: t for t in b.triggers}
        for n in sorted(old_tr):
            if old_tr[n] != new_tr.get(n):
                self.add(
                    "drop",
                    "trigger",
                    n,
                    _key("trigger", b.schema, n),
                    [f"DROP TRIGGER {r.qualified(b.schema, n)};"],
                    parent=_rel(b.schema, b.name),
                )
        for n in sorted(new_tr):
            if new_tr[n] != old_tr.get(n):
                self._create_trigger(b, n, new_tr[n].definition)

    def _column(self, t: Table, c: Column) -> str:
        check = next(
            (
                k
                for k in t.constraints
                if k.kind == "check" and attr(k.attrs, "column_level") and k.name == c.name
            ),
            None,
        )
        return r.column_sql(c, check)

    def _create_trigger(self, t: Table, name: str, definition: str) -> None:
        self.add(
            "create",
            "trigger",
            name,
            _key("trigger", t.schema, name),
            [r.program_sql(definition)],
            parent=_rel(t.schema, t.name),
        )

    # other objects ------------------------------------------------------------------------------

    def _sequences(self) -> None:
        old = {(s.schema, s.name): s for s in self.a.sequences}
        new = {(s.schema, s.name): s for s in self.b.sequences}
        for k in sorted(
            old.keys() - new.keys() | {k for k in old if k in new and old[k] != new[k]}
        ):
            self.add(
                "drop",
                "sequence",
                k[1],
                _rel(*k),
                [f"DROP SEQUENCE {r.qualified(*k)};"],
                before=old[k],
            )
        for k in sorted(
            new.keys() - old.keys() | {k for k in new if k in old and old[k] != new[k]}
        ):
            self.add("create", "sequence", k[1], _rel(*k), [r.sequence_sql(new[k])], after=new[k])

    def _views(self) -> None:
        old = {(v.schema, v.name): v for v in self.a.views}
        new = {(v.schema, v.name): v for v in self.b.views}
        for k in sorted(old.keys() - new.keys()):
            self.add(
                "drop",
                "view",
                k[1],
                _rel(*k),
                [f"DROP VIEW {r.qualified(*k)};"],
                before=old[k],
                hazards=(Hazard("backwards_incompatible", f"queries on {k[1]} break"),),
            )
        for k in sorted(new.keys()):
            before = old.get(k)
            if before is not None and without_attrs(before, "depends_on") == without_attrs(
                new[k], "depends_on"
            ):
                continue
            sql = r.view_sql(new[k]).replace("CREATE ", "CREATE OR REPLACE ", 1)
            self.add(
                "alter" if before else "create",
                "view",
                k[1],
                _rel(*k),
                [sql],
                before=before,
                after=new[k],
            )

    def _programs(
        self,
        kind: str,
        old_items: Iterable[Routine | Event],
        new_items: Iterable[Routine | Event],
    ) -> None:
        def ident(x: Routine | Event) -> tuple[str, str]:
            return (getattr(x, "schema", ""), f"{getattr(x, 'kind', kind)} {x.name}")

        old = {ident(x): x for x in old_items}
        new = {ident(x): x for x in new_items}
        for k in sorted(old):
            if old[k] != new.get(k):
                what = (
                    "PROCEDURE"
                    if k[1].startswith("procedure ")
                    else ("EVENT" if kind == "event" else "FUNCTION")
                )
                self.add(
                    "drop",
                    kind,
                    k[1],
                    _key(kind, k[0], k[1]),
                    [f"DROP {what} {r.qualified(k[0], old[k].name)};"],
                    before=old[k],
                )
        for k in sorted(new):
            if new[k] != old.get(k):
                self.add(
                    "create",
                    kind,
                    k[1],
                    _key(kind, k[0], k[1]),
                    [r.program_sql(new[k].definition)],
                    after=new[k],
                )


def _predecessor(order: list[str], key: str) -> str | None:
    if key not in order:
        return None
    i = order.index(key)
    return order[i - 1] if i else ""


def _column_changed(a: Column, b: Column) -> bool:
    return replace(a, name=b.name) != b


_TEXTUAL = re.compile(r"^(var)?char|^(tiny|medium|long)?text|^enum|^set", re.IGNORECASE)


def _narrower(old: str, new: str) -> bool:
    values = re.compile(r"^(enum|set)\((.*)\)$", re.IGNORECASE)
    va, vb = values.match(old), values.match(new)
    if va and vb:  # a value taken away: rows holding it lose it
        return not set(re.findall(r"'((?:[^']|'')*)'", va[2])) <= set(
            re.findall(r"'((?:[^']|'')*)'", vb[2])
        )

    size = re.compile(r"^(\w+)\((\d+)")
    ma, mb = size.match(old), size.match(new)
    if ma and mb and ma[1] == mb[1]:
        return int(mb[2]) < int(ma[2])
    order = ["tinyint", "smallint", "mediumint", "int", "bigint"]
    ta, tb = old.split("(")[0].split()[0], new.split("(")[0].split()[0]
    return ta in order and tb in order and order.index(tb) < order.index(ta)


def plan(a: Model, b: Model, options: Options) -> tuple[list[Change], Graph, Graph]:
    planner = Planner(a, b, options)
    return planner.plan(), graph(a), graph(b)


def prologue(options: Options) -> list[str]:
    return []

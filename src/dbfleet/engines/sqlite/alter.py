"""SQLite: the changes (and their SQL and hazards) that turn one schema model into another.

SQLite alters little in place, so a table whose definition changes is rebuilt, keeping the exact
CREATE TABLE text of the new schema: the old table is renamed aside (with legacy_alter_table on,
so that views, triggers and other tables' foreign keys keep naming the table, not the aside
copy), the new one is created, the rows are copied, the old one is dropped, and its indexes and
triggers are created again. Foreign keys must be off, as they are on dbfleet's connections (with
them on, dropping the old table would run ON DELETE actions); the script checks that first.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import replace

from dbfleet.diff.change import Change, Hazard, Options, Step
from dbfleet.diff.pair import by_name, pair_up
from dbfleet.engines.sqlite import render as r
from dbfleet.engines.sqlite.inspect import fold, tokens
from dbfleet.errors import DbfleetError
from dbfleet.schema.model import Index, Model, Table, Trigger, View, attr, without_attrs

q = r.q
Graph = dict[str, set[str]]

_GUARD = (
    "CREATE TEMP TABLE dbfleet_rebuild_guard "
    "(foreign_keys_must_be_off INTEGER CHECK (foreign_keys_must_be_off = 0));",
    "INSERT INTO dbfleet_rebuild_guard SELECT foreign_keys FROM pragma_foreign_keys;",
    "DROP TABLE dbfleet_rebuild_guard;",
)


def _folded_name(x: Table | View | Trigger) -> str:
    """The key of a table, view or trigger: SQLite matches their names case-insensitively."""
    return fold(x.name)


def _table_key(name: str) -> str:
    return f"table:{fold(name)}"


def _view_key(name: str) -> str:
    return f"view:{fold(name)}"


def _index_key(name: str) -> str:
    return f"index:{fold(name)}"


def _trigger_key(name: str) -> str:
    return f"trigger:{fold(name)}"


def _names_in(sql: str) -> set[str]:
    return {fold(t.name) for t in tokens(sql) if t.kind in ("word", "quoted")}


def graph(model: Model) -> Graph:
    """Views and triggers need the tables and views they name; indexes need their table."""
    tables = {fold(t.name) for t in model.tables}
    views = {fold(v.name) for v in model.views}

    def named(sql: str) -> set[str]:
        words = _names_in(sql)
        return {_table_key(n) for n in words & tables} | {_view_key(n) for n in words & views}

    out: Graph = {}
    for t in model.tables:
        out[_table_key(t.name)] = set()
        for i in t.indexes:
            out[_index_key(i.name)] = {_table_key(t.name)}
        for tr in t.triggers:
            out[_trigger_key(tr.name)] = named(tr.definition) | {_table_key(t.name)}
    for v in model.views:
        out[_view_key(v.name)] = named(v.definition) - {_view_key(v.name)}
        for tr in v.triggers:
            out[_trigger_key(tr.name)] = named(tr.definition) | {_view_key(v.name)}
    return out


def _shape(table: Table) -> Table:
    """The table without what is created separately (indexes, triggers)."""
    return replace(table, indexes=(), triggers=())


class Planner:
    def __init__(self, a: Model, b: Model, options: Options) -> None:
        self.a, self.b, self.options = a, b, options
        self.changes: list[Change] = []
        self.renames = self._renames()

    def _renames(self) -> dict[str, dict[str, str]]:
        """--rename table.old=new for columns (table renames: main.old=new or old=new)."""
        out: dict[str, dict[str, str]] = {}
        self.table_renames: dict[str, str] = {}
        tables = {fold(t.name): t.name for t in self.a.tables}
        for old, new in self.options.renames:
            parts = old.split(".")
            if parts[0] == "main" and len(parts) > 1:
                parts = parts[1:]
            if len(parts) == 1 and fold(parts[0]) in tables:
                self.table_renames[tables[fold(parts[0])]] = new
            elif len(parts) == 2 and fold(parts[0]) in tables:
                out.setdefault(fold(parts[0]), {})[parts[1]] = new
            else:
                raise DbfleetError(
                    f"--rename {old}={new}: no table or column {old} in the old schema",
                    hint="name a table as table and a column as table.column",
                )
        return out

    def add(
        self,
        action: str,
        kind: str,
        name: str,
        key: str,
        steps: Iterable[Step | str],
        **kw: object,
    ) -> None:
        built = tuple(s if isinstance(s, Step) else Step(s) for s in steps)
        if built:
            self.changes.append(Change(action, kind, name, key, built, **kw))  # type: ignore[arg-type]

    def plan(self) -> list[Change]:
        renamed = {fold(o): fold(n) for o, n in self.table_renames.items()}
        tables = pair_up(self.a.tables, self.b.tables, _folded_name, renamed=renamed)
        for t in tables.dropped:
            self.add(
                "drop",
                "table",
                t.name,
                _table_key(t.name),
                [f"DROP TABLE {q(t.name)};"],
                before=t,
                hazards=(Hazard("data_loss", f"drops table {t.name} and its rows"),),
            )
        for t in tables.added:
            self.add("create", "table", t.name, _table_key(t.name), [r.table_sql(t)], after=t)
            for i in t.indexes:
                self._create_index(t, i)
            for tr in t.triggers:
                self._create_trigger(t, tr)
        for a, b in tables.renamed:
            self.add(
                "alter",
                "table",
                f"{a.name} -> {b.name}",
                f"{_table_key(b.name)}#renamed",
                [
                    Step(
                        f"ALTER TABLE {q(a.name)} RENAME TO {q(b.name)};",
                        (Hazard("backwards_incompatible", f"code using {a.name} breaks"),),
                    )
                ],
                before=a,
                after=b,
                runs_after=(_table_key(a.name),),
            )
            renamed_a = replace(without_attrs(a, "sql"), name=b.name)  # its CREATE text is stale
            self._alter_table(renamed_a, b, after=(f"{_table_key(b.name)}#renamed",))
        for a, b in tables.kept:
            self._alter_table(a, b)
        self._views()
        return self.changes

    def _alter_table(self, a: Table, b: Table, after: tuple[str, ...] = ()) -> None:
        if _shape(a) != _shape(b):
            self._rebuild(a, b, after)
            for tr in b.triggers:
                self._create_trigger(b, tr)
            for i in b.indexes:
                self._create_index(b, i)
            return
        indexes = pair_up(a.indexes, b.indexes, by_name, same=operator.eq)
        for i in indexes.dropped:
            self._drop_index(b, i)
        for i in indexes.added:
            self._create_index(b, i)
        for x, y in indexes.kept:
            self._drop_index(b, x)
            self._create_index(b, y)
        self._triggers(a, b)

    def _rebuild(self, a: Table, b: Table, after: tuple[str, ...] = ()) -> None:
        renames = self.renames.get(fold(b.name), {})
        aside = f"{b.name}__dbfleet_old"
        copied: list[tuple[str, str]] = []  # (old column, new column)
        new_columns = {fold(c.name): c for c in b.columns}
        for c in a.columns:
            target = new_columns.get(fold(renames.get(c.name, c.name)))
            if target is not None and not c.generated and not target.generated:
                copied.append((c.name, target.name))
        lost = [
            c.name
            for c in a.columns
            if fold(renames.get(c.name, c.name)) not in new_columns and not c.generated
        ]
        hazards = [
            Hazard(
                "table_rewrite",
                f"{b.name} is rebuilt: created anew, rows copied, indexes and triggers recreated",
            )
        ]
        if lost:
            hazards.append(Hazard("data_loss", f"drops column(s) {', '.join(lost)} of {b.name}"))
            old_types = {fold(c.name): c.type for c in a.columns}
            for c in b.columns:
                twins = [n for n in lost if old_types[fold(n)] == c.type]
                if fold(c.name) not in old_types and twins:
                    hazards.append(
                        Hazard(
                            "possible_rename",
                            f"{twins[0]} and new column {c.name} look alike: "
                            f"--rename {b.name}.{twins[0]}={c.name} keeps the values",
                        )
                    )
        kept_indexes = {fold(i.name) for i in b.indexes}
        hazards += [
            Hazard("index_dropped", f"queries on {b.name} that used {i.name} may slow down")
            for i in a.indexes
            if fold(i.name) not in kept_indexes
        ]
        kept = {fold(n) for _, n in copied}
        required = [
            c.name
            for c in b.columns
            if fold(c.name) not in kept
            and not c.nullable
            and c.default is None
            and not c.generated
            and not attr(c.attrs, "autoincrement")
        ]
        if required:
            hazards.append(
                Hazard(
                    "backwards_incompatible",
                    f"new NOT NULL column(s) {', '.join(required)} without a default: "
                    "the copy fails if the table has rows",
                )
            )
        old_list = ", ".join(q(o) for o, _ in copied)
        new_list = ", ".join(q(n) for _, n in copied)
        steps: list[Step | str] = [
            *_GUARD,
            "PRAGMA legacy_alter_table = ON;",
            Step(
                f"ALTER TABLE {q(a.name)} RENAME TO {q(aside)};",
                lint_ignore=(f"DF401 {a.name} is rebuilt: set aside here, recreated below",),
            ),
            r.table_sql(b),
        ]
        if copied:
            steps.append(
                Step(
                    f"INSERT INTO {q(b.name)} ({new_list}) SELECT {old_list} FROM {q(aside)};",
                    tuple(hazards),
                )
            )
        drop_aside = Step(
            f"DROP TABLE {q(aside)};",
            # Not data loss when every column was copied; a dropped one leaves DF101 to say so.
            lint_ignore=(f"DF101 the old {a.name}, its rows copied into the rebuilt one",)
            if len(copied) == len(a.columns)
            else (),
        )
        steps += [drop_aside, "PRAGMA legacy_alter_table = OFF;"]
        self.add(
            "alter",
            "table",
            b.name,
            _table_key(b.name),
            steps,
            before=a,
            after=b,
            hazards=() if copied else tuple(hazards),
            reason="SQLite cannot alter this in place: the table is rebuilt",
            runs_after=after,
        )

    def _drop_index(self, t: Table, i: Index) -> None:
        self.add(
            "drop",
            "index",
            i.name,
            _index_key(i.name),
            [
                Step(
                    f"DROP INDEX {q(i.name)};",
                    (Hazard("index_dropped", f"queries on {t.name} may slow down"),),
                )
            ],
            parent=_table_key(t.name),
            before=i,
        )

    def _create_index(self, t: Table, i: Index) -> None:
        self.add(
            "create",
            "index",
            i.name,
            _index_key(i.name),
            [Step(f"{i.definition};", (Hazard("index_build", f"builds {i.name}"),))],
            parent=_table_key(t.name),
            after=i,
        )

    def _triggers(self, a: Table | View, b: Table | View) -> None:
        triggers = pair_up(a.triggers, b.triggers, _folded_name, same=operator.eq)
        for tr in triggers.dropped:
            self._drop_trigger(b, tr)
        for tr in triggers.added:
            self._create_trigger(b, tr)
        for x, y in triggers.kept:
            self._drop_trigger(b, x)
            self._create_trigger(b, y)

    def _parent(self, t: Table | View) -> str:
        return _view_key(t.name) if isinstance(t, View) else _table_key(t.name)

    def _drop_trigger(self, t: Table | View, tr: Trigger) -> None:
        self.add(
            "drop",
            "trigger",
            tr.name,
            _trigger_key(tr.name),
            [f"DROP TRIGGER {q(tr.name)};"],
            parent=self._parent(t),
            before=tr,
        )

    def _create_trigger(self, t: Table | View, tr: Trigger) -> None:
        self.add(
            "create",
            "trigger",
            tr.name,
            _trigger_key(tr.name),
            [f"{tr.definition};"],
            parent=self._parent(t),
            after=tr,
        )

    def _views(self) -> None:
        views = pair_up(self.a.views, self.b.views, _folded_name)
        for v in views.dropped:
            self._drop_view(v, "")
        for v in views.added:
            self._create_view(v)
        for a, b in views.kept:
            if replace(a, triggers=()) != replace(b, triggers=()):
                self._drop_view(a, "its definition changes")
                self._create_view(b)
            else:
                self._triggers(a, b)

    def _drop_view(self, v: View, reason: str) -> None:
        hazard = (
            Hazard("rebuild", f"{v.name} is dropped and created again")
            if reason
            else Hazard("backwards_incompatible", f"queries on {v.name} break")
        )
        self.add(
            "drop",
            "view",
            v.name,
            _view_key(v.name),
            [f"DROP VIEW {q(v.name)};"],
            before=v,
            hazards=(hazard,),
            reason=reason,
        )

    def _create_view(self, v: View) -> None:
        self.add("create", "view", v.name, _view_key(v.name), [r.view_sql(v)], after=v)
        for tr in v.triggers:
            self._create_trigger(v, tr)


def plan(a: Model, b: Model, options: Options) -> tuple[list[Change], Graph, Graph]:
    planner = Planner(a, b, options)
    return planner.plan(), graph(a), graph(b)


def prologue(options: Options) -> list[str]:
    return []

"""The diff law on real databases: load A, apply diff(A, B), inspect: the result is B."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbfleet.dburl import parse_url
from dbfleet.diff import Diff, Options, diff
from dbfleet.engines import connect, inspect
from dbfleet.schema.model import Model


def run_script(url: str, sql: str) -> None:
    """Run every statement of `sql` on `url`, one at a time."""
    with connect(parse_url(url)) as conn:
        for statement in conn.dialect.split(sql):
            conn.execute(statement.text)


def model_of(url: str) -> Model:
    """The schema as `dbfleet diff` sees it by default: without owners and privileges."""
    from dbfleet.schema.select import select

    with connect(parse_url(url)) as conn:
        return select(inspect(conn))


def apply_diff(url: str, d: Diff) -> None:
    """Run the diff as a migration file would be run: the script, cut by the engine's splitter."""
    run_script(url, "\n".join(d.statements()))


@dataclass
class LawResult:
    forward: Diff
    backward: Diff


def reset_database(url: str) -> None:
    """Empty a test database of everything a test may create (cheaper than a new database)."""
    parsed = parse_url(url)
    with connect(parsed) as conn:
        if parsed.engine == "postgresql":
            for (name,) in conn.query(
                "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' "
                "AND nspname <> 'information_schema'"
            ):
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')
            for (name,) in conn.query(
                "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'"
            ):
                conn.execute(f'DROP EXTENSION "{name}" CASCADE')
            conn.execute("CREATE SCHEMA public")
            conn.execute("COMMENT ON SCHEMA public IS 'standard public schema'")
        elif parsed.engine == "mysql":
            conn.execute("SET FOREIGN_KEY_CHECKS = 0")
            for name, kind in conn.query(
                "SELECT table_name, table_type FROM information_schema.tables "
                "WHERE table_schema = DATABASE()"
            ):
                what = {"VIEW": "VIEW", "SEQUENCE": "SEQUENCE"}.get(kind, "TABLE")
                conn.execute(f"DROP {what} IF EXISTS `{name}`")
            for name, kind in conn.query(
                "SELECT routine_name, routine_type FROM information_schema.routines "
                "WHERE routine_schema = DATABASE()"
            ):
                conn.execute(f"DROP {kind} IF EXISTS `{name}`")
            for (name,) in conn.query(
                "SELECT event_name FROM information_schema.events WHERE event_schema = DATABASE()"
            ):
                conn.execute(f"DROP EVENT IF EXISTS `{name}`")
            conn.execute("SET FOREIGN_KEY_CHECKS = 1")
        else:
            for name, kind in conn.query(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%'"
            ):
                conn.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')


def check_law(
    new_database: Callable[[str], str],
    engine: str,
    a_sql: str,
    b_sql: str,
    *,
    options: Options | None = None,
    seed: str = "",
    check_rows: str | None = None,
    databases: tuple[str, str] | None = None,
    both_ways: bool = True,
) -> LawResult:
    """Prove diff(A, B) and diff(B, A) on real databases; return both diffs.

    `databases`: two empty databases to use instead of new ones."""
    url_a, url_b = databases or (new_database(engine), new_database(engine))
    run_script(url_a, a_sql)
    run_script(url_b, b_sql)
    model_a, model_b = model_of(url_a), model_of(url_b)
    assert not diff(model_a, model_a, options), "diff(A, A) is not empty"
    assert not diff(model_b, model_b, options.inverted() if options else None), "diff(B, B)"
    forward = diff(model_a, model_b, options)
    backward = diff(model_b, model_a, options.inverted() if options else None)
    if seed:
        run_script(url_a, seed)
    rows_before = _rows(url_a, check_rows) if check_rows else None
    kept_before = _shared_rows(url_a, model_a, model_b) if seed else None
    _apply_and_compare(url_a, forward, model_b, "A -> B")
    if check_rows:
        assert _rows(url_a, check_rows) == rows_before, "rows did not survive diff(A, B)"
    if kept_before is not None:
        kept_after = _shared_rows(url_a, model_a, model_b)
        for table, rows in kept_before.items():
            assert kept_after[table] == rows, f"rows of {table} did not survive diff(A, B)"
    if both_ways:
        _apply_and_compare(url_b, backward, model_a, "B -> A")
    return LawResult(forward, backward)


def _shared_rows(url: str, a: Model, b: Model) -> dict[str, list[tuple[str, ...]]]:
    """The values (as text) of the columns tables keep from A to B, per table, sorted."""
    from dbfleet.engines import dialect_for

    q = dialect_for(a.engine).quote_ident
    out = {}
    for table in a.tables:
        after = b.table(table.schema, table.name)
        if after is None:
            continue
        composite = {t.name for t in a.types if t.kind == "composite"}
        names = [
            c.name
            for c in table.columns
            if after.column(c.name)
            and not c.generated
            and c.type.split(".")[-1].strip('"') not in composite  # gains/loses attributes
        ]
        if not names:
            continue
        where = f"{q(table.schema)}.{q(table.name)}" if table.schema else q(table.name)
        if a.engine == "sqlite":
            where = q(table.name)
        elif a.engine == "postgresql":
            where = f"ONLY {where}"  # a parent's own rows, not its partitions' or children's'

        rows = _rows(url, f"SELECT {', '.join(q(n) for n in names)} FROM {where}")
        out[f"{table.schema}.{table.name}"] = sorted(tuple(_text(v) for v in row) for row in rows)
    return out


def _text(value: object) -> str:
    """A value compared across type changes: 1, 1.00 and '1' are the same number."""
    from decimal import Decimal, InvalidOperation

    if value is None:
        return "NULL"
    try:
        return str(Decimal(str(value)).normalize())
    except (InvalidOperation, ValueError):
        return str(value)


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with connect(parse_url(url)) as conn:
        return sorted(conn.query(sql), key=repr)


def _apply_and_compare(url: str, d: Diff, expected: Model, label: str) -> None:
    try:
        apply_diff(url, d)
    except Exception as exc:
        raise AssertionError(
            f"{label} failed: {exc}\n--- script:\n" + "\n".join(d.statements())
        ) from None
    result = model_of(url)
    again = diff(result, expected)
    assert not again, (
        f"{label}: re-diff not empty:\n"
        + "\n".join(again.statements())
        + ("\n--- script was:\n" + "\n".join(d.statements()))
    )

"""The hand-written diff corpus (tests/fixtures/diff/): the law on real databases for every case,
the hazards each case names, and the script pinned in expected.sql.

DBFLEET_UPDATE_EXPECTED=1 rewrites the expected.sql files (review the change before committing).
A case with `one_way = "why"` in case.toml proves only A -> B; diff(B, A) must report the way
back as unsupported.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbfleet.diff import Options
from dbfleet.diff.script import render_sql
from tests.lawcheck import check_law, reset_database

CORPUS = Path(__file__).parent.parent / "fixtures" / "diff"
ENGINES = {"postgres": "postgresql", "sqlite": "sqlite", "mysql": "mysql"}
MARKS = {"postgres": [pytest.mark.postgres], "sqlite": [], "mysql": [pytest.mark.mysql]}
UPDATE = os.environ.get("DBFLEET_UPDATE_EXPECTED") == "1"


def cases() -> list[object]:
    return [
        pytest.param(case, id=f"{folder.name}/{case.name}", marks=MARKS[folder.name])
        for folder in sorted(CORPUS.iterdir())
        if folder.name in ENGINES
        for case in sorted(p for p in folder.iterdir() if p.is_dir())
    ]


def _options(spec: dict[str, object]) -> Options:
    renames = []
    for item in spec.get("renames", []):  # type: ignore[union-attr]
        old, new = str(item).split("=")
        old_parent, _, _ = old.rpartition(".")
        new_parent, _, new_name = new.rpartition(".")
        # A new qualifier is a move (a table to another schema); else only the name changes.
        renames.append((old, new if new_parent != old_parent else new_name))
    return Options(renames=tuple(renames), online=bool(spec.get("online", False)))


_POOL: dict[str, tuple[str, str]] = {}


@pytest.fixture
def databases(request: pytest.FixtureRequest) -> Iterator[object]:
    """Two empty databases of an engine, kept for the session and emptied before each case."""

    def get(engine: str) -> tuple[str, str]:
        if engine == "sqlite":
            folder = request.getfixturevalue("tmp_path")
            return f"sqlite:///{folder / 'a.db'}", f"sqlite:///{folder / 'b.db'}"
        if engine not in _POOL:
            factory = request.getfixturevalue("session_databases")
            _POOL[engine] = (factory(engine), factory(engine))
        for url in _POOL[engine]:
            reset_database(url)
        return _POOL[engine]

    yield get


@pytest.mark.parametrize("case", cases())
def test_corpus_case(case: Path, databases, new_database) -> None:
    engine = ENGINES[case.parent.name]
    spec = tomllib.loads((case / "case.toml").read_text())
    result = check_law(
        new_database,
        engine,
        (case / "a.sql").read_text(),
        (case / "b.sql").read_text(),
        options=_options(spec),
        seed=str(spec.get("seed", "")),
        databases=databases(engine),
        both_ways="one_way" not in spec,
    )
    if "one_way" in spec:  # the way back cannot work: the diff must say so
        assert "unsupported" in {h.code for _, h in result.backward.hazards()}
    if "identical" in case.name:
        assert not result.forward, "an identical case has differences"
        return
    codes = {h.code for _, h in result.forward.hazards()}
    missing = set(spec.get("hazards", [])) - codes
    assert not missing, f"hazards not reported: {sorted(missing)} (got {sorted(codes)})"
    script = render_sql(result.forward, f"{case.parent.name}/{case.name}: a -> b")
    expected = case / "expected.sql"
    if UPDATE or not expected.exists():
        if os.environ.get("CI", "").lower() == "true" and not UPDATE:
            pytest.fail(f"{expected} is missing: run with DBFLEET_UPDATE_EXPECTED=1 and review it")
        expected.write_text(script)
    assert script == expected.read_text(), "the script differs from expected.sql"
